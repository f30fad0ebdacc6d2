// Item analysis (/examiner/analysis): choose a blueprint version; read the test's figures, the score
// distribution, every item's difficulty, discrimination and flags; download the CSVs; correct a key.

import { choose, loadVersions } from "./corrections.js";
import { histogram } from "./histogram.js";
import { $, TIERS, announce, download, el, number, percent, submitting, wireLogout } from "./ui.js";

Api.requireSignIn();
wireLogout();

const FLAGS = {
  too_easy: "Too easy", too_hard: "Too hard", negative_discrimination: "Negative discrimination",
  low_discrimination: "Low discrimination", unused_distractor: "Unused distractor",
};
const form = $("choose");
let chosen = null; // {id, label}

async function loadBlueprints() {
  try {
    const found = await Api.get("/api/v1/analysis");
    for (const b of found) {
      const label = `${b.key} v${b.version} (${TIERS[b.tier] || b.tier}, ${b.sittings} sitting${b.sittings === 1 ? "" : "s"})`;
      $("blueprint").append(el("option", { value: b.blueprint_version_id, textContent: label }));
    }
    announce(found.length ? "Choose a blueprint version to analyse." : "No blueprint version has scored sittings yet.");
    const wanted = new URLSearchParams(location.search).get("blueprint");
    if (wanted && found.some((b) => b.blueprint_version_id === wanted)) {
      $("blueprint").value = wanted;
      form.requestSubmit();
    }
  } catch (error) {
    announce(`Blueprint versions could not be loaded: ${error.message}`, false);
  }
}

function renderTest(test) {
  const facts = [
    ["Candidates", String(test.candidates)],
    ["Item versions", String(test.items)],
    ["Mean score", percent(test.mean)],
    ["Standard deviation", `${number(test.sd, 1)} percentage points`],
    ["Reliability", test.reliability === null ? "Not computable (too few candidates or no spread)" : `${number(test.reliability, 3)} (${test.method})`],
    ["Standard error of measurement", test.sem === null ? "-" : `${number(test.sem, 1)} percentage points`],
    ["Pass rate", test.pass_rate === null ? "-" : percent(test.pass_rate * 100)],
  ];
  $("test").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { textContent: term }), el("dd", { textContent: value })]));
  $("histogram").replaceChildren(histogram(test.histogram));
  $("histogram-table").tBodies[0].replaceChildren(...test.histogram.map(([lower, upper, count]) => el("tr", {},
    el("th", { scope: "row", textContent: `${number(lower, 1)} to ${number(upper, 1)}%` }),
    el("td", { className: "num", textContent: String(count) }))));
}

function rates(row) {
  if (!row.option_rates) return el("span", { className: "muted", textContent: "-" });
  const unused = new Set(row.unused_distractors || []);
  return el("ul", { className: "compact" }, ...Object.entries(row.option_rates).map(([option, share]) =>
    el("li", { textContent: `${option}: ${percent(share * 100)}${unused.has(option) ? " (unused)" : ""}` })));
}

function flags(row) {
  if (!row.flags.length) return "None";
  return el("ul", { className: "compact flags" }, ...row.flags.map((f) => el("li", { className: `flag flag-${f}`, textContent: FLAGS[f] || f })));
}

function renderItems(items) {
  $("analysis-items").tBodies[0].replaceChildren(...items.map((row) => {
    const correctable = row.type !== "performance_task";
    const button = correctable
      ? el("button", { type: "button", className: "secondary small", textContent: "Correct key" }, el("span", { className: "visually-hidden", textContent: ` of ${row.name}` }))
      : el("span", { className: "muted", textContent: "Marked per sitting" });
    if (correctable) button.addEventListener("click", () => choose(row.version_id));
    return el("tr", { className: row.flags.length ? "flagged" : "", dataset: { version: row.version_id } },
      el("th", { scope: "row", textContent: row.name }),
      el("td", { textContent: row.type.replaceAll("_", " ") }),
      el("td", { className: "num", textContent: String(row.responses) }),
      el("td", { className: "num", textContent: `${number(row.mean)} of ${number(row.maximum)}` }),
      el("td", { className: "num", textContent: row.p_value === null ? "-" : number(row.p_value, 3) }),
      el("td", { className: "num", textContent: row.discrimination === null ? "-" : number(row.discrimination, 3) }),
      el("td", {}, rates(row)),
      el("td", {}, flags(row)),
      el("td", {}, button));
  }));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("blueprint").value;
  const bins = $("bins").value.trim() || "10";
  if (!id) {
    submitting(form, () => Promise.reject(new Api.ApiError(422, { field: "blueprint_version_id", detail: "choose a blueprint version" })));
    return;
  }
  submitting(form, async () => {
    const analysis = await Api.get(`/api/v1/analysis/${id}?bins=${encodeURIComponent(bins)}`);
    chosen = { id, label: $("blueprint").selectedOptions[0].textContent };
    history.replaceState(null, "", `/examiner/analysis?blueprint=${id}`);
    renderTest(analysis.test);
    renderItems(analysis.items);
    loadVersions(analysis.items);
    $("results").hidden = false;
    const flagged = analysis.items.filter((i) => i.flags.length).length;
    announce(`${chosen.label}: ${analysis.items.length} item versions, ${flagged} flagged.`);
    $("test-title").focus();
  });
});

async function csv(kind) {
  if (!chosen) return;
  await submitting($("downloads"), () => download(`/api/v1/analysis/${chosen.id}/${kind}.csv`, `${kind}-${chosen.id}.csv`));
}

$("download-responses").addEventListener("click", () => csv("responses"));
$("download-items").addEventListener("click", () => csv("items"));

if (Api.token()) loadBlueprints();
