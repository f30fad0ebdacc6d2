// The exam page: renders the form, saves every change with a revision, survives reloads and
// dropped networks (unsent saves wait in localStorage), and shows the server's clock.
"use strict";

Api.requireSignIn();
const attemptId = document.getElementById("clock").dataset.attempt;
const base = `/api/v1/attempts/${attemptId}`;
const key = (name) => `exam.${attemptId}.${name}`;
const load = (name) => JSON.parse(localStorage.getItem(key(name)) || "{}");
const keep = (name, value) => localStorage.setItem(key(name), JSON.stringify(value));

const pending = load("pending");      // position -> {revision, value}: saves not yet acknowledged
const revisions = load("revisions");  // position -> highest revision this browser has used
const timeSpent = load("time");       // position -> seconds spent on the question
const answers = {};                   // position -> the current answer shown
const inFlight = new Set();
let clock = { remaining: null, at: performance.now(), state: null };
let retryDelay = 1000;
let activePosition = null;
let finished = false;

const $ = (id) => document.getElementById(id);
const el = (tag, { dataset, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset || {});
  node.append(...children);
  return node;
};

function banner(message) {
  $("banner").textContent = message;
  $("banner").hidden = !message;
}

function setConnection(online) {
  $("connection").textContent = online ? "online" : "offline - answers are kept and will be sent";
  $("connection").classList.toggle("offline", !online);
}

function markState(position, kind, text) {
  const node = document.querySelector(`#q${position} .state`);
  if (!node) return;
  node.className = `state ${kind}`;
  node.textContent = text;
}

function updateOverview() {
  let unanswered = 0;
  for (const link of $("overview").children) {
    const position = Number(link.dataset.position);
    const answered = answers[position] !== null && answers[position] !== undefined;
    unanswered += answered ? 0 : 1;
    link.classList.toggle("answered", answered);
    link.classList.toggle("flagged", document.querySelector(`#q${position} .flag`).checked);
  }
  $("progress").textContent = `${$("overview").children.length - unanswered} of ${$("overview").children.length} answered`;
  return unanswered;
}

function syncClock(status) {
  const resumed = clock.state !== null && clock.state !== "in_progress" && status.state === "in_progress";
  clock = { remaining: status.remaining_seconds, at: performance.now(), state: status.state };
  if (status.warnings && status.warnings.length) banner(status.warnings.join(" "));
  $("paused").hidden = status.state !== "paused";
  setDisabled(status.state !== "in_progress");
  if (!["in_progress", "paused"].includes(status.state)) finish(status.state);
  if (resumed) flush(); // answers given while paused go out now
}

function tick() {
  if (clock.remaining === null || finished) return;
  const running = clock.state === "in_progress";
  const left = Math.max(0, clock.remaining - (running ? (performance.now() - clock.at) / 1000 : 0));
  const minutes = Math.floor(left / 60), seconds = Math.floor(left % 60);
  $("clock").textContent = `${minutes}:${String(seconds).padStart(2, "0")} left`;
  $("clock").classList.toggle("low", left < 300);
}

function finish(state) {
  if (finished) return;
  finished = true;
  const messages = {
    submitted: "Your exam has been submitted. You may close this page.",
    terminated: "The proctor has ended this exam.",
    expired: "This exam can no longer be taken.",
  };
  $("finished").textContent = messages[state] || `This exam is ${state}.`;
  $("finished").hidden = false;
  $("clock").textContent = "finished";
  setDisabled(true);
  $("submit").hidden = true;
  Api.forget(`exam.${attemptId}.`); // nothing of the answers stays on this machine
}

function setDisabled(disabled) {
  for (const input of document.querySelectorAll("#questions input, #questions select, #questions textarea, #questions button")) {
    input.disabled = disabled;
  }
}

// ---- saving ------------------------------------------------------------------------------

function record(position, value) {
  answers[position] = value;
  const revision = (revisions[position] || 0) + 1;
  revisions[position] = revision;
  pending[position] = { revision, value };
  keep("revisions", revisions);
  keep("pending", pending);
  markState(position, "pending", "saving...");
  updateOverview();
  flush();
}

async function send(position) {
  const entry = pending[position];
  entry.tries = (entry.tries || 0) + 1;
  inFlight.add(position);
  let again = false;
  try {
    const result = await Api.put(`${base}/responses/${position}`, {
      revision: entry.revision, value: entry.value, time_spent_seconds: timeSpent[position] || 0,
    });
    setConnection(true);
    retryDelay = 1000;
    // Not applied: the server already holds this revision or a later one. After a retry with
    // the same revision that is this tab's own earlier delivery whose acknowledgement was lost;
    // otherwise another window saved a newer answer, which the server rightly keeps.
    const ours = result.applied || (entry.tries > 1 && result.stored_revision === entry.revision);
    if (pending[position] === entry) delete pending[position];
    keep("pending", pending);
    revisions[position] = Math.max(revisions[position] || 0, result.stored_revision, pending[position]?.revision || 0);
    again = Boolean(pending[position]); // a newer answer arrived while this one was in flight
    showInputError(position, "");
    if (!ours && !again) {
      markState(position, "failed", "not saved: another window saved a newer answer; reload to see it");
    } else {
      markState(position, again ? "pending" : "saved", again ? "saving..." : "saved");
    }
    if (result.remaining_seconds !== null) syncClock({ ...result, state: "in_progress" });
    if (result.warnings.length) banner(result.warnings.join(" "));
  } catch (error) {
    if (error instanceof Api.ApiError) {
      markState(position, "failed", `not saved: ${error.message}`);
      if (error.status === 422) {
        delete pending[position];
        keep("pending", pending);
        showInputError(position, error.message.replace(/^value: /, ""));
      }
      if (error.status === 409) await refresh();
    } else {
      setConnection(false);
      markState(position, "pending", "waiting for the network...");
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    }
  } finally {
    inFlight.delete(position);
  }
  if (again) flush();
}

function flush() {
  if (finished || clock.state !== "in_progress") return;
  for (const position of Object.keys(pending).map(Number)) {
    if (!inFlight.has(position)) send(position);
  }
}

// ---- questions ---------------------------------------------------------------------------

// Stems are Markdown: blank lines separate paragraphs, single line breaks are soft, ``` fences
// hold code and `backticks` inline code. Built with DOM nodes only, never innerHTML.
function inline(text) {
  return text.split(/(`[^`]+`)/).map((part) =>
    part.startsWith("`") && part.endsWith("`") && part.length > 1 ? el("code", { textContent: part.slice(1, -1) }) : part);
}

function markdown(text) {
  const box = el("div", { className: "stem" });
  const blocks = text.trim().split(/(```[\s\S]*?```)/);
  for (const block of blocks) {
    if (block.startsWith("```")) {
      box.append(el("pre", {}, el("code", { textContent: block.replace(/^```[^\n]*\n?/, "").replace(/```$/, "") })));
      continue;
    }
    for (const paragraph of block.split(/\n\s*\n/)) {
      const lines = paragraph.split("\n");
      if (!paragraph.trim()) continue;
      if (lines.every((line) => /^\s*([-*]|\d+\.)\s/.test(line) || !line.trim())) {
        box.append(el("ul", {}, ...lines.filter((l) => l.trim()).map((l) => el("li", {}, ...inline(l.replace(/^\s*([-*]|\d+\.)\s/, ""))))));
      } else {
        box.append(el("p", {}, ...inline(lines.map((l) => l.trim()).join(" "))));
      }
    }
  }
  return box;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function choiceInputs(entry, multiple) {
  const position = entry.position;
  const box = el("div");
  const saved = entry.answer;
  for (const option of entry.item.options) {
    const input = el("input", { type: multiple ? "checkbox" : "radio", name: `q${position}`, value: option.id });
    input.checked = multiple ? Array.isArray(saved) && saved.includes(option.id) : String(saved) === option.id;
    input.addEventListener("change", () => {
      const checked = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      record(position, multiple ? (checked.length ? checked : null) : checked[0]);
    });
    box.append(el("label", { className: "choice" }, input, el("span", {}, `${option.id}. `, ...inline(option.text.trim().replace(/\s*\n\s*/g, " ")))));
  }
  return box;
}

function textInput(entry) {
  const position = entry.position;
  const input = el("input", { type: "text", id: `answer-q${position}`, value: entry.answer ?? "", inputMode: entry.item.type === "numeric" ? "decimal" : "text" });
  const hint = el("span", { className: "accepts", id: `accepts-q${position}`, textContent: entry.item.accepts || "" });
  const error = el("span", { className: "input-error", id: `error-q${position}`, role: "alert" });
  input.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
  const save = debounce(() => record(position, input.value.trim() === "" ? null : input.value.trim()), 600);
  input.addEventListener("input", save);
  const prefix = entry.item.prefix ? el("span", { textContent: `${entry.item.prefix} ` }) : "";
  const unit = entry.item.unit ? el("span", { textContent: ` ${entry.item.unit}` }) : "";
  return el("div", { className: "typed-answer" }, el("label", {}, prefix, input, unit), hint, error);
}

function showInputError(position, message) {
  const node = document.getElementById(`error-q${position}`);
  if (!node) return;
  node.textContent = message;
  document.getElementById(`answer-q${position}`)?.setAttribute("aria-invalid", message ? "true" : "false");
}

function orderingInput(entry) {
  const byId = Object.fromEntries(entry.item.options.map((o) => [o.id, o.text]));
  const list = el("ol", { className: "order" });
  const order = Array.isArray(entry.answer) ? entry.answer : entry.item.options.map((o) => o.id);
  const render = (ids) => {
    list.replaceChildren(...ids.map((id, index) => {
      const up = el("button", { type: "button", textContent: "up", disabled: index === 0, className: "secondary" });
      const down = el("button", { type: "button", textContent: "down", disabled: index === ids.length - 1, className: "secondary" });
      const move = (delta) => {
        const next = [...ids];
        [next[index], next[index + delta]] = [next[index + delta], next[index]];
        render(next);
        record(entry.position, next);
      };
      up.addEventListener("click", () => move(-1));
      down.addEventListener("click", () => move(1));
      return el("li", { dataset: { id } }, el("span", { textContent: byId[id] }), up, down);
    }));
  };
  render(order);
  return list;
}

function matchingInput(entry) {
  const grid = el("div", { className: "match" });
  const saved = entry.answer || {};
  const selects = [];
  for (const premise of entry.item.premises) {
    const select = el("select", { name: premise.id }, el("option", { value: "", textContent: "choose..." }));
    for (const response of entry.item.responses) {
      select.append(el("option", { value: response.id, textContent: response.text, selected: saved[premise.id] === response.id }));
    }
    select.addEventListener("change", () => {
      const value = Object.fromEntries(selects.filter((s) => s.value).map((s) => [s.name, s.value]));
      record(entry.position, Object.keys(value).length ? value : null);
    });
    selects.push(select);
    grid.append(el("span", { textContent: premise.text }), select);
  }
  return grid;
}

function filesInput(entry) {
  const box = el("div");
  const starters = Object.fromEntries((entry.item.starter_files || []).map((f) => [f.path, f.content]));
  const areas = {};
  const save = debounce(() => record(entry.position, Object.fromEntries(Object.entries(areas).map(([n, a]) => [n, a.value]))), 1000);
  for (const name of entry.item.answer_files) {
    const area = el("textarea", { spellcheck: false, name });
    area.value = entry.answer && name in entry.answer ? entry.answer[name] : starters[name] || "";
    area.addEventListener("input", save);
    areas[name] = area;
    box.append(el("label", {}, el("code", { textContent: name }), area));
  }
  for (const [path, content] of Object.entries(starters)) {
    if (!(path in areas)) box.append(el("details", {}, el("summary", { textContent: `${path} (given)` }), el("pre", { textContent: content })));
  }
  return box;
}

const INPUTS = {
  single_choice: (e) => choiceInputs(e, false),
  multiple_response: (e) => choiceInputs(e, true),
  true_false: (e) => choiceInputs(e, false),
  numeric: textInput,
  short_text: textInput,
  ordering: orderingInput,
  matching: matchingInput,
  performance_task: filesInput,
};

function renderQuestion(entry) {
  const position = entry.position;
  const flag = el("input", { type: "checkbox", className: "flag", checked: entry.flagged });
  flag.addEventListener("change", async () => {
    try { await Api.put(`${base}/flags/${position}`, { flagged: flag.checked }); } catch (error) { banner(error.message); }
    updateOverview();
  });
  const kind = entry.item.type === "performance_task" ? `task, about ${entry.item.estimated_minutes} min` : entry.item.type.replaceAll("_", " ");
  const card = el("article", { className: "card question", id: `q${position}` },
    el("div", { className: "meta" }, el("span", { textContent: `Question ${position} (${kind})` }),
      el("label", {}, flag, " flag for review")),
    markdown(entry.item.stem),
    INPUTS[entry.item.type](entry),
    el("p", { className: "state", textContent: entry.revision ? "saved" : "" }));
  card.addEventListener("focusin", () => { activePosition = position; });
  card.addEventListener("pointerdown", () => { activePosition = position; });
  $("overview").append(el("a", { href: `#q${position}`, textContent: String(position), dataset: { position } }));
  return card;
}

// ---- life cycle --------------------------------------------------------------------------

async function refresh() {
  try {
    syncClock(await Api.get(base));
    setConnection(true);
  } catch (error) {
    if (!(error instanceof Api.ApiError)) setConnection(false);
  }
}

async function start() {
  let form;
  try {
    form = await Api.get(`${base}/form`);
  } catch (error) {
    if (error instanceof Api.ApiError && error.status === 409) { finish(error.body.state); return; }
    banner(error.message);
    return;
  }
  for (const entry of form.items) {
    revisions[entry.position] = Math.max(revisions[entry.position] || 0, entry.revision);
    answers[entry.position] = entry.answer;
    // an answer this browser never got acknowledged wins over the older saved one
    if (pending[entry.position] && pending[entry.position].revision > entry.revision) {
      entry.answer = pending[entry.position].value;
      answers[entry.position] = entry.answer;
    } else {
      delete pending[entry.position];
    }
    $("questions").append(renderQuestion(entry));
    if (pending[entry.position]) markState(entry.position, "pending", "saving...");
  }
  keep("revisions", revisions);
  keep("pending", pending);
  syncClock(form.attempt);
  updateOverview();
  flush();
}

$("submit").addEventListener("click", async () => {
  const unanswered = updateOverview();
  const question = unanswered ? `You have ${unanswered} unanswered question(s). Submit now?` : "Submit your exam now?";
  if (!confirm(question)) return;
  flush();
  for (let waited = 0; Object.keys(pending).length && waited < 10000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    const result = await Api.post(`${base}/submit`);
    syncClock(result.attempt);
  } catch (error) {
    banner(error.message);
    await refresh();
  }
});

setInterval(tick, 500);
setInterval(() => {
  if (activePosition !== null && document.visibilityState === "visible" && clock.state === "in_progress") {
    timeSpent[activePosition] = (timeSpent[activePosition] || 0) + 1;
  }
}, 1000);
setInterval(() => keep("time", timeSpent), 5000);
setInterval(refresh, 20000);
setInterval(() => { if (clock.state === "paused") refresh(); }, 5000);
window.addEventListener("online", flush);
window.addEventListener("exam:refresh", refresh); // the live channel saw a state change or more time
start();
