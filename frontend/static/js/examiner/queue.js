// The review queue (/examiner): results riskiest first, filtered by window, tier, state, risk or a
// change awaiting confirmation; the filters live in the address so a report's "back" returns to them.

import {
  $, TIERS, announce, el, outcomeText, percent, query, showError, stateText, submitting, timeElement, wireLogout,
} from "./ui.js";

Api.requireSignIn();
wireLogout();

const PAGE = 50;
const form = $("filters");
const FIELDS = ["window_id", "tier", "state", "min_risk", "change_pending"];
let offset = 0;
const windows = new Map(); // id -> title
const placeholders = new Set(); // windows named in the address before their title is known

function filters() {
  const data = new FormData(form);
  const chosen = Object.fromEntries(FIELDS.map((name) => [name, String(data.get(name) || "").trim()]));
  if (!chosen.change_pending) delete chosen.change_pending;
  return chosen;
}

function restore() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    const control = form.elements.namedItem(name);
    if (!control || !params.has(name)) continue;
    if (name === "window_id") addWindow(params.get(name), "The chosen window", true);
    if (control.type === "checkbox") control.checked = params.get(name) === "true";
    else control.value = params.get(name);
  }
  offset = Math.max(0, Number(params.get("offset")) || 0);
}

function addWindow(id, title, placeholder = false) {
  if (!id || (windows.has(id) && (placeholder || !placeholders.has(id)))) return;
  windows.set(id, title);
  if (placeholder) placeholders.add(id); else placeholders.delete(id);
  for (const select of [$("f-window"), $("bulk-window")]) {
    const known = [...select.options].find((option) => option.value === id);
    if (known) known.textContent = title;
    else select.append(el("option", { value: id, textContent: title }));
  }
}

// Open windows come from the schedule; closed ones appear once a result of theirs is listed.
async function loadWindows() {
  try {
    for (const w of await Api.get("/api/v1/windows")) addWindow(w.id, `${w.title} (${TIERS[w.tier] || w.tier})`);
  } catch (error) { /* the queue's rows still name their windows */ }
}

function attention(row) {
  const notes = [];
  if (row.change_pending) notes.push("Changed since release: confirm");
  if (row.invalidation_requested) notes.push("Invalidation requested");
  if (row.pending) notes.push(`${row.pending} mark${row.pending === 1 ? "" : "s"} pending`);
  return notes.length ? el("ul", { className: "notes" }, ...notes.map((n) => el("li", { textContent: n }))) : "None";
}

function render(rows) {
  const body = $("queue").tBodies[0];
  body.replaceChildren(...rows.map((row) => {
    addWindow(row.window_id, row.window);
    const link = el("a", { href: `/examiner/results/${row.attempt_id}`, textContent: row.candidate });
    return el("tr", { dataset: { attempt: row.attempt_id, state: row.state } },
      el("th", { scope: "row" }, link, el("span", { className: "email", textContent: row.candidate_email })),
      el("td", { textContent: row.window }),
      el("td", { textContent: TIERS[row.tier] || row.tier }),
      el("td", { className: `state state-${row.state}`, textContent: stateText(row.state) }),
      el("td", { className: "outcome", textContent: outcomeText(row.passed) }),
      el("td", { className: "num", textContent: row.scaled_score ?? "-" }),
      el("td", { className: "num", textContent: percent(row.percent) }),
      el("td", { className: "num risk", textContent: String(row.risk_score) }),
      el("td", { className: "num", textContent: String(row.pending) }),
      el("td", {}, attention(row)),
      el("td", {}, timeElement(row.scored_at)));
  }));
  $("queue-empty").hidden = rows.length > 0;
  $("page-previous").disabled = offset === 0;
  $("page-next").disabled = rows.length < PAGE;
  $("page-label").textContent = rows.length ? `Results ${offset + 1} to ${offset + rows.length}` : "";
}

async function load({ focus = false } = {}) {
  const chosen = filters();
  history.replaceState(null, "", `/examiner${query({ ...chosen, offset: offset || "" })}`);
  $("queue-error").hidden = true;
  $("queue").setAttribute("aria-busy", "true");
  try {
    const rows = await Api.get(`/api/v1/results${query({ ...chosen, limit: PAGE, offset })}`);
    render(rows);
    announce(rows.length ? `${rows.length} result${rows.length === 1 ? "" : "s"} shown, riskiest first.` : "No results match these filters.");
    if (focus) $("queue-title").focus();
  } catch (error) {
    $("queue-error").textContent = `The queue could not be loaded: ${error.message}`;
    $("queue-error").hidden = false;
    announce("The queue could not be loaded.", false);
  } finally {
    $("queue").removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  offset = 0;
  load({ focus: true });
});
form.addEventListener("reset", () => { setTimeout(() => { offset = 0; load(); }, 0); });
$("page-previous").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load({ focus: true }); });
$("page-next").addEventListener("click", () => { offset += PAGE; load({ focus: true }); });

const bulk = $("bulk-release");
bulk.addEventListener("submit", async (event) => {
  event.preventDefault();
  const windowId = $("bulk-window").value;
  if (!windowId) {
    showError(bulk, { body: { field: "window_id", detail: "choose the window to release" } });
    return;
  }
  const title = windows.get(windowId) || "the window";
  if (!window.confirm(`Release every ready result of ${title}? Candidates see them at once.`)) return;
  const summary = await submitting(bulk, () => Api.post("/api/v1/results/release", { window_id: windowId }));
  if (!summary) return;
  announce(`${summary.released} result${summary.released === 1 ? "" : "s"} of ${title} released.`);
  await load();
});

if (Api.token()) loadWindows().then(() => { restore(); load(); });
