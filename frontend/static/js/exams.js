"use strict";

Api.requireSignIn();
document.getElementById("logout").addEventListener("click", async () => {
  try { await Api.post("/api/v1/auth/logout"); } finally { Api.signOut(true); }
});

const LABELS = {
  registered: "Registered", checked_in: "Checked in", awaiting_authorization: "Waiting for the proctor",
  in_progress: "In progress", paused: "Paused", submitted: "Submitted", terminated: "Ended by the proctor",
  expired: "Missed",
};
const ENDED = new Set(["submitted", "terminated"]);

// an ended sitting's result, as far as an examiner has released it
async function showResult(attempt, cell) {
  const result = await Api.get(`/api/v1/attempts/${attempt.id}/result`);
  const line = document.createElement("p");
  line.className = "result-line";
  if (result.status === "released") {
    const sections = result.sections.map((s) => `${s.id} ${s.percent}% (minimum ${s.minimum_percent}%)`).join(", ");
    line.textContent = `${result.passed ? "Passed" : "Not passed"}: scaled score ${result.scaled_score} of 1000 `
      + `(700 passes); ${sections}.`;
  } else {
    line.textContent = result.message;
  }
  cell.append(line);
}

function action(attempt) {
  switch (attempt.state) {
    case "registered": return ["Check in", () => step(attempt, "check-in")];
    case "checked_in": return ["Start exam", () => step(attempt, "start")];
    case "in_progress": case "paused": return ["Continue", () => location.assign(`/exams/${attempt.id}`)];
    default: return null;
  }
}

// what the candidate agrees to before starting: said here, before the clock runs
function notices(attempt) {
  const lines = [];
  if (attempt.proctored) {
    lines.push("A proctor watches this sitting live: leaving the exam tab or full screen, copying, pasting "
      + "(the length only, never the text) and printing are reported to them.");
  }
  if (attempt.webcam_interval_seconds) {
    lines.push(`This exam uses your camera: a still picture every ${attempt.webcam_interval_seconds} seconds goes to `
      + "your proctor. Your browser will ask for permission when the exam starts.");
  }
  return lines;
}

async function step(attempt, name) {
  try {
    const status = await Api.post(`/api/v1/attempts/${attempt.id}/${name}`);
    if (status.state === "in_progress") location.assign(`/exams/${attempt.id}`);
    else await load();
  } catch (error) { showError(error.message); }
}

function showError(message) {
  const box = document.getElementById("exams-error");
  box.textContent = message;
  box.hidden = false;
}

const awaiting = new Set(); // sittings waiting for the proctor: entered as soon as authorised

async function load() {
  const attempts = await Api.get("/api/v1/me/attempts");
  const authorised = attempts.find((a) => awaiting.has(a.id) && a.state === "in_progress");
  if (authorised) { location.assign(`/exams/${authorised.id}`); return; }
  const body = document.querySelector("#exams tbody");
  body.replaceChildren();
  document.getElementById("no-exams").hidden = attempts.length > 0;
  for (const attempt of attempts) {
    const row = body.insertRow();
    row.dataset.attempt = attempt.id;
    const title = row.insertCell();
    title.textContent = `${attempt.title} (${attempt.tier}${attempt.proctored ? ", proctored" : ""})`;
    for (const line of notices(attempt)) {
      const note = document.createElement("p");
      note.className = "notice-line";
      note.textContent = line;
      title.append(note);
    }
    row.insertCell().textContent = `${new Date(attempt.opens_at).toLocaleString()} to ${new Date(attempt.closes_at).toLocaleString()}`;
    const status = row.insertCell();
    status.textContent = LABELS[attempt.state] || attempt.state;
    if (ENDED.has(attempt.state)) showResult(attempt, status).catch((error) => showError(error.message));
    const cell = row.insertCell();
    const next = action(attempt);
    if (next) {
      const button = document.createElement("button");
      button.textContent = next[0];
      button.addEventListener("click", next[1]);
      cell.append(button);
    }
  }
  // a proctor authorises from their console: look again shortly
  for (const attempt of attempts) if (attempt.state === "awaiting_authorization") awaiting.add(attempt.id);
  if (attempts.some((a) => a.state === "awaiting_authorization")) setTimeout(load, 3000);
}

load().catch((error) => showError(error.message));
