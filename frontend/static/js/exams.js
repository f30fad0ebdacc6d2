// "My exams": each booked sitting with its window in the candidate's time zone, where it leads
// next (briefing, exam, receipt), and its result once an examiner has released it.
"use strict";

Api.requireSignIn();
document.getElementById("logout").addEventListener("click", async () => {
  try { await Api.post("/api/v1/auth/logout"); } finally { Api.signOut(true); }
});

const LABELS = {
  registered: "Booked", checked_in: "Checked in", awaiting_authorization: "Waiting for the proctor",
  in_progress: "In progress", paused: "Paused by the proctor", submitted: "Submitted", terminated: "Ended by the proctor",
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

// where each state leads: the briefing before the clock starts, the exam, then the receipt
function action(attempt) {
  switch (attempt.state) {
    case "registered": case "checked_in": return ["Open the briefing", `/exams/${attempt.id}/briefing`];
    case "awaiting_authorization": return ["Waiting for the proctor", `/exams/${attempt.id}/briefing`];
    case "in_progress": case "paused": return ["Continue the exam", `/exams/${attempt.id}`];
    case "submitted": return ["Submission receipt", `/exams/${attempt.id}/receipt`];
    default: return null;
  }
}

function showError(message) {
  const box = document.getElementById("exams-error");
  box.textContent = message;
  box.hidden = false;
}

async function load() {
  const attempts = await Api.get("/api/v1/me/attempts");
  const body = document.querySelector("#exams tbody");
  body.replaceChildren();
  document.getElementById("no-exams").hidden = attempts.length > 0;
  document.getElementById("zone").textContent = `Times are shown in ${Format.zone}.`;
  for (const attempt of attempts) {
    const row = body.insertRow();
    row.dataset.attempt = attempt.id;
    const title = document.createElement("th");
    title.scope = "row";
    title.textContent = `${attempt.title} (${attempt.tier}${attempt.proctored ? ", proctored" : ""})`;
    row.append(title);
    row.insertCell().textContent = Format.range(attempt.opens_at, attempt.closes_at);
    const status = row.insertCell();
    status.textContent = LABELS[attempt.state] || attempt.state;
    if (ENDED.has(attempt.state)) showResult(attempt, status).catch((error) => showError(error.message));
    const cell = row.insertCell();
    const next = action(attempt);
    if (next) {
      const link = document.createElement("a");
      link.className = "button";
      link.textContent = next[0];
      link.href = next[1];
      link.setAttribute("aria-label", `${next[0]}: ${attempt.title}`);
      cell.append(link);
    }
  }
}

load().catch((error) => showError(error.message));
