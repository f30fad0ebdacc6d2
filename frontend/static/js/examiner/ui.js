// What every examiner page shares: labels for states and outcomes, number and time formats, the
// status line, API errors shown beside the form and field at fault, and downloads that need the token.

// `Api` is the global of api.js (a classic script loaded first: a global binding, not window.Api).
import { $, el } from "../live/dom.js";

export { $, el };

export const STATE_LABELS = {
  provisional: "Provisional (marks pending)",
  withheld: "Withheld for integrity review",
  ready: "Ready to release",
  released: "Released",
  invalidated: "Invalidated",
};

export const TIERS = { foundation: "Foundation", professional: "Professional", advanced: "Advanced" };

export function stateText(state) { return STATE_LABELS[state] || String(state || "-"); }

export function outcomeText(passed) {
  if (passed === true) return "Passed";
  if (passed === false) return "Not passed";
  return "Not decided (marks pending)";
}

export function number(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "-";
  return Number(value).toLocaleString("en", { maximumFractionDigits: digits });
}

export function percent(value) { return value === null || value === undefined ? "-" : `${number(value, 1)}%`; }

export function dateTime(iso) {
  if (!iso) return "-";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium", hourCycle: "h23" });
}

export function duration(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const minutes = Math.floor(total / 60);
  return minutes ? `${minutes} min ${total % 60} s` : `${total} s`;
}

export function timeElement(iso) { return el("time", { dateTime: iso || "", textContent: dateTime(iso) }); }

// The page's one polite live region: what an action did, or why a load failed.
export function announce(text, ok = true) {
  const line = $("status");
  line.textContent = text;
  line.classList.toggle("error", !ok);
}

export function wireLogout() {
  $("logout").addEventListener("click", async () => {
    try { await Api.post("/api/v1/auth/logout"); } finally { Api.signOut(true); }
  });
}

// A control of a form whose messages go in `#<id>-error`, named by `aria-describedby`.
function labelOf(control) {
  const label = control.labels && control.labels[0];
  return label ? label.textContent.replace(/\s*\(.*\)\s*$/, "").trim() : control.name;
}

export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) { node.textContent = ""; node.hidden = true; }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const general = form.querySelector("[data-role=form-error]");
  if (general) { general.textContent = ""; general.hidden = true; }
}

// The API's `{"error", "detail", "field" | "fields"}`: shown at the field it names, which takes focus,
// else under the form. The message names the field by its label.
export function showError(form, error) {
  const body = (error && error.body) || {};
  const first = Array.isArray(body.fields) && body.fields.length ? body.fields[0] : null;
  const field = String((first && first.field) || body.field || "").split(".").pop();
  let message = (first && first.message) || body.detail || (error && error.message) || "The request failed.";
  message = String(message).replace(new RegExp(`^${field}:\\s*`), "");
  const control = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
  const slot = control && form.querySelector(`#${CSS.escape(control.id)}-error`);
  if (control && slot) {
    slot.textContent = `${labelOf(control)}: ${message}`;
    slot.hidden = false;
    control.setAttribute("aria-invalid", "true");
    control.focus();
    announce(`Not done. ${labelOf(control)}: ${message}`, false);
    return;
  }
  const general = form.querySelector("[data-role=form-error]");
  const text = field ? `${field}: ${message}` : message;
  if (general) { general.textContent = text; general.hidden = false; }
  announce(`Not done. ${text}`, false);
}

// Runs `work` with the form's buttons disabled; an API error is shown beside the form.
export async function submitting(form, work) {
  clearErrors(form);
  const buttons = [...form.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (error) {
    if (error instanceof Api.ApiError || (error && error.body)) showError(form, error);
    else showError(form, { message: String((error && error.message) || error) });
    return undefined;
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

// A labelled reason field with its own error slot, for forms built in the page.
export function field(control, label, hint = "") {
  const id = control.id;
  control.setAttribute("aria-describedby", [hint ? `${id}-hint` : "", `${id}-error`].filter(Boolean).join(" "));
  return el("div", { className: "field" },
    el("label", { htmlFor: id, textContent: label }),
    hint ? el("p", { id: `${id}-hint`, className: "hint", textContent: hint }) : null,
    control,
    el("p", { id: `${id}-error`, className: "field-error", hidden: true }));
}

export function reasonField(id, label, hint = "") {
  return field(el("textarea", { id, name: "reason", rows: 2, maxLength: 2000 }), label, hint);
}

// A download that needs the bearer token: fetched here, then handed to the browser through a Blob URL.
export async function download(path, filename) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${Api.token()}` } });
  if (response.status === 401) { Api.signOut(); return; }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Api.ApiError(response.status, body);
  }
  const url = URL.createObjectURL(await response.blob());
  const anchor = el("a", { href: url, download: filename, hidden: true });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 2000);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== "" && value !== null && value !== undefined) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}
