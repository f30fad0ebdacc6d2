// The proctor console (/proctor): one live channel for every assigned window, a table of
// sittings highest risk first, and the detail panel of the sitting the proctor opened.

// `Api` is the global of api.js (a classic script loaded first: a global binding, not window.Api).
import { $ } from "./dom.js";
import { Actions } from "./actions.js";
import { Detail } from "./detail.js";
import { SittingTable } from "./sittings.js";
import { LiveChannel } from "./socket.js";

Api.requireSignIn();

const CLOCK_KINDS = new Set(["state_changed", "time_extended"]);
let resnapshot = null;
const unknown = new Set(); // sittings a new snapshot was asked for, once each

function status(text, kind) {
  $("live-status").textContent = text;
  $("live-status").className = `live-status ${kind}`;
}

function showError(message) {
  $("console-error").textContent = message;
  $("console-error").hidden = !message;
}

// The server's clock after a pause, a resume, an authorisation or an extension.
async function reread(id) {
  try {
    const attempt = await Api.get(`/api/v1/proctoring/attempts/${id}`);
    table.update(id, { state: attempt.state, remaining_seconds: attempt.remaining_seconds, deadline: attempt.deadline });
  } catch (error) { /* the next snapshot corrects it */ }
}

// An entry of a sitting the table does not know (registered after the snapshot): ask for a new
// snapshot by reconnecting; the cursors make sure nothing is lost or shown twice.
function askForSnapshot(id) {
  if (resnapshot || unknown.has(id)) return;
  unknown.add(id);
  resnapshot = setTimeout(() => { resnapshot = null; channel.restart(); }, 1000);
}

function onMessage(frame) {
  switch (frame.type) {
    case "snapshot":
      for (const sitting of frame.sittings || []) channel.seed(sitting.attempt_id, sitting.last_seq);
      table.load(frame);
      $("windows").textContent = (frame.windows || []).map((w) => `${w.title} (${w.tier})`).join(", ") || "No windows assigned to you.";
      if (detail.id) detail.render();
      showError("");
      break;
    case "event":
      if (!table.apply(frame)) askForSnapshot(frame.attempt_id);
      detail.event(frame);
      if (CLOCK_KINDS.has(frame.kind)) reread(frame.attempt_id);
      break;
    case "presence":
      table.presence(frame.sittings);
      if (detail.id) detail.tick();
      break;
    case "result":
      actions.handle(frame);
      break;
    case "error":
      showError(`The server refused a message: ${frame.detail || frame.error}`);
      break;
    default:
      break;
  }
}

function onStatus(state, reason) {
  if (state === "open") status("live: connected", "ok");
  else if (state === "stopped") status(`live: stopped${reason ? ` (${reason})` : ""}`, "bad");
  else if (state === "waiting") status("live: reconnecting...", "warn");
  else status("live: connecting...", "warn");
}

const channel = new LiveChannel({
  ticket: () => Api.post("/api/v1/proctoring/channel-ticket", { window_id: null }),
  hello: (cursors) => ({ type: "hello", cursors: { ...cursors } }),
  onMessage,
  onStatus,
});
const actions = new Actions({ channel, output: $("action-result") });
const table = new SittingTable({
  body: document.querySelector("#sittings tbody"),
  empty: $("no-sittings"),
  onSelect: (id) => detail.open(id),
  onChange: (id) => { if (id === detail.id) detail.render(); },
});
const detail = new Detail({ table, actions });

// administrators also review results: show them the way there
$("results-link").hidden = sessionStorage.getItem("role") !== "admin";

$("logout").addEventListener("click", async () => {
  channel.stop("signed out");
  try { await Api.post("/api/v1/auth/logout"); } finally { Api.signOut(true); }
});
window.addEventListener("online", () => channel.restart()); // the old socket may be dead
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") channel.wake(); });
setInterval(() => { table.tick(); detail.tick(); }, 1000);

if (Api.token()) channel.start();
