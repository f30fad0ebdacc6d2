// One sitting's log in the console: the history read over HTTP, then live entries, in `seq`
// order and each shown once however often it arrives.

import { el, humanKind, summary, timeOfDay } from "./dom.js";

const SOURCES = { candidate: "candidate", proctor: "proctor", system: "system", server: "system" };

export class Timeline {
  constructor(list) {
    this.list = list;
    this.items = new Map(); // seq -> li
  }

  reset() {
    this.list.replaceChildren();
    this.items.clear();
  }

  add(entry) {
    if (!Number.isInteger(entry.seq) || this.items.has(entry.seq)) return false;
    const source = SOURCES[entry.source] || entry.source || "system";
    const text = summary(entry.kind, entry.detail);
    const item = el("li", { className: `entry source-${source} kind-${entry.kind}`, dataset: { seq: entry.seq, kind: entry.kind } },
      el("span", { className: "seq", textContent: `#${entry.seq}` }),
      el("time", { className: "at", dateTime: entry.at || "", textContent: timeOfDay(entry.at) }),
      el("span", { className: "kind", textContent: entry.kind, title: humanKind(entry.kind) }),
      el("span", { className: "source", textContent: source }),
      text ? el("span", { className: "what", textContent: text }) : null);
    // newest first: find the first shown entry with a lower seq and go before it
    let before = null;
    for (const [seq, node] of this.items) if (seq < entry.seq && (!before || seq > Number(before.dataset.seq))) before = node;
    this.list.insertBefore(item, before);
    this.items.set(entry.seq, item);
    return true;
  }
}
