// A sitting's open incidents in the console, each with a note and confirm / dismiss.

import { el } from "./dom.js";

export function renderIncidents(list, empty, sitting, resolve) {
  const incidents = sitting ? sitting.open_incidents : [];
  const shown = new Map([...list.children].map((item) => [item.dataset.incident, item]));
  for (const [id, item] of shown) if (!incidents.some((i) => i.id === id)) item.remove();
  for (const incident of incidents) {
    if (shown.has(incident.id)) continue;
    const noteId = `note-${incident.id}`;
    const note = el("input", { type: "text", id: noteId, className: "incident-note", maxLength: 1000, autocomplete: "off" });
    note.addEventListener("input", () => note.setCustomValidity(""));
    const confirm = el("button", { type: "button", className: "secondary confirm", textContent: "Confirm" });
    const dismiss = el("button", { type: "button", className: "secondary dismiss", textContent: "Dismiss" });
    const act = (action, label) => async () => {
      if (note.value.trim().length < 3) {
        note.setCustomValidity("Write a note of at least 3 characters.");
        note.reportValidity();
        return;
      }
      note.setCustomValidity("");
      confirm.disabled = dismiss.disabled = true;
      const result = await resolve(incident.id, action, note.value.trim(), label);
      confirm.disabled = dismiss.disabled = false;
      if (result.ok) item.classList.add("resolved");
    };
    confirm.addEventListener("click", act("confirm_incident", `Confirm "${incident.summary || incident.rule}"`));
    dismiss.addEventListener("click", act("dismiss_incident", `Dismiss "${incident.summary || incident.rule}"`));
    const item = el("li", { className: "incident", dataset: { incident: incident.id } },
      el("div", {}, el("strong", { textContent: incident.rule || "incident" }), ` +${incident.points ?? 0} `,
        el("span", { textContent: incident.summary || "" })),
      el("label", { htmlFor: noteId, textContent: "Note (required)" }), note,
      el("div", { className: "controls" }, confirm, dismiss));
    list.append(item);
  }
  empty.hidden = incidents.length > 0;
}
