// Webcam snapshots for windows that ask for them: a JPEG every N seconds, posted as the body of
// POST /api/v1/attempts/{id}/snapshots. A refusal is reported, never retried behind the
// candidate's back.

const MAX_WIDTH = 640; // keeps a JPEG at quality 0.7 far below the 512 KiB limit

export class Webcam {
  constructor({ attemptId, video, onUnavailable }) {
    Object.assign(this, { attemptId, video, onUnavailable });
    this.stream = null;
    this.timer = null;
    this.first = null;
    this.starting = false;
    this.refused = false;
  }

  async start(intervalSeconds) {
    if (this.stream || this.starting || this.refused || !intervalSeconds) return;
    this.starting = true;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        const error = new Error("no camera API in this browser");
        error.name = "NotSupportedError";
        throw error;
      }
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
    } catch (error) {
      this.refused = true; // asked once per page: a reload asks again
      this.onUnavailable(error.name || "Error");
      return;
    } finally {
      this.starting = false;
    }
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play().catch(() => {});
    this.first = setTimeout(() => this.capture(), 1500);
    this.timer = setInterval(() => this.capture(), intervalSeconds * 1000);
    for (const track of this.stream.getVideoTracks()) {
      track.addEventListener("ended", () => { this.stop(); this.onUnavailable("TrackEnded"); });
    }
  }

  stop() {
    clearTimeout(this.first);
    clearInterval(this.timer);
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
  }

  async capture() {
    const { videoWidth, videoHeight } = this.video;
    if (!this.stream || !videoWidth || !videoHeight) return;
    const scale = Math.min(1, MAX_WIDTH / videoWidth);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(videoWidth * scale);
    canvas.height = Math.round(videoHeight * scale);
    canvas.getContext("2d").drawImage(this.video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.7));
    if (!blob) return;
    try {
      await fetch(`/api/v1/attempts/${this.attemptId}/snapshots`, {
        method: "POST",
        body: blob,
        headers: {
          Authorization: `Bearer ${Api.token()}`,
          "Content-Type": "image/jpeg",
          "X-Client-Session": Api.clientSession(),
        },
      });
    } catch (error) { /* the next snapshot tries again */ }
  }
}
