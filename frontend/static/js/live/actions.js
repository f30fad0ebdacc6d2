// Proctor actions over the channel: `{type: "action", request_id, attempt_id, action, ...}`,
// each answered by a `result` frame that is shown next to the controls (errors visibly).

const TIMEOUT = 10000;

export class Actions {
  constructor({ channel, output }) {
    Object.assign(this, { channel, output });
    this.pending = new Map(); // request_id -> {label, resolve, timer}
    this.counter = 0;
  }

  show(text, ok) {
    this.output.textContent = text;
    this.output.classList.toggle("error", !ok);
    this.output.classList.toggle("ok", ok);
    this.output.setAttribute("role", ok ? "status" : "alert");
  }

  // Resolves to the result frame (ok or not); never rejects.
  run(attemptId, action, fields = {}, label = action) {
    const requestId = `r${Date.now().toString(36)}-${(this.counter += 1)}`;
    const frame = { type: "action", request_id: requestId, attempt_id: attemptId, action, ...fields };
    if (!this.channel.open || !this.channel.send(frame)) {
      const result = { ok: false, error: "not_connected", detail: "The live connection is down; try again in a moment." };
      this.report(label, result);
      return Promise.resolve(result);
    }
    this.show(`${label}: sending...`, true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(requestId, { ok: false, error: "timeout", detail: "no answer from the server" }), TIMEOUT);
      this.pending.set(requestId, { label, resolve, timer });
    });
  }

  // A `result` frame from the channel.
  handle(frame) { this.finish(frame.request_id, frame); }

  finish(requestId, result) {
    const waiting = this.pending.get(requestId);
    if (!waiting) return;
    this.pending.delete(requestId);
    clearTimeout(waiting.timer);
    this.report(waiting.label, result);
    waiting.resolve(result);
  }

  report(label, result) {
    if (result.ok) { this.show(`${label}: done.`, true); return; }
    const detail = typeof result.detail === "string" ? result.detail : result.detail ? JSON.stringify(result.detail) : "";
    this.show(`${label} failed: ${detail || result.error || "unknown error"}${result.error && detail ? ` (${result.error})` : ""}`, false);
  }
}
