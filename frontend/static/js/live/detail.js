// The console's detail panel for one sitting: its timeline (history over HTTP, then live), its
// open incidents, the chat with the candidate, and a control for every proctor action.

import { $, clockText } from "./dom.js";
import { ChatBox } from "./chat.js";
import { renderIncidents } from "./incidents.js";
import { STATE_LABELS, timeLeft } from "./sittings.js";
import { snapshotUrl } from "./thumbs.js";
import { Timeline } from "./timeline.js";

export class Detail {
  constructor({ table, actions }) {
    Object.assign(this, { table, actions });
    this.id = null;
    this.timeline = new Timeline($("timeline"));
    this.chat = new ChatBox({
      log: $("chat-log"), input: $("chat-input"), button: $("chat-send"),
      onSend: async (text) => (await this.act("chat", { text }, "Chat message")).ok,
    });
    this.wire();
  }

  get sitting() { return this.id ? this.table.get(this.id) : null; }

  open(id) {
    if (this.id === id) return;
    this.id = id;
    this.table.select(id);
    this.timeline.reset();
    this.chat.clear();
    this.actions.show("", true);
    $("incidents").replaceChildren();
    $("detail").hidden = false;
    this.render();
    this.loadHistory(id);
  }

  async loadHistory(id) {
    let entries;
    try {
      entries = await Api.get(`/api/v1/proctoring/attempts/${id}/events`);
    } catch (error) {
      if (this.id === id) this.actions.show(`Could not read the timeline: ${error.message}`, false);
      return;
    }
    if (this.id !== id || !Array.isArray(entries)) return;
    for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) this.entry(entry);
  }

  // A live entry of any sitting (only the open one's is shown here).
  event(frame) {
    if (frame.attempt_id === this.id) this.entry(frame);
  }

  entry(entry) {
    this.timeline.add(entry);
    if (entry.kind === "chat") {
      const mine = entry.source === "proctor";
      const name = (this.sitting && this.sitting.candidate.name) || "Candidate";
      this.chat.add({ who: mine ? "proctor" : "candidate", label: mine ? "Proctor" : name, text: (entry.detail || {}).text || "", at: entry.at, seq: entry.seq });
    }
  }

  render() {
    const s = this.sitting;
    if (!s) { $("detail").hidden = true; this.id = null; return; }
    $("detail-title").textContent = s.candidate.name;
    this.tick();
    const image = $("detail-snapshot");
    const url = snapshotUrl(s.attempt_id);
    if (url && image.src !== url) image.src = url;
    image.hidden = !url;
    renderIncidents($("incidents"), $("no-incidents"), s, (incidentId, action, note, label) =>
      this.act(action, { incident_id: incidentId, note }, label));
  }

  tick() {
    const s = this.sitting;
    if (!s) return;
    const parts = [s.candidate.email, STATE_LABELS[s.state] || s.state, `${clockText(timeLeft(s))} left`,
      s.connected ? "connected" : "not connected", `risk ${s.risk_score || 0}${s.review_required ? ", review required" : ""}`];
    $("detail-meta").textContent = parts.filter(Boolean).join(" | ");
  }

  act(action, fields, label) {
    if (!this.id) return Promise.resolve({ ok: false });
    return this.actions.run(this.id, action, fields, label);
  }

  // false (and says why) when the field holds less than the server accepts
  required(id, label, what) {
    if ($(id).value.trim().length >= 3) return true;
    this.actions.show(`${label} failed: ${what} (at least 3 characters).`, false);
    $(id).focus();
    return false;
  }

  wire() {
    const value = (id) => $(id).value.trim();
    const reason = (label) => this.required("reason", label, "give a reason");
    const clearOnSuccess = (ids) => (result) => { if (result.ok) for (const id of ids) $(id).value = ""; };
    const on = (id, handler) => $(id).addEventListener("click", handler);
    on("act-authorize", () => this.act("authorize", {}, "Authorise start"));
    on("act-pause", () => reason("Pause") && this.act("pause", { reason: value("reason") }, "Pause"));
    on("act-resume", () => reason("Resume") && this.act("resume", { reason: value("reason") }, "Resume"));
    on("act-terminate", () => {
      if (!reason("Terminate")) return;
      const name = this.sitting ? this.sitting.candidate.name : "this candidate";
      if (!confirm(`Terminate the exam of ${name}? This cannot be undone.`)) return;
      this.act("terminate", { reason: value("reason") }, "Terminate").then(clearOnSuccess(["reason"]));
    });
    on("act-extend", () => {
      const minutes = Number(value("minutes"));
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 240) {
        this.actions.show("Extend failed: give a whole number of minutes from 1 to 240.", false);
        return;
      }
      if (!reason("Extend")) return;
      this.act("extend", { minutes, reason: value("reason") }, `Extend by ${minutes} min`);
    });
    on("act-warn", () => {
      if (!value("message")) { this.actions.show("Warn failed: write the warning first.", false); return; }
      this.act("warn", { message: value("message") }, "Warning").then(clearOnSuccess(["message"]));
    });
    on("act-note", () => {
      if (!value("message")) { this.actions.show("Note failed: write the note first.", false); return; }
      this.act("note", { text: value("message") }, "Note").then(clearOnSuccess(["message"]));
    });
    on("act-report", () => {
      if (!this.required("description", "Report", "describe the irregularity")) return;
      this.act("report", { category: $("category").value, description: value("description") }, "Irregularity report")
        .then(clearOnSuccess(["description"]));
    });
  }
}
