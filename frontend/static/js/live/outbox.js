// The candidate's events waiting for the server's `ack`, kept in sessionStorage so that a reload
// or a dropped connection loses nothing. `client_seq` counts up per tab; the server stores a
// resent `client_seq` once, so sending twice is harmless.

const BURST = 10; // frames per second at most, well under the server's rate limit

export class Outbox {
  constructor(attemptId) {
    this.prefix = `exam.${attemptId}.live.`;
    this.counter = Number(sessionStorage.getItem(`${this.prefix}client_seq`) || 0);
    this.pending = this.read("outbox", []);
    this.sending = false;
    this.channel = null;
    this.onAck = () => {};
  }

  // A tab whose sessionStorage was copied from another (a duplicated tab) starts afresh: the
  // copied events are the other tab's to send.
  static forget(attemptId) {
    for (const name of ["client_seq", "outbox"]) sessionStorage.removeItem(`exam.${attemptId}.live.${name}`);
  }

  read(name, fallback) {
    try { return JSON.parse(sessionStorage.getItem(this.prefix + name)) ?? fallback; } catch (error) { return fallback; }
  }

  save() {
    sessionStorage.setItem(`${this.prefix}client_seq`, String(this.counter));
    sessionStorage.setItem(`${this.prefix}outbox`, JSON.stringify(this.pending));
  }

  // Queue an event and send it if the channel is up; returns its client_seq.
  add(kind, detail = {}) {
    this.counter += 1;
    const entry = { type: "event", client_seq: this.counter, kind, detail };
    this.pending.push(entry);
    this.save();
    if (this.channel && this.channel.open) this.channel.send(entry);
    return entry.client_seq;
  }

  // Everything not yet acknowledged goes out again, a few frames at a time.
  async resend() {
    if (this.sending || !this.channel) return;
    this.sending = true;
    try {
      const batch = [...this.pending];
      for (let index = 0; index < batch.length; index += 1) {
        if (!this.channel.open) break;
        if (this.pending.includes(batch[index])) this.channel.send(batch[index]);
        if ((index + 1) % BURST === 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    } finally {
      this.sending = false;
    }
  }

  // `ack` (stored) or an `error` naming a client_seq (never storable): either way it is done.
  settle(clientSeq) {
    const before = this.pending.length;
    this.pending = this.pending.filter((entry) => entry.client_seq !== clientSeq);
    if (this.pending.length !== before) this.save();
  }
}
