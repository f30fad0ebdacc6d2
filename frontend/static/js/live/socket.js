// A reconnecting live channel (docs/PROCTORING.md): a single-use ticket over HTTP with the bearer
// token, then a WebSocket that says `hello` first. It remembers the last `seq` seen per attempt,
// so a reconnect resumes exactly where it left off and a replayed entry is never delivered twice.

const FATAL = new Set([1003, 1007, 1009, 4403, 4409]); // retrying cannot help: stop
const FIRST_DELAY = 1000;
const MAX_DELAY = 15000;

export class LiveChannel {
  // ticket: () => Promise<{url}>; hello: (cursors) => the first frame; defaultAttempt: the key
  // for events that carry no attempt_id (the candidate channel).
  constructor({ ticket, hello, defaultAttempt = null, onMessage = () => {}, onStatus = () => {} }) {
    Object.assign(this, { ticket, hello, defaultAttempt, onMessage, onStatus });
    this.cursors = {};
    this.socket = null;
    this.delay = FIRST_DELAY;
    this.timer = null;
    this.stopped = false;
    this.generation = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  get open() { return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN && this.ready); }

  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  // The cursor of an attempt first seen in a snapshot: set it only if none is known, so entries
  // missed while disconnected are still delivered after a reconnect.
  seed(attemptId, seq) {
    if (!(attemptId in this.cursors) && Number.isInteger(seq)) this.cursors[attemptId] = seq;
  }

  lastSeq(attemptId = this.defaultAttempt) { return this.cursors[attemptId] || 0; }

  // Reconnect now instead of waiting for the backoff (the network came back, the page is visible).
  wake() {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.delay = FIRST_DELAY;
    this.connect();
  }

  // Drop the connection and open a fresh one (e.g. for a new snapshot).
  restart() {
    if (this.stopped) return;
    this.drop();
    this.connect();
  }

  stop(reason = "stopped") {
    this.stopped = true;
    this.drop();
    this.onStatus("stopped", reason);
  }

  drop() {
    clearTimeout(this.timer);
    this.generation += 1;
    if (this.socket) {
      try { this.socket.close(1000); } catch (error) { /* already closed */ }
    }
    this.socket = null;
    this.ready = false;
  }

  async connect() {
    const generation = ++this.generation;
    this.ready = false;
    this.onStatus("connecting");
    let grant;
    try {
      grant = await this.ticket();
    } catch (error) {
      if (generation !== this.generation) return;
      if (error.status && [400, 403, 404, 409, 422].includes(error.status)) { this.stop(error.message); return; }
      this.retry(error.message || "no ticket");
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}${grant.url}`);
    } catch (error) {
      this.retry(error.message);
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => socket.send(JSON.stringify(this.hello(this.cursors))));
    socket.addEventListener("message", (event) => {
      if (generation !== this.generation) return;
      this.receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (generation !== this.generation) return;
      this.socket = null;
      this.ready = false;
      if (FATAL.has(event.code)) this.stop(`closed by the server (${event.code}${event.reason ? `: ${event.reason}` : ""})`);
      else this.retry(`closed (${event.code})`);
    });
  }

  receive(data) {
    let frame;
    try { frame = JSON.parse(data); } catch (error) { return; }
    if (!frame || typeof frame !== "object") return;
    if (!this.ready) {
      this.ready = true;
      this.delay = FIRST_DELAY; // a working connection resets the backoff
      this.onStatus("open");
    }
    if (frame.type === "event" && Number.isInteger(frame.seq)) {
      const key = frame.attempt_id || this.defaultAttempt;
      if (frame.seq <= (this.cursors[key] || 0)) return; // already delivered before a reconnect
      this.cursors[key] = frame.seq;
    }
    this.onMessage(frame);
  }

  retry(reason) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.onStatus("waiting", reason);
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
