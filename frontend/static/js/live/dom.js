// Small DOM and formatting helpers shared by the live pages. Text goes in with textContent only.

export const $ = (id) => document.getElementById(id);

export function el(tag, { dataset, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset || {});
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function clockText(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  const left = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(left / 3600), minutes = Math.floor((left % 3600) / 60), rest = left % 60;
  const mm = String(minutes).padStart(hours ? 2 : 1, "0"), ss = String(rest).padStart(2, "0");
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function timeOfDay(iso) {
  const date = iso ? new Date(iso) : new Date();
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
}

// One line that says what an entry of the log was about, from its kind and detail.
export function summary(kind, detail = {}) {
  const d = detail || {};
  switch (kind) {
    case "warning": return d.message || "";
    case "chat": case "note": return d.text || "";
    case "state_changed": return `${d.from || "?"} -> ${d.to || "?"}${d.reason ? `: ${d.reason}` : ""}`;
    case "time_extended": return `+${d.minutes} min${d.reason ? `: ${d.reason}` : ""}`;
    case "copy": case "cut": return `${d.length ?? 0} characters`;
    case "paste": return `${d.length ?? 0} characters${d.position ? ` into question ${d.position}` : ""}`;
    case "devtools_suspected": return `gap ${d.width_gap ?? 0} x ${d.height_gap ?? 0} px`;
    case "webcam_unavailable": return d.reason || "";
    case "webcam_snapshot": return d.width ? `${d.width} x ${d.height}, ${Math.round((d.bytes || 0) / 1024)} KiB` : "";
    case "incident_opened": return `${d.summary || d.rule || ""} (+${d.points ?? 0}, risk ${d.risk_score ?? "?"})`;
    case "incident_resolved": return `${d.status || ""}${d.note ? `: ${d.note}` : ""} (risk ${d.risk_score ?? "?"})`;
    case "irregularity_reported": case "report": return `${d.category || ""}: ${d.description || ""}`;
    default: {
      const text = d.reason || d.message || d.text || d.summary || d.description;
      return typeof text === "string" ? text : "";
    }
  }
}

export function humanKind(kind) {
  return String(kind || "").replaceAll("_", " ");
}
