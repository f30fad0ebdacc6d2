// The score distribution as an SVG bar chart built with DOM calls (no markup strings, no inline
// style: classes carry the colours). Each bar has a title; the chart's text alternative says it all.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640, HEIGHT = 260;
const PAD = { left: 44, right: 12, top: 12, bottom: 40 };

function node(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

function text(x, y, content, className, anchor = "middle") {
  return node("text", { x, y, class: className, "text-anchor": anchor }, String(content));
}

const band = (lower, upper) => `${Math.round(lower)} to ${Math.round(upper)}%`;

// `bins`: [[lower, upper, count], ...] over percent scores.
export function histogram(bins, { id = "histogram-svg" } = {}) {
  const most = Math.max(1, ...bins.map(([, , count]) => count));
  const total = bins.reduce((sum, [, , count]) => sum + count, 0);
  const plotW = WIDTH - PAD.left - PAD.right, plotH = HEIGHT - PAD.top - PAD.bottom;
  const barW = bins.length ? plotW / bins.length : plotW;
  const y = (count) => PAD.top + plotH - (count / most) * plotH;

  const described = bins.map(([lower, upper, count]) => `${band(lower, upper)}: ${count}`).join("; ");
  const svg = node("svg", {
    id, class: "histogram-chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`, preserveAspectRatio: "xMidYMid meet",
  },
  node("title", { id: `${id}-title` }, `Score distribution of ${total} candidate${total === 1 ? "" : "s"}`),
  node("desc", { id: `${id}-desc` }, described || "No scored sittings."));

  const axes = node("g", { class: "axes", "aria-hidden": "true" },
    node("line", { x1: PAD.left, y1: PAD.top + plotH, x2: PAD.left + plotW, y2: PAD.top + plotH }),
    node("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: PAD.top + plotH }));
  const ticks = most <= 5 ? most : 4;
  for (let i = 0; i <= ticks; i += 1) {
    const value = Math.round((most * i) / ticks);
    axes.append(node("line", { class: "grid", x1: PAD.left, x2: PAD.left + plotW, y1: y(value), y2: y(value) }),
      text(PAD.left - 6, y(value) + 4, value, "tick", "end"));
  }
  axes.append(text(PAD.left + plotW / 2, HEIGHT - 4, "Percent score", "axis-label"),
    text(12, PAD.top + plotH / 2, "Candidates", "axis-label rotated"));
  axes.lastChild.setAttribute("transform", `rotate(-90 12 ${PAD.top + plotH / 2})`);
  svg.append(axes);

  const bars = node("g", { class: "bars" });
  bins.forEach(([lower, upper, count], i) => {
    const x = PAD.left + i * barW;
    const bar = node("rect", {
      class: "bar", x: x + 1, y: y(count), width: Math.max(1, barW - 2), height: PAD.top + plotH - y(count),
      "data-lower": lower, "data-upper": upper, "data-count": count,
    }, node("title", {}, `${band(lower, upper)}: ${count} candidate${count === 1 ? "" : "s"}`));
    bars.append(bar);
    if (count) bars.append(text(x + barW / 2, y(count) - 3, count, "count"));
    bars.append(text(x, PAD.top + plotH + 16, Math.round(lower), "tick"));
  });
  if (bins.length) bars.append(text(PAD.left + plotW, PAD.top + plotH + 16, Math.round(bins[bins.length - 1][1]), "tick"));
  svg.append(bars);

  return svg;
}
