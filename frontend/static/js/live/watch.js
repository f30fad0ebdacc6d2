// What the candidate's page notices, reported as event kinds of docs/PROCTORING.md. Only sizes
// and counts leave the page, never the text that was copied or pasted.

const DEVTOOLS_GAP = 200;

function positionOf(target) {
  const card = target instanceof Element ? target.closest("article.question") : null;
  const match = card && /^q(\d+)$/.exec(card.id);
  return match ? Number(match[1]) : null;
}

function selectionLength(target) {
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
    try {
      if (target.selectionStart !== null) return Math.abs(target.selectionEnd - target.selectionStart);
    } catch (error) { /* inputs without a selection API (number, email) */ }
  }
  const selection = document.getSelection();
  return selection ? selection.toString().length : 0;
}

export function watchPage(report, { attemptId, onOnline = () => {} }) {
  document.addEventListener("visibilitychange", () => {
    report(document.visibilityState === "hidden" ? "visibility_hidden" : "visibility_visible");
  });
  window.addEventListener("blur", () => report("window_blur"));
  window.addEventListener("focus", () => report("window_focus"));
  document.addEventListener("fullscreenchange", () => {
    report(document.fullscreenElement ? "fullscreen_enter" : "fullscreen_exit");
  });
  for (const kind of ["copy", "cut"]) {
    document.addEventListener(kind, (event) => report(kind, { length: selectionLength(event.target) }));
  }
  document.addEventListener("paste", (event) => {
    const text = event.clipboardData ? event.clipboardData.getData("text") : "";
    const detail = { length: text.length };
    const position = positionOf(event.target);
    if (position !== null) detail.position = position;
    report("paste", detail);
  });
  document.addEventListener("contextmenu", () => report("context_menu"));
  window.addEventListener("beforeprint", () => report("print_attempt"));
  window.addEventListener("offline", () => report("network_offline"));
  window.addEventListener("online", () => { report("network_online"); onOnline(); });

  // Docked developer tools make the outer window much larger than the page: report each change
  // into that shape once.
  let suspected = false;
  const measure = () => {
    const widthGap = Math.max(0, window.outerWidth - window.innerWidth);
    const heightGap = Math.max(0, window.outerHeight - window.innerHeight);
    const now = widthGap > DEVTOOLS_GAP || heightGap > DEVTOOLS_GAP;
    if (now && !suspected) report("devtools_suspected", { width_gap: widthGap, height_gap: heightGap });
    suspected = now;
  };
  window.addEventListener("resize", measure);
  measure();

}

// Tabs of the same exam in this browser find each other over a BroadcastChannel: a new tab says
// "hello", the tabs already open answer "here"; each side reports every other tab it meets once.
// Resolves (after a short wait for answers) to true when another tab carries this tab's client
// id: this tab is a duplicate whose sessionStorage was copied from it, and needs an id of its own.
export function watchTabs(attemptId, clientId, onSecondTab) {
  if (!("BroadcastChannel" in window)) return Promise.resolve(false);
  const me = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
  const met = new Set();
  let duplicate = false;
  const channel = new BroadcastChannel(`exam.${attemptId}.tabs`);
  channel.addEventListener("message", (event) => {
    const { type, tab, client } = event.data || {};
    if (!tab || tab === me) return;
    if (type === "hello") channel.postMessage({ type: "here", tab: me, client: clientId() });
    if (type === "here" && client === clientId()) duplicate = true;
    if ((type === "hello" || type === "here") && !met.has(tab)) {
      met.add(tab);
      onSecondTab();
    }
  });
  channel.postMessage({ type: "hello", tab: me, client: clientId() });
  return new Promise((resolve) => setTimeout(() => resolve(duplicate), 300));
}
