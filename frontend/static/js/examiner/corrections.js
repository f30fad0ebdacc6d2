// Key corrections on the analysis page: choose an item version, see its key as authored and the
// corrections already made, replace the key or accept one more answer, and read which sittings changed.

import { $, announce, dateTime, el, number, outcomeText, percent, showError, stateText, submitting } from "./ui.js";

const CORRECTABLE = new Set(["single_choice", "multiple_response", "true_false", "numeric", "ordering", "matching", "short_text"]);
const form = $("correction");
const versions = new Map(); // version id -> analysis row
let showing = ""; // the version the form shows: a slower answer for an earlier choice is dropped

function authoredKey(content) {
  if (content.type === "ordering") return (content.options || []).map((o) => o.id);
  if (content.type === "short_text") return content.accepted || [];
  return content.key;
}

function options(content) {
  const listed = [...(content.options || []), ...(content.premises || []), ...(content.responses || [])];
  return listed.map((o) => `${o.id}: ${o.text}`);
}

async function showVersion(id) {
  showing = id;
  const row = versions.get(id);
  const current = $("c-current");
  current.replaceChildren();
  $("c-history").replaceChildren(el("li", { className: "muted", textContent: row ? "Loading..." : "Choose an item version." }));
  if (!row) return;
  try {
    const version = await Api.get(`/api/v1/bank/items/${encodeURIComponent(row.item_id)}/versions/${row.version}`);
    if (showing !== id) return;
    const key = authoredKey(version.content);
    const listed = options(version.content);
    current.replaceChildren(el("dl", { className: "facts" },
      el("dt", { textContent: "Key as authored" }), el("dd", {}, el("code", { textContent: JSON.stringify(key) })),
      ...(listed.length ? [el("dt", { textContent: "Options" }), el("dd", {}, el("ul", { className: "compact" }, ...listed.map((t) => el("li", { textContent: t }))))] : [])));
    if (!$("c-value").value.trim()) $("c-value").value = JSON.stringify(key);
  } catch (error) {
    current.replaceChildren(el("p", { className: "error", textContent: `The item version could not be read: ${error.message}` }));
  }
  await showHistory(id);
}

async function showHistory(id) {
  const list = $("c-history");
  try {
    const made = await Api.get(`/api/v1/bank/versions/${id}/corrections`);
    if (showing !== id) return;
    list.replaceChildren(...(made.length ? made.map((c) => el("li", {},
      el("strong", { textContent: c.kind === "replace_key" ? "Key replaced by " : "Answer accepted: " }),
      el("code", { textContent: JSON.stringify(c.value) }),
      ` on ${dateTime(c.at)}: ${c.reason} (${c.state === "done"
        ? `${c.report.length} of ${c.affected} sitting${c.affected === 1 ? "" : "s"} changed`
        : `rescoring ${c.affected} sitting${c.affected === 1 ? "" : "s"}`})`))
      : [el("li", { className: "muted", textContent: "No corrections yet." })]));
  } catch (error) {
    list.replaceChildren(el("li", { className: "error", textContent: `Corrections could not be read: ${error.message}` }));
  }
}

function change(before, after, format) {
  const a = format(before), b = format(after);
  return a === b ? a : `${a} to ${b}`;
}

function renderReport(report) {
  const rows = report.map((r) => el("tr", { dataset: { attempt: r.attempt_id } },
    el("th", { scope: "row" }, el("a", { href: `/examiner/results/${r.attempt_id}`, textContent: r.candidate || r.candidate_id })),
    el("td", { textContent: change(r.before && r.before.points, r.after.points, (v) => number(v)) }),
    el("td", { textContent: change(r.before && r.before.percent, r.after.percent, percent) }),
    el("td", { textContent: `${change(r.before && r.before.passed, r.after.passed, outcomeText)}${r.outcome_changed ? " (changed)" : ""}` }),
    el("td", { textContent: change(r.before && r.before.state, r.after.state, stateText) }),
    el("td", { textContent: r.needs_confirmation ? "Yes: released, confirm on its report" : "No" })));
  $("c-report-table").tBodies[0].replaceChildren(...rows);
  $("c-report-empty").hidden = rows.length > 0;
  $("c-report").hidden = false;
}

// the sittings are rescored in the background: ask until the report is written
async function rescored(correction) {
  let current = correction;
  while (current.state !== "done") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    current = await Api.get(`/api/v1/corrections/${correction.id}`);
  }
  return current;
}

export function loadVersions(items) {
  versions.clear();
  const select = $("c-version");
  select.replaceChildren(el("option", { value: "", textContent: "Choose an item version" }));
  for (const row of items.filter((i) => CORRECTABLE.has(i.type))) {
    versions.set(row.version_id, row);
    select.append(el("option", { value: row.version_id, textContent: `${row.name} (${row.type.replaceAll("_", " ")})` }));
  }
  $("c-report").hidden = true;
  showVersion("");
}

// Chooses a version from the items table and takes the examiner to the form.
export function choose(versionId) {
  $("c-version").value = versionId;
  $("c-value").value = "";
  showVersion(versionId);
  $("c-version").focus();
}

$("c-version").addEventListener("change", () => { $("c-value").value = ""; showVersion($("c-version").value); });

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("c-version").value;
  if (!id) { showError(form, { body: { field: "version_id", detail: "choose the item version to correct" } }); return; }
  let value;
  try {
    value = JSON.parse($("c-value").value);
  } catch (error) {
    showError(form, { body: { field: "value", detail: `not valid JSON (${error.message})` } });
    return;
  }
  const kind = new FormData(form).get("kind");
  const reason = $("c-reason").value.trim();
  submitting(form, async () => {
    let correction = await Api.post(`/api/v1/bank/versions/${id}/corrections`, { kind, value, reason });
    $("c-reason").value = "";
    const name = versions.get(id).name;
    if (correction.state !== "done") {
      const plural = correction.affected === 1 ? "" : "s";
      announce(`Correction recorded for ${name}: rescoring ${correction.affected} sitting${plural}...`);
      correction = await rescored(correction);
    }
    renderReport(correction.report);
    await showHistory(id);
    const n = correction.report.length;
    announce(`Correction applied to ${name}: ${n} sitting${n === 1 ? "" : "s"} changed.`);
    $("c-report-title").focus();
  });
});
