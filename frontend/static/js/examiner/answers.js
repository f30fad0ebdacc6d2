// An item's answer and key as an examiner reads them: option ids with their text, matched pairs,
// accepted texts, a task's submitted files. The answer is in the item's authored ids, as scored.

import { el } from "./ui.js";

const STEM_CHARS = 110;

function optionText(payload, id, list = "options") {
  const option = (payload[list] || []).find((o) => o.id === id);
  return option ? `${id}: ${option.text}` : String(id);
}

// An ordering's answer and key are numbered lists; other lists have no order.
function lines(texts, ordered = false) {
  if (!texts.length) return el("span", { className: "muted", textContent: "none" });
  if (texts.length === 1 && !ordered) return el("span", { textContent: texts[0] });
  return el(ordered ? "ol" : "ul", { className: "compact" }, ...texts.map((t) => el("li", { textContent: t })));
}

function files(answer) {
  const names = Object.keys(answer || {});
  if (!names.length) return el("span", { className: "muted", textContent: "No file submitted" });
  return el("div", {}, ...names.map((name) => el("details", { className: "file" },
    el("summary", { textContent: `${name} (${String(answer[name]).split("\n").length} lines)` }),
    el("pre", { textContent: String(answer[name]) }))));
}

export function answerNode(payload, answer) {
  if (answer === null || answer === undefined || (Array.isArray(answer) && !answer.length)) {
    return el("span", { className: "muted", textContent: "Not answered" });
  }
  switch (payload.type) {
    case "single_choice": return lines([optionText(payload, answer)]);
    case "multiple_response": return lines([].concat(answer).map((id) => optionText(payload, id)));
    case "ordering": return lines([].concat(answer).map((id) => optionText(payload, id)), true);
    case "true_false": return lines([answer ? "True" : "False"]);
    case "matching":
      return lines(Object.entries(answer).map(([p, r]) => `${optionText(payload, p, "premises")} → ${optionText(payload, r, "responses")}`));
    case "performance_task": return files(answer);
    default: return lines([typeof answer === "string" ? answer : JSON.stringify(answer)]);
  }
}

export function keyNode(payload) {
  switch (payload.type) {
    case "single_choice": return lines([optionText(payload, payload.key)]);
    case "multiple_response": return lines([].concat(payload.key || []).map((id) => optionText(payload, id)));
    case "true_false": return lines([payload.key ? "True" : "False"]);
    case "ordering": return lines((payload.options || []).map((o) => `${o.id}: ${o.text}`), true);
    case "matching":
      return lines(Object.entries(payload.key || {}).map(([p, r]) => `${optionText(payload, p, "premises")} → ${optionText(payload, r, "responses")}`));
    case "numeric": {
      const tolerance = payload.tolerance ? ` (within ${payload.tolerance})` : "";
      return lines([`${payload.key}${payload.unit ? ` ${payload.unit}` : ""}${tolerance}`]);
    }
    case "short_text": {
      const accepted = (payload.accepted || []).map((a) => `"${a}"`);
      const patterns = (payload.patterns || []).map((p) => `pattern ${p}`);
      return lines([...accepted, ...patterns]);
    }
    case "performance_task": return el("span", { className: "muted", textContent: "Graded by checks (below)" });
    default: return lines([JSON.stringify(payload.key ?? null)]);
  }
}

// The stem as plain text; a long one is cut, and the whole shows on request, rendered as candidates
// see it when the server sent its HTML (Markdown rendered and sanitised on the server: never any other).
export function stemNode(stem, html) {
  const text = String(stem || "").replace(/\s+/g, " ").trim();
  if (text.length <= STEM_CHARS) return el("span", { textContent: text });
  let full;
  if (typeof html === "string" && html) {
    full = el("div", { className: "stem-full" });
    full.innerHTML = html;
  } else {
    full = el("p", { className: "stem-full", textContent: String(stem) });
  }
  return el("details", { className: "stem" },
    el("summary", {}, `${text.slice(0, STEM_CHARS).replace(/\s+\S*$/, "")}...`,
      el("span", { className: "visually-hidden", textContent: " (show the whole question)" })),
    full);
}
