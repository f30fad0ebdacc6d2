// One sitting's score report (/examiner/results/{id}): the result, its sections and items, the grader's
// checks, incidents, the decision trail and timeline, and every examiner decision. After an action
// the whole report is read again, so what it shows is what the server now holds.

import { renderCredential } from "./credential.js";
import { Decisions } from "./decisions.js";
import { renderItems } from "./items.js";
import { renderGrading, renderIncidents, renderTimeline, renderTrail } from "./record.js";
import {
  $, TIERS, announce, dateTime, el, number, outcomeText, percent, stateText, timeElement, wireLogout,
} from "./ui.js";

Api.requireSignIn();
wireLogout();

const attemptId = $("report").dataset.attempt;
const OVERRIDABLE = new Set(["provisional", "withheld", "ready", "released"]);
let me = null;

function fact(term, value, id) {
  const dd = el("dd", id ? { id } : {});
  dd.append(value instanceof Node ? value : String(value ?? "-"));
  return [el("dt", { textContent: term }), dd];
}

function renderSummary(report) {
  const r = report.result;
  const score = r.scaled_score === null ? "-" : String(r.scaled_score);
  $("summary").replaceChildren(
    ...fact("Candidate", `${report.candidate} (${report.candidate_email})`),
    ...fact("Window", report.window),
    ...fact("Tier", TIERS[r.tier] || r.tier),
    ...fact("Result state", stateText(r.state), "result-state"),
    ...fact("Outcome", outcomeText(r.passed), "outcome"),
    ...fact("Scaled score", score, "scaled-score"),
    ...fact("Percent", percent(r.percent), "percent"),
    ...fact("Points", `${number(r.points)} of ${number(r.max_points)}`),
    ...fact("Risk score", String(r.risk_score), "risk-score"),
    ...fact("Sitting", `${report.attempt_state.replaceAll("_", " ")}; started ${dateTime(report.started_at)}, submitted ${dateTime(report.submitted_at)}`),
    ...fact("Scored", timeElement(r.scored_at)),
    ...fact("Released", r.released_at ? timeElement(r.released_at) : "Not released"),
    ...(r.change_pending ? fact("Change", "Changed since release: awaiting an examiner's confirmation", "change-pending") : []));
  $("summary").dataset.state = r.state;
  $("summary").dataset.passed = String(r.passed);
  list($("review-reasons"), r.review_reasons, "No integrity concern.");
  list($("pending"), r.pending, "Nothing pending: every mark is in.");
}

function list(target, texts, none) {
  target.replaceChildren(...(texts.length ? texts : [none]).map((t) => el("li", { textContent: t })));
}

function renderSections(sections) {
  $("sections").tBodies[0].replaceChildren(...sections.map((s) => el("tr", { dataset: { section: s.id } },
    el("th", { scope: "row", textContent: s.id }),
    el("td", { className: "num", textContent: `${number(s.points)} of ${number(s.max_points)}` }),
    el("td", { className: "num", textContent: percent(s.percent) }),
    el("td", { className: "num", textContent: percent(s.minimum_percent) }),
    el("td", { className: "num", textContent: number(s.weight) }),
    el("td", { className: s.met ? "met" : "not-met", textContent: s.met ? "Met" : "Not met" }))));
}

function render(report) {
  const r = report.result;
  document.title = `Score report: ${report.candidate} - MLOCP exams`;
  $("report-title").textContent = `Score report: ${report.candidate}`;
  renderSummary(report);
  renderSections(r.sections);
  renderItems($("items").tBodies[0], report.items, { onOverride: override, canOverride: OVERRIDABLE.has(r.state) });
  renderGrading($("grading"), report.grading, report.items);
  renderIncidents($("incidents").tBodies[0], report.incidents);
  renderTrail($("trail").tBodies[0], report.decisions, me);
  renderTimeline($("events").tBodies[0], report.timeline);
  decisions.update(r, me);
  renderCredential($("credential"), r);
}

async function load() {
  const report = await Api.get(`/api/v1/results/${attemptId}`);
  render(report);
  return report;
}

// Posts a decision, reads the report again and says what changed; focus goes to the result.
async function run(url, body, message, form) {
  const result = await Api.post(url, body);
  if (form) form.reset();
  try {
    await load();
  } catch (error) {
    announce(`Done, but the report could not be read again: ${error.message}`, false);
    return result;
  }
  announce(message(result));
  $("summary-title").focus();
  return result;
}

function override(position, points, reason) {
  return run(`/api/v1/results/${attemptId}/items/${position}/override`, { points, reason }, (r) =>
    `Item ${position} set to ${number(points)} points. Outcome: ${outcomeText(r.passed).toLowerCase()}, `
    + `${percent(r.percent)}, scaled score ${r.scaled_score ?? "-"}.`);
}

const decisions = new Decisions({ attemptId, run });

async function start() {
  try {
    me = (await Api.get("/api/v1/users/me")).id;
  } catch (error) { /* decisions then name examiners by id */ }
  try {
    const report = await load();
    announce(`Score report of ${report.candidate} loaded: ${stateText(report.result.state).toLowerCase()}.`);
  } catch (error) {
    const text = error.status === 404 ? "There is no result for this sitting yet (it has not ended or not been scored)."
      : error.status === 403 ? "Score reports are for examiners." : `The score report could not be loaded: ${error.message}`;
    announce(text, false);
  }
}

if (Api.token()) start();
