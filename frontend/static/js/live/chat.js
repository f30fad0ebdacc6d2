// A chat box: a log of both sides' `chat` entries and a field to type into. Used by the
// candidate's page and by the proctor console's detail panel.

import { el, timeOfDay } from "./dom.js";

const MAX_LENGTH = 1000;

export class ChatBox {
  // onSend(text) returns true (or a promise of true) once the message is on its way.
  constructor({ log, input, button, onSend }) {
    Object.assign(this, { log, input, button, onSend });
    this.seen = new Set();
    this.input.maxLength = MAX_LENGTH;
    const send = async (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.button.disabled = true;
      try {
        if (await this.onSend(text.slice(0, MAX_LENGTH))) this.input.value = "";
      } finally {
        this.button.disabled = false;
      }
    };
    const form = this.input.form;
    if (form) form.addEventListener("submit", send);
    else this.button.addEventListener("click", send);
  }

  clear() {
    this.log.replaceChildren();
    this.seen.clear();
  }

  // who: "candidate" | "proctor" | "warning"; seq: the log entry, when known (duplicates skipped).
  add({ who, text, at = null, seq = null, label = null, pending = false }) {
    if (seq !== null && this.seen.has(seq)) return null;
    if (seq !== null) this.seen.add(seq);
    const item = el("li", { className: `chat-${who}${pending ? " pending" : ""}`, dataset: seq !== null ? { seq } : {} },
      el("span", { className: "chat-who", textContent: `${label || who} ${timeOfDay(at)}` }),
      el("span", { className: "chat-text", textContent: text }));
    this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
    return item;
  }

  // The server stored a message this side sent: mark it, and remember its seq against echoes.
  confirm(item, seq) {
    if (!item) return;
    item.classList.remove("pending");
    if (Number.isInteger(seq)) {
      this.seen.add(seq);
      item.dataset.seq = seq;
    }
  }

  has(seq) { return this.seen.has(seq); }
}
