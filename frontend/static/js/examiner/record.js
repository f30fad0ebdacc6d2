// The record behind a result: each task's grader checks with feedback and logs, the incidents, the
// decision trail and the sitting's event timeline. Read-only; text goes in with textContent only.

import { humanKind, summary } from "../live/dom.js";
import { el, number, timeElement } from "./ui.js";

const JOB_STATES = {
  pending: "Waiting for a grader", queued: "Queued", running: "Running", graded: "Graded",
  failed: "Could not be graded automatically: an examiner marks it",
};

function checkResult(check) {
  if (check.error) return el("strong", { className: "verdict broken", textContent: "Broken check: an examiner must mark this" });
  return el("strong", { className: `verdict ${check.passed ? "passed" : "failed"}`, textContent: check.passed ? "Passed" : "Failed" });
}

function checkRow(check) {
  const feedback = (check.feedback || []).length
    ? el("ul", { className: "feedback" }, ...check.feedback.map((f) => el("li", { textContent: f })))
    : el("span", { className: "muted", textContent: "None" });
  const notes = [check.limit ? `Limit reached: ${check.limit}` : "", check.error ? `Error: ${check.error}` : "", check.sample ? "Sample check" : ""]
    .filter(Boolean);
  return el("tr", { dataset: { check: check.id, passed: String(Boolean(check.passed)) } },
    el("th", { scope: "row" }, el("code", { textContent: check.id })),
    el("td", { textContent: check.message }),
    el("td", {}, checkResult(check)),
    el("td", { className: "num", textContent: `${number(check.points)} of ${number(check.max_points)}` }),
    el("td", {}, feedback, ...notes.map((n) => el("p", { className: "note", textContent: n }))),
    el("td", {}, check.log
      ? el("details", { className: "log" },
        el("summary", {}, "Show log", el("span", { className: "visually-hidden", textContent: ` of check ${check.id}` })),
        el("pre", { textContent: check.log }))
      : el("span", { className: "muted", textContent: "No output" })));
}

function job(grade, itemsByPosition) {
  const item = itemsByPosition.get(grade.position);
  const name = item ? `${item.item_id} v${item.version}` : `version ${grade.item_version_id}`;
  const score = grade.points === null ? "not graded yet" : `the grader gave ${number(grade.points)} of ${number(grade.max_points)} points`;
  const facts = [`${JOB_STATES[grade.state] || grade.state}`, `answer revision ${grade.revision}`, `${grade.tries} tr${grade.tries === 1 ? "y" : "ies"}`];
  if (grade.isolation) facts.push(`isolation: ${grade.isolation}`);
  const table = (grade.checks || []).length
    ? el("div", { className: "table-scroll" }, el("table", { className: "checks" },
      el("caption", { textContent: `Checks of item ${grade.position} (${name})` }),
      el("thead", {}, el("tr", {}, ...["Check", "What it checks", "Result", "Points", "Feedback", "Log"]
        .map((h) => el("th", { scope: "col", textContent: h })))),
      el("tbody", {}, ...grade.checks.map(checkRow))))
    : el("p", { className: "muted", textContent: "No checks have run yet." });
  return el("article", { className: "grading-job", dataset: { position: grade.position, state: grade.state } },
    el("h3", { textContent: `Item ${grade.position}: ${name}, ${score}` }),
    el("p", { className: "muted", textContent: facts.join(", ") }),
    grade.error ? el("p", { className: "error", textContent: `Grading error: ${grade.error}` }) : null,
    table);
}

export function renderGrading(container, jobs, items) {
  const byPosition = new Map(items.map((i) => [i.position, i]));
  const shown = [...jobs].sort((a, b) => a.position - b.position || b.revision - a.revision);
  container.replaceChildren(...(shown.length
    ? shown.map((g) => job(g, byPosition))
    : [el("p", { className: "muted", textContent: "This form has no performance task." })]));
}

export function renderIncidents(body, incidents) {
  const rows = incidents.map((i) => el("tr", {},
    el("td", { className: "num", textContent: `#${i.event_seq}` }),
    el("th", { scope: "row", textContent: humanKind(i.rule) }),
    el("td", { textContent: i.severity }),
    el("td", { className: "num", textContent: String(i.points) }),
    el("td", { textContent: humanKind(i.status) }),
    el("td", { textContent: i.summary })));
  body.replaceChildren(...(rows.length ? rows : [emptyRow(6, "No incidents.")]));
}

function who(decision, me) {
  if (!decision.actor_id) return "System";
  return decision.actor_id === me ? `You (${decision.actor_name})` : decision.actor_name;
}

function detailText(detail) {
  const entries = Object.entries(detail || {});
  return entries.length ? entries.map(([k, v]) => `${humanKind(k)}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("; ") : "";
}

export function renderTrail(body, decisions, me) {
  const rows = decisions.map((d) => el("tr", { dataset: { action: d.action } },
    el("td", {}, timeElement(d.at)),
    el("th", { scope: "row", textContent: humanKind(d.action) }),
    el("td", { textContent: d.from_state === d.to_state ? d.to_state : `${d.from_state} to ${d.to_state}` }),
    el("td", { textContent: who(d, me) }),
    el("td", { textContent: d.reason }),
    el("td", { textContent: detailText(d.detail) })));
  body.replaceChildren(...(rows.length ? rows : [emptyRow(6, "No decisions yet.")]));
}

export function renderTimeline(body, entries) {
  const rows = [...entries].sort((a, b) => a.seq - b.seq).map((e) => el("tr", { dataset: { seq: e.seq, kind: e.kind } },
    el("td", { className: "num", textContent: String(e.seq) }),
    el("td", {}, timeElement(e.at)),
    el("th", { scope: "row", textContent: humanKind(e.kind) }),
    el("td", { textContent: e.source }),
    el("td", { textContent: summary(e.kind, e.detail) })));
  body.replaceChildren(...(rows.length ? rows : [emptyRow(5, "No events.")]));
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colSpan: columns, className: "muted", textContent: text }));
}
