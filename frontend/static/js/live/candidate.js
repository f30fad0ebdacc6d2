// The candidate's live channel on the exam page (docs/PROCTORING.md): heartbeats, what the page
// notices (queued until acknowledged), the proctor's warnings and chat, state changes that make
// sitting.js re-read the attempt, and webcam snapshots where the window asks for them.

// `Api` is the global of api.js (a classic script loaded first: a global binding, not window.Api).
import { $ } from "./dom.js";
import { ChatBox } from "./chat.js";
import { Outbox } from "./outbox.js";
import { LiveChannel } from "./socket.js";
import { watchPage, watchTabs } from "./watch.js";
import { Webcam } from "./webcam.js";

const attemptId = $("clock").dataset.attempt;
const FINAL = new Set(["submitted", "terminated", "expired"]);
const TRANSIENT = /rate|busy|unavailable|internal|retry/; // errors worth a resend after a reconnect
const seenKey = `exam.${attemptId}.live.seen`;

let seen = Number(sessionStorage.getItem(seenKey) || 0); // the highest seq this tab has shown
let heartbeat = null;
let welcomed = false;
let proctored = true; // a self-paced sitting has the channel too, but no proctor to chat with
let refreshTimer = null;
const myChats = new Map(); // client_seq -> the chat line waiting for its ack

// Events wait in memory until this tab knows whether it is a copy of another (see watchTabs).
let outbox = null;
const early = [];
const report = (kind, detail = {}) => (outbox ? outbox.add(kind, detail) : early.push([kind, detail]));

const chat = new ChatBox({
  log: $("chat-log"), input: $("chat-input"), button: $("chat-send"),
  onSend: (text) => {
    if (!outbox) return false;
    const clientSeq = outbox.add("chat", { text });
    myChats.set(clientSeq, chat.add({ who: "candidate", label: "You", text, pending: true }));
    return true;
  },
});
const webcam = new Webcam({
  attemptId, video: $("webcam"),
  onUnavailable: (reason) => {
    report("webcam_unavailable", { reason });
    chat.add({ who: "system", label: "Camera", text: `Your camera is not available (${reason}). Your proctor has been told.` });
    expandChat();
  },
});

function showStatus(text, kind) {
  const node = $("live-status");
  node.textContent = text;
  node.className = `live-status ${kind}`;
  node.hidden = false;
}

function onStatus(state) {
  const who = proctored ? "proctor" : "live";
  if (state === "open") showStatus(`${who}: connected`, "ok");
  else if (state === "stopped") {
    if (welcomed) showStatus(`${who}: disconnected`, "bad");
    else $("live-status").hidden = true; // no live channel for this sitting
  } else showStatus(`${who}: ${welcomed ? "reconnecting" : "connecting"}...`, "warn");
}

async function lookUpProctoring() {
  try {
    const mine = (await Api.get("/api/v1/me/attempts")).find((attempt) => attempt.id === attemptId);
    if (mine) proctored = Boolean(mine.proctored);
  } catch (error) { /* assume a proctor is there */ }
}

function expandChat(open = true) {
  $("chat-body").hidden = !open;
  $("chat-toggle").setAttribute("aria-expanded", String(open));
}

function showWarning(message) {
  $("proctor-warning-text").textContent = message;
  $("proctor-warning").hidden = false;
  $("proctor-warning-close").focus();
}

// sitting.js re-reads the attempt (pause, resume, termination, new deadline); replays come in
// bursts, so one refresh covers them.
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => window.dispatchEvent(new CustomEvent("exam:refresh")), 50);
}

function ended() {
  clearInterval(heartbeat);
  webcam.stop();
  channel.stop("the sitting has ended");
  showStatus(`${proctored ? "proctor" : "live"}: sitting ended`, "muted");
  $("chat-form").hidden = true;
}

function welcome(frame) {
  welcomed = true;
  $("chat").hidden = !proctored;
  clearInterval(heartbeat);
  const seconds = Number(frame.heartbeat_seconds) || 10;
  heartbeat = setInterval(() => channel.send({ type: "heartbeat" }), seconds * 1000);
  if (FINAL.has(frame.state)) { ended(); return; }
  if (frame.webcam_interval_seconds) webcam.start(frame.webcam_interval_seconds);
  outbox.resend();
}

function entry(frame) {
  const fresh = frame.seq > seen;
  if (fresh) {
    seen = frame.seq;
    sessionStorage.setItem(seenKey, String(seen));
  }
  const detail = frame.detail || {};
  switch (frame.kind) {
    case "warning":
      chat.add({ who: "warning", label: "Warning", text: detail.message || "", at: frame.at, seq: frame.seq });
      if (fresh) showWarning(detail.message || "");
      break;
    case "chat": {
      const mine = frame.source === "candidate";
      const line = chat.add({ who: mine ? "candidate" : "proctor", label: mine ? "You" : "Proctor", text: detail.text || "", at: frame.at, seq: frame.seq });
      if (line && !mine && fresh) expandChat();
      break;
    }
    case "time_extended":
      chat.add({ who: "system", label: "Time", text: `Your time was extended by ${detail.minutes} minutes.`, at: frame.at, seq: frame.seq });
      refreshSoon();
      break;
    case "state_changed":
      refreshSoon();
      if (FINAL.has(detail.to)) ended();
      break;
    default:
      break;
  }
}

function acknowledged(frame) {
  outbox.settle(frame.client_seq);
  const line = myChats.get(frame.client_seq);
  if (!line) return;
  myChats.delete(frame.client_seq);
  if (chat.has(frame.seq)) line.remove(); // its echo is already shown
  else chat.confirm(line, frame.seq);
}

function refused(frame) {
  if (frame.client_seq === undefined || TRANSIENT.test(String(frame.error))) return;
  outbox.settle(frame.client_seq);
  const line = myChats.get(frame.client_seq);
  if (line) {
    line.classList.add("failed");
    line.querySelector(".chat-text").textContent += ` (not sent: ${frame.detail || frame.error})`;
    myChats.delete(frame.client_seq);
  }
}

const channel = new LiveChannel({
  ticket: () => Api.post(`/api/v1/attempts/${attemptId}/channel-ticket`),
  hello: (cursors) => ({ type: "hello", last_seq: cursors[attemptId] || 0 }),
  defaultAttempt: attemptId,
  onStatus,
  onMessage: (frame) => {
    if (frame.type === "welcome") welcome(frame);
    else if (frame.type === "ack") acknowledged(frame);
    else if (frame.type === "error") refused(frame);
    else if (frame.type === "event") entry(frame);
  },
});
$("chat-toggle").addEventListener("click", () => expandChat($("chat-body").hidden));
$("proctor-warning-close").addEventListener("click", () => { $("proctor-warning").hidden = true; });
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") channel.wake(); });
watchPage(report, { attemptId, onOnline: () => channel.restart() }); // the old socket may be dead

if (Api.token()) {
  const [duplicate] = await Promise.all([
    watchTabs(attemptId, () => Api.clientSession(), () => report("second_tab")), lookUpProctoring(),
  ]);
  if (duplicate) {
    sessionStorage.removeItem("exam.client"); // Api.clientSession() makes a new id for this tab
    Outbox.forget(attemptId);
  }
  outbox = new Outbox(attemptId);
  outbox.channel = channel;
  for (const [kind, detail] of early.splice(0)) outbox.add(kind, detail);
  channel.start();
}
