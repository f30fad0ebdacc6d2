// The exam page: renders the form (item text arrives as sanitised HTML rendered on the server),
// saves every change with a revision, survives reloads and dropped networks (unsent saves wait in
// localStorage), shows the server's clock, and ends with a review screen and one submit.
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
const flags = {};                     // position -> flagged for review
const failed = new Set();             // positions whose last save was refused
const editors = [];                   // the task editors, disabled with everything else
const inFlight = new Set();
let clock = { remaining: null, at: performance.now(), state: null };
let retryDelay = 1000;
let activePosition = null;
let finished = false;
let online = true;
let announcedAt = null;               // the minutes left at the last tick, to read out marks once

const $ = (id) => document.getElementById(id);
const el = (tag, { dataset, attrs, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset || {});
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
};
// item text is rendered and sanitised on the server (markdown-it + nh3 allowlist); the CSP still
// forbids any script it could contain
const rendered = (tag, html, props = {}) => { const node = el(tag, props); node.innerHTML = html; return node; };
// text only, parsed in an inert document (nothing in it loads or runs)
const plain = (html) => new DOMParser().parseFromString(html, "text/html").body.textContent.trim();

function banner(message) {
  $("banner").textContent = message;
  $("banner").hidden = !message;
}

function setConnection(isOnline) {
  online = isOnline;
  $("connection").textContent = isOnline ? "online" : "offline - answers are kept and will be sent";
  $("connection").classList.toggle("offline", !isOnline);
  showSaveStatus();
}

// ---- what the candidate sees of saving: per question, and for the whole exam ----------------

const STATES = { saved: "✓", pending: "…", failed: "!", offline: "⏸" };

function markState(position, kind, text) {
  const node = document.querySelector(`#q${position} .state`);
  if (!node) return;
  node.className = `state ${kind}`;
  node.replaceChildren(el("span", { className: "icon", textContent: STATES[kind] || "", attrs: { "aria-hidden": "true" } }), ` ${text}`);
  if (kind === "failed") failed.add(position); else failed.delete(position);
  showSaveStatus();
}

function showSaveStatus() {
  const waiting = Object.keys(pending).length;
  const box = $("save-status");
  let kind, text;
  if (failed.size) [kind, text] = ["failed", `${failed.size} answer${failed.size > 1 ? "s" : ""} not saved: see the question`];
  else if (waiting && !online) [kind, text] = ["offline", `Offline: ${waiting} answer${waiting > 1 ? "s" : ""} kept here, sent when the network returns`];
  else if (waiting) [kind, text] = ["pending", `Saving ${waiting} answer${waiting > 1 ? "s" : ""}…`];
  else [kind, text] = ["saved", "All answers saved"];
  box.className = `save-status ${kind}`;
  box.querySelector(".icon").textContent = STATES[kind];
  box.querySelector(".text").textContent = text;
}

// ---- the navigator: answered, flagged and not answered, in text and icon --------------------

function isAnswered(position) {
  return answers[position] !== null && answers[position] !== undefined;
}

function updateOverview() {
  const links = [...$("overview-list").querySelectorAll("a")];
  let answeredCount = 0;
  for (const link of links) {
    const position = Number(link.dataset.position);
    const answered = isAnswered(position), flagged = Boolean(flags[position]);
    answeredCount += answered ? 1 : 0;
    link.classList.toggle("answered", answered);
    link.classList.toggle("flagged", flagged);
    link.querySelector(".icon").textContent = `${answered ? "✓" : "○"}${flagged ? "⚑" : ""}`;
    link.querySelector(".status").textContent = `, ${answered ? "answered" : "not answered"}${flagged ? ", flagged" : ""}`;
  }
  const flaggedCount = Object.values(flags).filter(Boolean).length;
  $("progress").textContent = `${answeredCount} of ${links.length} answered${flaggedCount ? `, ${flaggedCount} flagged` : ""}`;
  return links.length - answeredCount;
}

function goTo(position) {
  showReview(false);
  const card = $(`q${position}`);
  if (!card) return;
  card.scrollIntoView({ block: "start" });
  card.focus({ preventScroll: true });
}

// ---- the clock: shown every half second, read out only at meaningful moments ---------------

function syncClock(status) {
  const resumed = clock.state !== null && clock.state !== "in_progress" && status.state === "in_progress";
  clock = { remaining: status.remaining_seconds, at: performance.now(), state: status.state };
  if (status.warnings && status.warnings.length) banner(status.warnings.join(" "));
  $("paused").hidden = status.state !== "paused";
  setDisabled(status.state !== "in_progress");
  if (!["in_progress", "paused"].includes(status.state)) finish(status.state);
  if (resumed) flush(); // answers given while paused go out now
}

// read out when the minutes left reach a multiple of 10, then 5 and 1; never in between
function announce(minutesLeft) {
  const mark = minutesLeft > 0 && (minutesLeft % 10 === 0 || minutesLeft === 5 || minutesLeft === 1);
  if (announcedAt !== null && minutesLeft < announcedAt && mark) {
    $("clock-announce").textContent = `${minutesLeft} minute${minutesLeft > 1 ? "s" : ""} left.`;
  }
  announcedAt = minutesLeft;
}

function tick() {
  if (clock.remaining === null || finished) return;
  const running = clock.state === "in_progress";
  const left = Math.max(0, clock.remaining - (running ? (performance.now() - clock.at) / 1000 : 0));
  const minutes = Math.floor(left / 60), seconds = Math.floor(left % 60);
  $("clock").textContent = `${minutes}:${String(seconds).padStart(2, "0")} left`;
  $("clock").classList.toggle("low", left < 300);
  if (running) announce(Math.ceil(left / 60));
}

function finish(state) {
  if (finished) return;
  finished = true;
  const messages = {
    submitted: "Your exam has been submitted.",
    terminated: "The proctor has ended this exam.",
    expired: "This exam can no longer be taken.",
  };
  $("finished-text").textContent = messages[state] || `This exam is ${state}.`;
  $("receipt-link").hidden = state !== "submitted";
  $("finished").hidden = false;
  $("clock").textContent = "finished";
  setDisabled(true);
  $("review-open").hidden = true;
  $("review").hidden = true;
  Api.forget(`exam.${attemptId}.`); // nothing of the answers stays on this machine
  $("finished").focus();
}

function setDisabled(disabled) {
  for (const input of document.querySelectorAll("#questions input, #questions select, #questions textarea, #questions .order button, #questions .keep-order")) {
    input.disabled = disabled;
  }
  for (const editor of editors) editor.setDisabled(disabled);
  $("submit").disabled = disabled;
}

// ---- saving ------------------------------------------------------------------------------

function record(position, value) {
  answers[position] = value;
  const revision = (revisions[position] || 0) + 1;
  revisions[position] = revision;
  pending[position] = { revision, value };
  keep("revisions", revisions);
  keep("pending", pending);
  markState(position, "pending", "saving…");
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
      markState(position, again ? "pending" : "saved", again ? "saving…" : "saved");
    }
    if (result.remaining_seconds !== null) syncClock({ ...result, state: "in_progress" });
    if (result.warnings.length) banner(result.warnings.join(" "));
  } catch (error) {
    if (error instanceof Api.ApiError) {
      if (error.status === 422) {
        delete pending[position];
        keep("pending", pending);
        showInputError(position, error.message.replace(/^value: /, ""));
      }
      markState(position, "failed", `not saved: ${error.message.replace(/^value: /, "")}`);
      if (error.status === 409) await refresh();
    } else {
      setConnection(false);
      markState(position, "offline", "kept in this browser: waiting for the network");
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    }
  } finally {
    inFlight.delete(position);
  }
  if (again) flush();
}

function flush() {
  showSaveStatus();
  if (finished || clock.state !== "in_progress") return;
  for (const position of Object.keys(pending).map(Number)) {
    if (!inFlight.has(position)) send(position);
  }
}

// ---- questions ---------------------------------------------------------------------------

function debounce(fn, ms, waiting = null) {
  let timer, latest;
  const fire = () => { clearTimeout(timer); if (waiting) waiting.delete(fire); fn(...latest); };
  return (...args) => { latest = args; clearTimeout(timer); if (waiting) waiting.add(fire); timer = setTimeout(fire, ms); };
}

// typed answers wait for a pause before they are saved; the review and submit save them at once
const typing = new Set();
function saveTyping() { for (const fire of [...typing]) fire(); }

function choiceInputs(entry, multiple) {
  const position = entry.position;
  const legend = multiple ? "choose all that apply" : "choose one";
  const box = el("fieldset", { className: "choices" }, el("legend", { textContent: `Answer to question ${position}: ${legend}` }));
  const saved = entry.answer;
  for (const option of entry.item.options) {
    const id = `q${position}-option-${option.id}`;
    const input = el("input", { type: multiple ? "checkbox" : "radio", name: `q${position}`, value: option.id, id });
    input.checked = multiple ? Array.isArray(saved) && saved.includes(option.id) : String(saved) === option.id;
    input.addEventListener("change", () => {
      const checked = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      record(position, multiple ? (checked.length ? checked : null) : checked[0]);
    });
    const label = el("label", { htmlFor: id, className: "choice-text" },
      el("span", { className: "option-id", textContent: `${option.id}.` }), " ", rendered("span", option.html ?? option.text));
    box.append(el("div", { className: "choice" }, input, label));
  }
  return box;
}

function textInput(entry) {
  const position = entry.position;
  const id = `answer-q${position}`;
  const input = el("input", { type: "text", id, value: entry.answer ?? "", inputMode: entry.item.type === "numeric" ? "decimal" : "text", autocomplete: "off" });
  const hint = el("span", { className: "accepts", id: `accepts-q${position}`, textContent: entry.item.accepts || "" });
  const error = el("span", { className: "input-error", id: `error-q${position}`, role: "alert" });
  input.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
  const save = debounce(() => record(position, input.value.trim() === "" ? null : input.value.trim()), 600, typing);
  input.addEventListener("input", save);
  const prefix = entry.item.prefix ? el("span", { textContent: `${entry.item.prefix} `, attrs: { "aria-hidden": "true" } }) : "";
  const unit = entry.item.unit ? el("span", { textContent: ` ${entry.item.unit}` }) : "";
  const name = `Your answer to question ${position}${entry.item.unit ? `, in ${entry.item.unit}` : ""}`;
  return el("div", { className: "typed-answer" }, el("label", { htmlFor: id, className: "answer-label", textContent: name }),
    el("div", { className: "typed-row" }, prefix, input, unit), hint, error);
}

function showInputError(position, message) {
  const node = $(`error-q${position}`);
  if (!node) return;
  node.textContent = message;
  $(`answer-q${position}`)?.setAttribute("aria-invalid", message ? "true" : "false");
}

function orderingInput(entry) {
  const position = entry.position;
  const byId = Object.fromEntries(entry.item.options.map((o) => [o.id, o]));
  const list = el("ol", { className: "order", attrs: { "aria-label": `Your order for question ${position}` } });
  const said = el("p", { className: "visually-hidden", attrs: { "aria-live": "polite" } });
  const order = Array.isArray(entry.answer) ? entry.answer : entry.item.options.map((o) => o.id);
  const render = (ids, focus) => {
    list.replaceChildren(...ids.map((id, index) => {
      const text = plain(byId[id].html ?? byId[id].text);
      const up = el("button", { type: "button", className: "secondary", disabled: index === 0, attrs: { "aria-label": `Move ${id} up: ${text}` } },
        el("span", { textContent: "↑", attrs: { "aria-hidden": "true" } }), " Up");
      const down = el("button", { type: "button", className: "secondary", disabled: index === ids.length - 1, attrs: { "aria-label": `Move ${id} down: ${text}` } },
        el("span", { textContent: "↓", attrs: { "aria-hidden": "true" } }), " Down");
      const move = (delta, which) => {
        const next = [...ids];
        [next[index], next[index + delta]] = [next[index + delta], next[index]];
        render(next, { id, which });
        said.textContent = `${id} is now number ${index + delta + 1} of ${ids.length}.`;
        record(position, next);
      };
      up.addEventListener("click", () => move(-1, "up"));
      down.addEventListener("click", () => move(1, "down"));
      return el("li", { dataset: { id } }, el("span", { className: "order-pos", textContent: `${index + 1}`, attrs: { "aria-hidden": "true" } }),
        el("span", { className: "option-id", textContent: `${id}.` }), rendered("span", byId[id].html ?? byId[id].text, { className: "order-text" }), up, down);
    }));
    if (focus) {
      const item = list.querySelector(`[data-id="${focus.id}"]`);
      const buttons = item.querySelectorAll("button");
      const preferred = focus.which === "up" ? buttons[0] : buttons[1];
      (preferred.disabled ? (focus.which === "up" ? buttons[1] : buttons[0]) : preferred).focus();
    }
  };
  render(order);
  // the order shown first is not an answer until the candidate moves a step or keeps it
  const keepOrder = el("button", { type: "button", className: "secondary keep-order", textContent: "Keep this order as my answer", hidden: Array.isArray(entry.answer) });
  keepOrder.addEventListener("click", () => {
    record(position, [...list.children].map((li) => li.dataset.id));
    keepOrder.hidden = true;
    said.textContent = "This order is saved as your answer.";
  });
  list.addEventListener("click", () => { keepOrder.hidden = true; });
  return el("div", {}, el("p", { className: "hint", textContent: "Put the steps in order with the Up and Down buttons: the first is done first. The order is your answer once you move a step or keep it." }), list, keepOrder, said);
}

function matchingInput(entry) {
  const position = entry.position;
  const box = el("fieldset", { className: "match" }, el("legend", { textContent: `Answer to question ${position}: match each item on the left to one on the right` }));
  const saved = entry.answer || {};
  const selects = [];
  for (const premise of entry.item.premises) {
    const id = `q${position}-premise-${premise.id}`;
    const select = el("select", { name: premise.id, id }, el("option", { value: "", textContent: "Choose a match" }));
    for (const response of entry.item.responses) {
      select.append(el("option", { value: response.id, textContent: `${response.id}. ${plain(response.html ?? response.text)}`, selected: saved[premise.id] === response.id }));
    }
    select.addEventListener("change", () => {
      const value = Object.fromEntries(selects.filter((s) => s.value).map((s) => [s.name, s.value]));
      record(position, Object.keys(value).length ? value : null);
    });
    selects.push(select);
    box.append(el("div", { className: "match-row" },
      el("label", { htmlFor: id }, el("span", { className: "option-id", textContent: `${premise.id}.` }), " ", rendered("span", premise.html ?? premise.text)),
      select));
  }
  return box;
}

function filesInput(entry) {
  const answerFiles = entry.item.answer_files;
  const starters = Object.fromEntries((entry.item.starter_files || []).map((f) => [f.path, f.content]));
  const initial = Object.fromEntries(answerFiles.map((name) => [name, entry.answer && name in entry.answer ? entry.answer[name] : starters[name] || ""]));
  const save = debounce((values) => record(entry.position, values), 1000, typing);
  const editor = new TaskEditor({
    position: entry.position,
    files: answerFiles,
    given: (entry.item.starter_files || []).filter((f) => !answerFiles.includes(f.path)),
    initial,
    onChange: save,
    label: `Question ${entry.position}`,
  });
  editors.push(editor);
  return editor.element;
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

const KINDS = {
  single_choice: "one answer", multiple_response: "several answers", true_false: "true or false",
  numeric: "a number", short_text: "a word or phrase", ordering: "put in order", matching: "matching",
};

function renderQuestion(entry) {
  const position = entry.position;
  flags[position] = entry.flagged;
  const flagId = `flag-q${position}`;
  const flag = el("input", { type: "checkbox", className: "flag", checked: entry.flagged, id: flagId });
  flag.addEventListener("change", async () => {
    flags[position] = flag.checked;
    updateOverview();
    try { await Api.put(`${base}/flags/${position}`, { flagged: flag.checked }); } catch (error) { banner(error.message); }
  });
  const points = entry.item.points && entry.item.type !== "performance_task" ? `, ${entry.item.points} point${entry.item.points > 1 ? "s" : ""}` : "";
  const kind = entry.item.type === "performance_task" ? `performance task, about ${entry.item.estimated_minutes} minutes` : KINDS[entry.item.type];
  const card = el("article", { className: "card question", id: `q${position}`, tabIndex: -1, attrs: { "aria-labelledby": `q${position}-title` } },
    el("div", { className: "meta" },
      el("h2", { id: `q${position}-title`, className: "question-title" }, `Question ${position}`, el("span", { className: "kind", textContent: ` (${kind}${points})` })),
      el("span", { className: "flag-box" }, flag, el("label", { htmlFor: flagId }, `Flag question ${position} for review`))),
    rendered("div", entry.item.stem_html ?? entry.item.stem, { className: "stem" }),
    INPUTS[entry.item.type](entry),
    el("p", { className: "state" }));
  card.addEventListener("focusin", () => { activePosition = position; });
  card.addEventListener("pointerdown", () => { activePosition = position; });
  const link = el("a", { href: `#q${position}`, dataset: { position } },
    el("span", { className: "number", textContent: String(position) }),
    el("span", { className: "icon", attrs: { "aria-hidden": "true" } }),
    el("span", { className: "visually-hidden status" }));
  link.prepend(el("span", { className: "visually-hidden", textContent: "Question " }));
  link.addEventListener("click", (event) => { event.preventDefault(); goTo(position); });
  $("overview-list").append(el("li", {}, link));
  return card;
}

// ---- review and submit -------------------------------------------------------------------

function reviewLink(position) {
  const link = el("a", { href: `#q${position}`, textContent: `Question ${position}` });
  link.addEventListener("click", (event) => { event.preventDefault(); goTo(position); });
  return el("li", {}, link);
}

function showReview(open) {
  $("review").hidden = !open;
  $("sitting-view").hidden = open;
  $("review-open").hidden = open || finished;
  if (!open) return;
  saveTyping();
  const positions = Object.keys(answers).map(Number).sort((a, b) => a - b);
  const unanswered = positions.filter((p) => !isAnswered(p));
  const flagged = positions.filter((p) => flags[p]);
  $("review-summary").textContent = `You have answered ${positions.length - unanswered.length} of ${positions.length} questions`
    + ` and flagged ${flagged.length} for review.`;
  $("review-unanswered").replaceChildren(...(unanswered.length ? unanswered.map(reviewLink) : [el("li", { textContent: "None: every question has an answer." })]));
  $("review-flagged").replaceChildren(...(flagged.length ? flagged.map(reviewLink) : [el("li", { textContent: "None." })]));
  const waiting = Object.keys(pending).length;
  $("review-unsaved").hidden = !waiting && !failed.size;
  $("review-unsaved").textContent = waiting ? `${waiting} answer(s) are still being saved; they are sent before the exam is submitted.`
    : `${failed.size} answer(s) could not be saved: see the questions marked "not saved".`;
  window.scrollTo(0, 0);
  $("review").focus();
}

async function submitNow() {
  $("submit").disabled = true;
  $("submit-error").textContent = "";
  saveTyping();
  flush();
  for (let waited = 0; Object.keys(pending).length && waited < 10000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    await Api.post(`${base}/submit`);
    Api.forget(`exam.${attemptId}.`);
    location.assign(`/exams/${attemptId}/receipt`);
  } catch (error) {
    $("submit").disabled = false;
    if (error instanceof Api.ApiError) {
      $("submit-error").textContent = error.message;
      await refresh();
    } else {
      // the submit may have reached the server: a retry returns the same receipt, never a second submit
      $("submit-error").textContent = "The network dropped before the server answered. Your answers are safe: press Submit exam again.";
      setConnection(false);
    }
  }
}

$("review-open").addEventListener("click", () => showReview(true));
$("review-back").addEventListener("click", () => { showReview(false); $("questions").focus(); });
$("submit").addEventListener("click", () => {
  const unanswered = updateOverview();
  const flagged = Object.values(flags).filter(Boolean).length;
  const notes = [];
  if (unanswered) notes.push(`${unanswered} question${unanswered > 1 ? "s are" : " is"} not answered`);
  if (flagged) notes.push(`${flagged} ${flagged > 1 ? "are" : "is"} flagged for review`);
  $("confirm-text").textContent = `${notes.length ? `${notes.join(" and ")}. ` : ""}You cannot change any answer after submitting.`;
  $("confirm-submit").showModal();
  $("confirm-no").focus();
});
$("confirm-no").addEventListener("click", () => $("confirm-submit").close());
$("confirm-yes").addEventListener("click", () => { $("confirm-submit").close(); submitNow(); });

// code and tables wider than the page scroll sideways: such a region takes focus, so the
// keyboard can scroll it too
function reachable() {
  const counts = {};
  for (const node of document.querySelectorAll(".stem pre, .stem .table-scroll, .choice-text pre")) {
    const scrolls = node.scrollWidth > node.clientWidth + 1;
    const kind = node.matches("pre") ? "Code" : "Table";
    const question = node.closest(".question").id.slice(1);
    const n = (counts[`${question}${kind}`] = (counts[`${question}${kind}`] || 0) + 1);
    if (scrolls && !node.hasAttribute("tabindex")) {
      node.tabIndex = 0;
      node.setAttribute("role", "region");
      node.setAttribute("aria-label", `${kind}${n > 1 ? ` ${n}` : ""} in question ${question}, scrolls sideways`);
    } else if (!scrolls && node.hasAttribute("tabindex")) {
      node.removeAttribute("tabindex");
      node.removeAttribute("role");
      node.removeAttribute("aria-label");
    }
  }
}

// the sticky header grows when it wraps (narrow windows, zoom): what takes focus or is jumped to
// scrolls clear of it and of the footer bar
function clearHeader() {
  const top = document.querySelector("header.bar").offsetHeight + 12;
  const bottom = document.querySelector(".submit-bar").offsetHeight + 12;
  document.documentElement.style.scrollPaddingTop = `${top}px`;
  document.documentElement.style.scrollPaddingBottom = `${bottom}px`;
  for (const card of document.querySelectorAll(".question")) card.style.scrollMarginTop = `${top}px`;
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
    if (error instanceof Api.ApiError && error.status === 409) {
      const state = error.body.state;
      if (["registered", "checked_in", "awaiting_authorization"].includes(state)) { location.replace(`/exams/${attemptId}/briefing`); return; }
      finish(state);
      return;
    }
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
    if (pending[entry.position]) markState(entry.position, "pending", "saving…");
    else if (entry.revision) markState(entry.position, "saved", "saved");
  }
  keep("revisions", revisions);
  keep("pending", pending);
  reachable();
  clearHeader();
  window.addEventListener("resize", debounce(() => { reachable(); clearHeader(); }, 300));
  syncClock(form.attempt);
  updateOverview();
  flush();
}

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
window.addEventListener("pagehide", saveTyping); // what was just typed goes to localStorage before a reload
window.addEventListener("exam:refresh", refresh); // the live channel saw a state change or more time
start();
