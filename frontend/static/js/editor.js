// The answer editor for performance tasks: one tab per file, a plain textarea per answer file with
// line numbers, Tab to indent (Esc then Tab leaves the editor), and read-only views of given files.
"use strict";

(function () {
  const INDENT = "    ";
  const MIN_ROWS = 14;
  const HINT = "Tab indents. Press Esc, then Tab, to leave the editor.";
  const MODIFIERS = new Set(["Shift", "Control", "Alt", "Meta", "AltGraph", "CapsLock", "Fn", "OS"]);

  function make(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === "className" || name === "textContent" || name === "hidden" || name === "id") node[name] = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  function lineCount(text) {
    let count = 1;
    for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) count += 1;
    return count;
  }

  function numbers(count) {
    const lines = new Array(count);
    for (let i = 0; i < count; i += 1) lines[i] = String(i + 1);
    return lines.join("\n");
  }

  // A column of line numbers that follows the vertical scroll of the code beside it.
  class Gutter {
    constructor() {
      this.lines = make("div", { className: "task-editor-lines" });
      this.element = make("div", { className: "task-editor-gutter", "aria-hidden": "true" }, this.lines);
      this.count = 0;
    }

    show(count) {
      if (count === this.count) return;
      this.count = count;
      this.lines.textContent = numbers(count);
      this.element.style.setProperty("--task-editor-digits", String(Math.max(2, String(count).length)));
    }

    follow(scrollTop) {
      this.lines.style.transform = scrollTop ? `translateY(${-scrollTop}px)` : "";
    }
  }

  // Replaces text[start, end) with `text`, keeping the browser's undo history where it can.
  function replaceRange(area, start, end, text) {
    const before = area.value;
    const expected = before.slice(0, start) + text + before.slice(end);
    area.setSelectionRange(start, end);
    let done = false;
    try {
      if (typeof document.execCommand === "function") {
        done = text ? document.execCommand("insertText", false, text) : document.execCommand("delete", false);
      }
    } catch (error) {
      done = false;
    }
    if (done && area.value === expected) return;
    if (area.value !== before) area.value = before;
    area.setRangeText(text, start, end, "end");
  }

  // The lines touched by the selection: from the start of the first line to the end of the last one.
  // A selection ending at the very start of a line does not include that line.
  function selectedLines(value, start, end) {
    const last = end > start && value[end - 1] === "\n" ? end - 1 : end;
    const from = value.lastIndexOf("\n", start - 1) + 1;
    const next = value.indexOf("\n", last);
    return { from, to: next === -1 ? value.length : next };
  }

  // Applies `change` (line -> [new line, characters added or removed at its start]) to the selected
  // lines and moves the selection along with the text.
  function editLines(area, change) {
    const { value, selectionStart: start, selectionEnd: end, selectionDirection: direction } = area;
    const { from, to } = selectedLines(value, start, end);
    const block = value.slice(from, to).split("\n");
    const shifts = [];
    const edited = block.map((line) => {
      const [text, shift] = change(line);
      shifts.push(shift);
      return text;
    });
    const text = edited.join("\n");
    if (text === value.slice(from, to)) return false;
    const moved = (position) => {
      let lineStart = from;
      let total = 0;
      for (let i = 0; i < block.length; i += 1) {
        const lineEnd = lineStart + block[i].length;
        if (position <= lineEnd) {
          const column = position - lineStart;
          // text removed before the caret pulls it back; text added at a line's very start pushes it on
          // only when it is not at column 0, so a selection from column 0 keeps the new indentation
          const shift = shifts[i] < 0 ? -Math.min(-shifts[i], column) : column > 0 ? shifts[i] : 0;
          return position + total + shift;
        }
        total += shifts[i];
        lineStart = lineEnd + 1;
      }
      return position + total;
    };
    const newStart = moved(start);
    const newEnd = moved(end);
    replaceRange(area, from, to, text);
    area.setSelectionRange(newStart, newEnd, direction);
    return true;
  }

  const indent = (line) => (line ? [INDENT + line, INDENT.length] : [line, 0]);

  function dedent(line) {
    if (line[0] === "\t") return [line.slice(1), -1];
    let count = 0;
    while (count < INDENT.length && line[count] === " ") count += 1;
    return [line.slice(count), -count];
  }

  class TaskEditor {
    constructor({ position, files = [], given = [], initial = {}, onChange = null, label = "" } = {}) {
      this.label = label || `Question ${position}`;
      this.onChange = typeof onChange === "function" ? onChange : null;
      this.prefix = `task-q${position}`;
      this.areas = new Map();
      this.tabs = [];
      this.panels = [];
      this.syncs = [];
      this.disabled = false;

      this.tablist = make("div", { className: "task-editor-tabs", role: "tablist", "aria-label": `Files for ${this.label}` });
      this.element = make("div", { className: "task-editor", id: this.prefix }, this.tablist);
      const answerPaths = new Set(files || []);
      const start = initial || {};
      for (const path of answerPaths) {
        const text = Object.prototype.hasOwnProperty.call(start, path) && start[path] != null ? String(start[path]) : "";
        this.addTab(path, false, this.editable(path, text, this.tabs.length));
      }
      for (const file of given || []) {
        if (answerPaths.has(file.path)) continue;
        this.addTab(file.path, true, this.readOnly(file.path, String(file.content ?? ""), this.tabs.length));
      }
      this.tablist.addEventListener("keydown", (event) => this.onTabKey(event));
      if (this.tabs.length) this.select(0, false);
    }

    // ---- public API ----------------------------------------------------------------------

    values() {
      const result = {};
      for (const [path, area] of this.areas) result[path] = area.value;
      return result;
    }

    setDisabled(disabled) {
      this.disabled = Boolean(disabled);
      for (const area of this.areas.values()) area.disabled = this.disabled;
      this.element.classList.toggle("is-disabled", this.disabled);
    }

    // ---- building ------------------------------------------------------------------------

    addTab(path, readOnly, panel) {
      const index = this.tabs.length;
      const tab = make("button", {
        type: "button",
        className: readOnly ? "task-editor-tab is-given" : "task-editor-tab",
        role: "tab",
        id: `${this.prefix}-tab-${index}`,
        "aria-selected": "false",
        "aria-controls": `${this.prefix}-panel-${index}`,
        tabindex: "-1",
      }, make("span", { className: "task-editor-path", textContent: path }));
      if (readOnly) tab.append(" ", make("span", { className: "task-editor-note", textContent: "(read only)" }));
      tab.addEventListener("click", () => this.select(index, true));
      panel.id = `${this.prefix}-panel-${index}`;
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.hidden = true;
      this.tabs.push(tab);
      this.panels.push(panel);
      this.tablist.append(tab);
      this.element.append(panel);
    }

    editable(path, text, index) {
      const hintId = `${this.prefix}-hint-${index}`;
      const gutter = new Gutter();
      const area = make("textarea", {
        className: "task-editor-input",
        spellcheck: "false",
        autocapitalize: "off",
        autocomplete: "off",
        autocorrect: "off",
        wrap: "off",
        "aria-label": `${path}, ${this.label}`,
        "aria-describedby": hintId,
        "data-path": path,
      });
      area.value = text;
      const status = make("span", { className: "task-editor-position", "aria-live": "off", textContent: "Line 1, column 1" });
      const mode = make("span", { className: "task-editor-mode", hidden: true, textContent: "Tab now moves focus." });
      const hint = make("div", { className: "task-editor-hint" },
        make("span", { id: hintId, textContent: HINT }), mode, status);
      const panel = make("div", { className: "task-editor-panel" },
        make("div", { className: "task-editor-code" }, gutter.element, area), hint);

      const refresh = () => {
        const count = lineCount(area.value);
        gutter.show(count);
        area.rows = Math.max(MIN_ROWS, count + 1);
        gutter.follow(area.scrollTop);
      };
      const where = () => {
        const caret = area.selectionDirection === "backward" ? area.selectionStart : area.selectionEnd;
        const before = area.value.slice(0, caret);
        const line = lineCount(before);
        const column = caret - before.lastIndexOf("\n");
        status.textContent = `Line ${line}, column ${column}`;
      };
      let escaped = false; // after Esc, the next Tab moves focus instead of indenting
      const setEscaped = (value) => {
        escaped = value;
        mode.hidden = !value;
      };
      let sawInput = false;

      area.addEventListener("input", () => {
        sawInput = true;
        refresh();
        where();
        this.changed();
      });
      area.addEventListener("scroll", () => gutter.follow(area.scrollTop));
      for (const name of ["keyup", "click", "select", "focus"]) area.addEventListener(name, where);
      area.addEventListener("blur", () => setEscaped(false));
      area.addEventListener("keydown", (event) => {
        if (event.isComposing || MODIFIERS.has(event.key)) return;
        if (event.key === "Escape") {
          setEscaped(true);
          return;
        }
        if (event.key !== "Tab") {
          setEscaped(false);
          return;
        }
        if (escaped || event.ctrlKey || event.altKey || event.metaKey || area.disabled || area.readOnly) {
          setEscaped(false);
          return; // the browser moves focus
        }
        event.preventDefault();
        sawInput = false;
        const { selectionStart: start, selectionEnd: end } = area;
        let edited;
        if (event.shiftKey) edited = editLines(area, dedent);
        else if (start === end) {
          replaceRange(area, start, end, INDENT);
          edited = true;
        } else edited = editLines(area, indent);
        if (!edited) return;
        refresh();
        where();
        if (!sawInput) this.changed();
      });

      this.areas.set(path, area);
      this.syncs[index] = refresh;
      refresh();
      return panel;
    }

    readOnly(path, content, index) {
      const text = content.replace(/\r\n?/g, "\n");
      const gutter = new Gutter();
      const code = make("pre", { className: "task-editor-given", tabindex: "0", "aria-label": `${path} (read only)` });
      code.textContent = text;
      gutter.show(text.endsWith("\n") ? lineCount(text) - 1 : lineCount(text));
      code.addEventListener("scroll", () => gutter.follow(code.scrollTop));
      this.syncs[index] = () => gutter.follow(code.scrollTop);
      return make("div", { className: "task-editor-panel is-given" },
        make("div", { className: "task-editor-code" }, gutter.element, code));
    }

    // ---- behaviour -----------------------------------------------------------------------

    changed() {
      if (this.onChange) this.onChange(this.values());
    }

    select(index, focus) {
      this.tabs.forEach((tab, i) => {
        const selected = i === index;
        tab.setAttribute("aria-selected", String(selected));
        tab.tabIndex = selected ? 0 : -1;
        this.panels[i].hidden = !selected;
      });
      if (this.syncs[index]) this.syncs[index]();
      if (focus) this.tabs[index].focus();
    }

    onTabKey(event) {
      const current = this.tabs.indexOf(event.target.closest('[role="tab"]'));
      if (current === -1 || event.altKey || event.ctrlKey || event.metaKey) return;
      const last = this.tabs.length - 1;
      const next = {
        ArrowRight: current === last ? 0 : current + 1,
        ArrowLeft: current === 0 ? last : current - 1,
        Home: 0,
        End: last,
      }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      this.select(next, true);
    }
  }

  window.TaskEditor = TaskEditor;
})();
