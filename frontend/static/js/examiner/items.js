// The score report's items table: each item with the candidate's answer, the key as scored, the
// points and where they came from, and a form to set the item's points with a reason.

import { answerNode, keyNode, stemNode } from "./answers.js";
import { duration, el, field, number, reasonField, submitting } from "./ui.js";

export const SOURCES = {
  key: "Key",
  correction: "Key correction",
  grader: "Grader",
  examiner: "Examiner override",
  pending: "Pending",
};

const TYPES = {
  single_choice: "Single choice", multiple_response: "Multiple response", true_false: "True or false",
  numeric: "Numeric", ordering: "Ordering", matching: "Matching", short_text: "Short text",
  performance_task: "Performance task",
};

export function itemName(item) { return `${item.item_id} v${item.version}`; }

// An item imported from another tool keeps the identifier it had there.
function sourceNote(payload) {
  const source = payload && payload.source;
  if (!source || !source.identifier) return null;
  return el("small", { className: "muted item-source", textContent: ` from ${source.tool || source.format}: ${source.identifier}` });
}

function points(item) {
  if (item.pending) return el("span", { className: "pending", textContent: `Pending (of ${number(item.maximum)})` });
  return el("span", { textContent: `${number(item.awarded)} of ${number(item.maximum)}` });
}

function source(item) {
  const text = SOURCES[item.source] || item.source;
  const count = (item.overrides || []).length;
  return count ? `${text} (${count} mark${count === 1 ? "" : "s"} given)` : text;
}

// `onOverride(position, points, reason)` resolves once the report shows the new mark; it throws an
// API error, which the form shows beside the field at fault.
function overrideForm(item, onOverride, canOverride) {
  if (!canOverride) return el("span", { className: "muted", textContent: "Not open to marks" });
  const p = item.position;
  const pointsInput = el("input", {
    id: `override-points-${p}`, name: "points", type: "number", min: "0", max: String(item.maximum), step: "any",
    inputMode: "decimal", value: item.pending ? "" : String(item.awarded),
  });
  const form = el("form", { className: "override", noValidate: true, dataset: { position: p } },
    el("fieldset", {},
      el("legend", { textContent: `New points for item ${p} (${itemName(item)})` }),
      field(pointsInput, `Points (0 to ${number(item.maximum)})`),
      reasonField(`override-reason-${p}`, "Reason"),
      el("button", { type: "submit", textContent: "Set points" }),
      el("p", { className: "error", dataset: { role: "form-error" }, hidden: true })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = pointsInput.value.trim();
    submitting(form, () => onOverride(p, value === "" ? null : Number(value), form.elements.namedItem("reason").value.trim()));
  });
  return el("details", { className: "override-toggle", id: `override-${p}` },
    el("summary", {}, "Override", el("span", { className: "visually-hidden", textContent: ` item ${p}` })),
    form);
}

export function renderItems(body, items, { onOverride, canOverride }) {
  body.replaceChildren(...items.map((item) => el("tr", {
    id: `item-${item.position}`,
    className: item.pending ? "pending" : "",
    dataset: { position: item.position, itemId: item.item_id, type: item.type, source: item.source },
  },
  el("td", { className: "num", textContent: String(item.position) }),
  el("th", { scope: "row", className: "item-name" }, itemName(item), sourceNote(item.item)),
  el("td", { textContent: TYPES[item.type] || item.type }),
  el("td", { className: "stem-cell" }, stemNode(item.stem, item.stem_html)),
  el("td", { className: "answer" }, answerNode(item.item, item.answer)),
  el("td", { className: "key" }, keyNode(item.item)),
  el("td", { className: "points" }, points(item)),
  el("td", { className: "source" }, source(item)),
  el("td", { className: "num", textContent: duration(item.time_spent_seconds) }),
  el("td", { textContent: item.flagged ? "Flagged" : "No" }),
  el("td", { className: "override-cell" }, overrideForm(item, onOverride, canOverride)))));
}
