// The progress page: per exercise, measure and side, the value per session over time.
import { el, EXERCISE_NAMES, getJSON, loadExercises } from "/static/common.js";

const SVG = "http://www.w3.org/2000/svg";
const SIDE_COLORS = { left: "#5aa9ff", right: "#f78c6c", none: "#2fd0c8" };

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text != null) node.append(document.createTextNode(text));
  return node;
}

function fmt(value, unit) {
  if (unit === "share") return `${Math.round(value * 100)}%`;
  if (unit === "s") return `${value.toFixed(1)} s`;
  if (unit === "deg") return `${value.toFixed(0)}°`;
  return `${value}`;
}

/** One chart: a line per side over session dates. */
function chart(group, asymmetric) {
  const W = 520, H = 200, pad = { l: 48, r: 12, t: 14, b: 28 };
  const all = group.flatMap((s) => s.points);
  const times = all.map((p) => Date.parse(p.t));
  const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1);
  const values = all.map((p) => p.value);
  const lo = Math.min(0, ...values), hi = Math.max(...values, lo + 1e-6) * 1.1;
  const x = (t) => pad.l + ((Date.parse(t) - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  const unit = group[0].unit;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": group[0].label });
  root.append(svg("rect", { x: pad.l, y: pad.t, width: W - pad.l - pad.r, height: H - pad.t - pad.b, fill: "none", stroke: "#2a323d" }));
  for (const v of [lo, (lo + hi) / 2, hi]) {
    root.append(svg("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, fmt(v, unit)));
  }
  root.append(svg("text", { x: pad.l, y: H - 8, class: "axis" }, new Date(t0).toLocaleDateString()));
  root.append(svg("text", { x: W - pad.r, y: H - 8, "text-anchor": "end", class: "axis" }, new Date(t1).toLocaleDateString()));
  for (const s of group) {
    const color = SIDE_COLORS[s.side || "none"];
    const pts = s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 2.2, class: `series ${s.side || "none"}` }));
    for (const p of s.points) {
      const dot = svg("circle", { cx: x(p.t), cy: y(p.value), r: 4, fill: color, class: "point" });
      dot.append(svg("title", {}, `${new Date(p.t).toLocaleDateString()}: ${fmt(p.value, unit)}${s.side ? ` (${s.side})` : ""}`));
      root.append(dot);
    }
  }
  const latest = group.map((s) => `${s.side ? `${s.side} ` : ""}${fmt(s.points.at(-1).value, unit)}`).join(" · ");
  return el("section", { class: `card chart progress-chart${asymmetric ? " asymmetric" : ""}`, "data-name": group[0].name, "data-exercise": group[0].exercise },
    el("h2", { text: group[0].label }),
    group.some((s) => s.side) ? el("div", { class: "legend" }, ...group.map((s) => el("span", {},
      el("span", { class: "swatch", style: `background:${SIDE_COLORS[s.side || "none"]}` }), s.side || "both"))) : null,
    el("p", { class: "explain", text: `${EXERCISE_NAMES[group[0].exercise] || group[0].exercise} · latest: ${latest}${asymmetric ? " · left and right differ" : ""}` }),
    root);
}

async function main() {
  await loadExercises().catch(() => {});
  const data = await getJSON("/api/progress");
  const groups = new Map();
  for (const s of data.series) {
    const key = `${s.exercise}|${s.name}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  const flagged = new Set(data.asymmetry.map((a) => `${a.exercise}|${a.name}`));
  document.getElementById("series").replaceChildren(
    ...[...groups.entries()].map(([key, group]) => chart(group, flagged.has(key))));
  document.getElementById("no-progress").hidden = groups.size > 0;
  const list = document.getElementById("asymmetry");
  list.replaceChildren(...data.asymmetry.map((a) => el("li", {
    text: `${a.label}: left ${fmt(a.left, a.unit)}, right ${fmt(a.right, a.unit)} — the two sides differ.`,
  })));
  list.hidden = data.asymmetry.length === 0;
}

main();
