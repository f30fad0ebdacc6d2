// The briefing before the clock starts: time limit, sections, rules, what is recorded, a system
// check, and "I accept" before Start. A proctored candidate then waits here to be admitted.
"use strict";

Api.requireSignIn();
const page = document.getElementById("briefing");
const attemptId = page.dataset.attempt;
const base = `/api/v1/attempts/${attemptId}`;
const $ = (id) => document.getElementById(id);
const WAITING = "awaiting_authorization";
const SITTING = new Set(["in_progress", "paused"]);
let briefing = null;

function item(text, className) {
  const li = document.createElement("li");
  li.textContent = text;
  if (className) li.className = className;
  return li;
}

function showError(message) {
  $("briefing-error").textContent = message;
  $("briefing-error").hidden = !message;
}

function render(told) {
  briefing = told;
  $("briefing-title").textContent = `Before you start: ${told.title}`;
  $("briefing-window").textContent = `${told.tier[0].toUpperCase()}${told.tier.slice(1)} tier. `
    + `The exam can be started ${Format.range(told.opens_at, told.closes_at)}.`;
  const yours = told.your_time_limit_minutes;
  $("briefing-time").textContent = yours === told.time_limit_minutes
    ? `You have ${Format.minutes(yours)} once the clock starts.`
    : `You have ${Format.minutes(yours)} once the clock starts (the exam's limit is ${told.time_limit_minutes} minutes; your accommodations add the rest).`;
  $("briefing-accommodations").replaceChildren(...told.accommodations.map((line) => item(line)));
  const rows = told.sections.map((section) => {
    const row = document.createElement("tr");
    const head = document.createElement("th");
    head.scope = "row";
    head.textContent = section.title;
    row.append(head);
    row.insertCell().textContent = String(section.items);
    const timed = told.sections.some((other) => other.minutes);
    row.insertCell().textContent = section.minutes ? `about ${section.minutes} minutes` : timed ? "the rest of your time" : "as you choose";
    return row;
  });
  const total = document.createElement("tr");
  total.className = "total";
  const label = document.createElement("th");
  label.scope = "row";
  label.textContent = "In all";
  total.append(label);
  total.insertCell().textContent = String(told.total_items);
  total.insertCell().textContent = Format.minutes(yours);
  $("briefing-sections").tBodies[0].replaceChildren(...rows, total);
  $("briefing-rules").replaceChildren(...told.rules.map((line) => item(line)));
  $("briefing-recorded").replaceChildren(...told.recorded.map((line) => item(line)));
  $("accept").checked = Boolean(told.rules_accepted_at);
  const opens = new Date(told.opens_at);
  const early = opens > new Date();
  $("not-open").hidden = !early;
  $("not-open").textContent = early ? `The window opens ${Format.when(told.opens_at)}. You can start from then.` : "";
  page.setAttribute("aria-busy", "false");
  follow(told.attempt.state);
}

function follow(state) {
  if (SITTING.has(state)) { location.replace(`/exams/${attemptId}`); return; }
  if (state === "submitted") { location.replace(`/exams/${attemptId}/receipt`); return; }
  if (!["registered", "checked_in", WAITING].includes(state)) {
    showError(state === "expired" ? "This exam window has closed: the exam can no longer be started."
      : "The proctor has ended this sitting.");
    $("start-section").hidden = true;
    return;
  }
  const waiting = state === WAITING;
  $("start-section").hidden = waiting;
  $("waiting").hidden = !waiting;
  if (waiting) {
    $("waiting-status").textContent = `Still waiting: checked ${new Date().toLocaleTimeString()}.`;
    setTimeout(poll, 3000);
  }
}

async function poll() {
  try {
    follow((await Api.get(base)).state);
  } catch (error) {
    $("waiting-status").textContent = "The network is not answering; trying again.";
    setTimeout(poll, 5000);
  }
}

// ---- system check ------------------------------------------------------------------------

function check(name, ok, detail) {
  const li = document.createElement("li");
  li.className = ok === null ? "check info" : ok ? "check ok" : "check bad";
  const mark = document.createElement("span");
  mark.className = "check-mark";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = ok === null ? "i" : ok ? "✓" : "✗";
  const text = document.createElement("span");
  text.textContent = `${name}: ${ok === null ? "" : ok ? "passed. " : "problem. "}${detail[0].toUpperCase()}${detail.slice(1)}`;
  li.append(mark, text);
  $("system-check").append(li);
  return li;
}

async function systemCheck(told) {
  $("system-check").replaceChildren();
  const features = ["fetch" in window, "localStorage" in window, "WebSocket" in window, "Intl" in window,
    typeof CSS !== "undefined" && CSS.supports("display", "grid")];
  check("Browser", features.every(Boolean), features.every(Boolean)
    ? "this browser has everything the exam page uses."
    : "this browser lacks features the exam page needs; use a current Chrome, Edge, Firefox or Safari.");
  const started = performance.now();
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    const rtt = Math.round(performance.now() - started);
    const skew = response.headers.get("Date") ? Math.round((Date.now() - Date.parse(response.headers.get("Date"))) / 1000) : 0;
    check("Network", response.ok, response.ok ? `the exam server answered in ${rtt} ms.` : "the exam server is not ready; try again shortly.");
    check("Clock", null, Math.abs(skew) <= 60
      ? "your computer's clock agrees with the server's. The exam always uses the server's clock."
      : `your computer's clock is about ${Math.abs(skew)} seconds off. That is fine: the exam uses the server's clock.`);
  } catch (error) {
    check("Network", false, "the exam server cannot be reached. Check your connection.");
  }
  if (told.proctored) {
    check("Full screen", Boolean(document.fullscreenEnabled), document.fullscreenEnabled
      ? "this browser can show the exam full screen."
      : "this browser cannot go full screen here; your proctor will see that.");
  }
  if (told.webcam_interval_seconds) {
    const camera = check("Camera", null, "this sitting uses your camera. Test it before you start.");
    $("camera-check").hidden = false;
    $("camera-check").onclick = async () => {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: true });
        stream.getTracks().forEach((track) => track.stop());
        camera.replaceWith(check("Camera", true, "your camera works and this page may use it."));
      } catch (error) {
        camera.replaceWith(check("Camera", false, `the camera is not available (${error.name}). Allow it in the browser's address bar, or tell your proctor.`));
      }
      $("camera-check").hidden = true;
    };
  }
}

// ---- start -------------------------------------------------------------------------------

$("accept").addEventListener("change", () => {
  if ($("accept").checked) $("accept-error").textContent = "";
  $("accept").setAttribute("aria-invalid", "false");
});

$("start").addEventListener("click", async () => {
  if (!$("accept").checked) {
    $("accept-error").textContent = "Tick the box to accept the rules before you start.";
    $("accept").setAttribute("aria-invalid", "true");
    $("accept").focus();
    return;
  }
  $("start").disabled = true;
  showError("");
  try {
    let status = await Api.get(base);
    if (status.state === "registered") status = await Api.post(`${base}/check-in`);
    if (status.state === "checked_in") status = await Api.post(`${base}/start`, { accept_rules: true });
    follow(status.state);
  } catch (error) {
    showError(error.message);
  } finally {
    $("start").disabled = false;
  }
});

Api.get(`${base}/briefing`)
  .then((told) => { render(told); return systemCheck(told); })
  .catch((error) => showError(error.message));
