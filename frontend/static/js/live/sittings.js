// The console's table of sittings: the model built from the `snapshot` frame, kept current by
// live entries and `presence` frames, rendered highest risk first with a locally ticking clock.

import { clockText, el } from "./dom.js";
import { latestSnapshot } from "./thumbs.js";

export const STATE_LABELS = {
  registered: "registered", checked_in: "checked in", awaiting_authorization: "waiting for authorisation",
  in_progress: "in progress", paused: "paused", submitted: "submitted", terminated: "terminated", expired: "expired",
};

export function timeLeft(sitting) {
  if (sitting.remaining_seconds === null || sitting.remaining_seconds === undefined) return null;
  const running = sitting.state === "in_progress";
  return sitting.remaining_seconds - (running ? (performance.now() - sitting.syncedAt) / 1000 : 0);
}

export class SittingTable {
  constructor({ body, empty, onSelect, onChange }) {
    Object.assign(this, { body, empty, onSelect, onChange });
    this.sittings = new Map();
    this.rows = new Map();
    this.windows = new Map();
    this.selected = null;
  }

  get(id) { return this.sittings.get(id); }

  load(snapshot) {
    this.windows = new Map((snapshot.windows || []).map((w) => [w.id, w]));
    const fresh = new Map();
    for (const sitting of snapshot.sittings || []) {
      const old = this.sittings.get(sitting.attempt_id);
      fresh.set(sitting.attempt_id, {
        open_incidents: [], candidate: { name: "(unnamed)" }, ...sitting,
        syncedAt: performance.now(), unread: old ? old.unread : false,
      });
    }
    for (const [id, row] of this.rows) if (!fresh.has(id)) { row.remove(); this.rows.delete(id); }
    this.sittings = fresh;
    for (const id of fresh.keys()) this.render(id);
    this.sort();
  }

  // A live entry; false when the sitting is not in the table (the caller asks for a new snapshot).
  apply(frame) {
    const s = this.sittings.get(frame.attempt_id);
    if (!s) return false;
    const d = frame.detail || {};
    switch (frame.kind) {
      case "state_changed": s.state = d.to || s.state; s.syncedAt = performance.now(); break;
      case "connection_lost": s.connected = false; break;
      case "connection_restored": s.connected = true; break;
      case "incident_opened":
        if (!s.open_incidents.some((i) => i.id === d.incident_id)) {
          s.open_incidents.push({ id: d.incident_id, rule: d.rule, summary: d.summary, points: d.points, status: "open", seq: frame.seq });
        }
        Object.assign(s, pick(d, ["risk_score", "review_required"]));
        break;
      case "incident_resolved":
        s.open_incidents = s.open_incidents.filter((i) => i.id !== d.incident_id);
        Object.assign(s, pick(d, ["risk_score", "review_required"]));
        break;
      case "webcam_snapshot": s.latest_snapshot = { id: d.snapshot_id, taken_at: frame.at }; break;
      case "chat": if (frame.source === "candidate" && this.selected !== s.attempt_id) s.unread = true; break;
      default: break;
    }
    this.changed(s.attempt_id);
    return true;
  }

  update(id, fields) {
    const s = this.sittings.get(id);
    if (!s) return;
    Object.assign(s, fields, { syncedAt: performance.now() });
    this.changed(id);
  }

  presence(map) {
    for (const [id, info] of Object.entries(map || {})) {
      const s = this.sittings.get(id);
      if (s && (s.connected !== info.connected || s.last_heartbeat !== info.last_heartbeat)) {
        Object.assign(s, pick(info, ["connected", "last_heartbeat"]));
        this.render(id);
      }
    }
  }

  select(id) {
    this.selected = id;
    const s = this.sittings.get(id);
    if (s) s.unread = false;
    for (const [rowId, row] of this.rows) {
      row.classList.toggle("selected", rowId === id);
      row.setAttribute("aria-selected", String(rowId === id));
    }
    if (s) this.render(id);
  }

  changed(id) {
    this.render(id);
    this.sort();
    this.onChange(id);
  }

  tick() {
    for (const [id, row] of this.rows) row.querySelector(".time-left").textContent = clockText(timeLeft(this.sittings.get(id)));
  }

  sort() {
    const order = [...this.sittings.values()].sort((a, b) =>
      (b.risk_score || 0) - (a.risk_score || 0)
      || b.open_incidents.length - a.open_incidents.length
      || a.candidate.name.localeCompare(b.candidate.name));
    const rows = order.map((s) => this.rows.get(s.attempt_id));
    if (rows.some((row, index) => this.body.children[index] !== row)) this.body.append(...rows);
    this.empty.hidden = rows.length > 0;
  }

  row(id) {
    let row = this.rows.get(id);
    if (row) return row;
    const open = () => this.onSelect(id);
    const name = el("button", { type: "button", className: "link name" });
    name.addEventListener("click", (event) => { event.stopPropagation(); open(); });
    const image = el("img", { className: "snapshot", alt: "", hidden: true });
    row = el("tr", { dataset: { attempt: id } },
      el("td", { className: "candidate" }, name, el("span", { className: "email muted" }), el("span", { className: "badge unread", textContent: "new message" })),
      el("td", { className: "state" }), el("td", { className: "time-left" }), el("td", { className: "connection" }),
      el("td", { className: "risk" }), el("td", { className: "incidents" }), el("td", { className: "webcam" }, image));
    row.addEventListener("click", open);
    this.rows.set(id, row);
    return row;
  }

  render(id) {
    const s = this.sittings.get(id);
    const row = this.row(id);
    const cell = (name) => row.querySelector(`.${name}`);
    const threshold = (this.windows.get(s.window_id) || {}).risk_threshold ?? 50;
    row.querySelector(".name").textContent = s.candidate.name;
    row.querySelector(".email").textContent = s.candidate.email || "";
    row.querySelector(".unread").hidden = !s.unread;
    cell("state").textContent = STATE_LABELS[s.state] || s.state;
    cell("state").dataset.state = s.state;
    cell("time-left").textContent = clockText(timeLeft(s));
    cell("connection").textContent = s.connected ? "connected" : "not connected";
    cell("connection").className = `connection ${s.connected ? "ok" : "bad"}`;
    cell("risk").textContent = `${s.risk_score || 0}${s.review_required ? " (review)" : ""}`;
    row.classList.toggle("at-risk", (s.risk_score || 0) >= threshold || Boolean(s.review_required));
    cell("incidents").textContent = String(s.open_incidents.length);
    const snapshot = s.latest_snapshot;
    if (snapshot && snapshot.id) {
      latestSnapshot(id, snapshot.id).then((url) => {
        if (!url) return;
        const image = row.querySelector("img.snapshot");
        image.src = url;
        image.alt = `Webcam snapshot of ${s.candidate.name}, ${new Date(snapshot.taken_at || Date.now()).toLocaleTimeString()}`;
        image.hidden = false;
        this.onChange(id, { snapshot: url });
      });
    }
  }
}

function pick(source, names) {
  return Object.fromEntries(names.filter((n) => source[n] !== undefined).map((n) => [n, source[n]]));
}
