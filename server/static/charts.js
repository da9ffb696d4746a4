// Timeline, flexion-over-time chart and lumbo-pelvic rhythm plot, drawn as plain DOM/SVG.
import { COLORS, el, fmtDeg, fmtSeconds, lumbarLevel, LUMBAR_AMBER_DEG, LUMBAR_RED_DEG } from "/static/common.js";

const SVG = "http://www.w3.org/2000/svg";
const REP_COLORS = ["#5aa9ff", "#c792ea", "#2fd0c8", "#f78c6c", "#ffcb6b", "#82aaff", "#f07178", "#c3e88d"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value != null) node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function niceStep(range, targetTicks) {
  const raw = range / Math.max(1, targetTicks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

function ticks(lo, hi, target) {
  const step = niceStep(hi - lo, target);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

export function severityClass(severity) {
  return String(severity || "medium").toLowerCase();
}

export function repColor(index) {
  return REP_COLORS[(index - 1 + REP_COLORS.length) % REP_COLORS.length];
}

/** Timeline bar: rep spans, findings (buttons), playhead, click to seek. */
export function buildTimeline(container, report, onSeek) {
  const duration = report.video.duration_s || 1;
  const pct = (t) => `${Math.max(0, Math.min(100, (t / duration) * 100))}%`;
  container.replaceChildren();
  // A hold exercise's holds take the reps' place (a hold whose form broke shows as rounded).
  const sided = report.summary && report.summary.reps_by_side;
  const spans = report.holds
    ? report.holds.map((h) => ({ ...h, rounding: h.findings.length > 0, label: `Hold ${h.index}` }))
    : sided
      ? report.reps.map((r) => ({ ...r, rounding: r.findings.length > 0, label: r.side ? `Rep ${r.index} (${r.side})` : `Rep ${r.index}` }))
      : report.reps;
  for (const rep of spans) {
    const span = el("div", {
      class: `rep${rep.rounding ? " rounded" : rep.rounding === null ? " unjudged" : ""}${rep.label ? " hold" : ""}`,
      title: `${rep.label || `Rep ${rep.index}`}: ${fmtSeconds(rep.start_s)} – ${fmtSeconds(rep.end_s)}`,
    }, `${rep.index}`);
    span.style.left = pct(rep.start_s);
    span.style.width = `calc(${pct(rep.end_s - rep.start_s)} - 1px)`;
    if (rep.bottom_s != null) {
      const bottom = el("span", { class: "bottom" });
      bottom.style.left = `${((rep.bottom_s - rep.start_s) / Math.max(1e-6, rep.end_s - rep.start_s)) * 100}%`;
      span.append(bottom);
    }
    container.append(span);
    for (const finding of rep.findings || []) {
      const marker = el("button", {
        type: "button",
        class: `finding ${severityClass(finding.severity)} ${finding.code}`,
        "data-code": finding.code,
        "data-phase": finding.phase || "",
        title: `${finding.message}${finding.phase ? ` [${finding.phase}]` : ""} (${fmtSeconds(finding.start_s)})`,
        "aria-label": `Finding: ${finding.message}`,
        "data-start": finding.start_s,
        onclick: (event) => {
          event.stopPropagation();
          onSeek(finding.start_s, true);
        },
      });
      marker.style.left = pct(finding.start_s);
      marker.style.width = pct(Math.max(0, (finding.end_s ?? finding.start_s) - finding.start_s));
      container.append(marker);
    }
  }
  const tickRow = el("div", { class: "ticks" });
  for (const t of ticks(0, duration, 6)) {
    const tick = el("span", {}, `${t}s`);
    tick.style.left = pct(t);
    tickRow.append(tick);
  }
  const playhead = el("div", { class: "playhead" });
  container.append(tickRow, playhead);
  const seekFromEvent = (event) => {
    const rect = container.getBoundingClientRect();
    onSeek(((event.clientX - rect.left) / rect.width) * duration, false);
  };
  container.addEventListener("click", seekFromEvent);
  container.addEventListener("keydown", (event) => {
    if (event.key === "Home") onSeek(0, false);
    if (event.key === "End") onSeek(duration, false);
  });
  return {
    setTime(t) {
      playhead.style.left = pct(t);
      container.setAttribute("aria-valuenow", t.toFixed(2));
    },
  };
}

/** Segments of consecutive non-null values of `key`, split where the colour level changes. */
function coloredRuns(frames, key) {
  const runs = [];
  let current = null;
  for (const frame of frames) {
    const value = frame[key];
    if (value == null) {
      current = null;
      continue;
    }
    const level = lumbarLevel(value);
    if (!current || current.level !== level) {
      const start = current ? [current.points[current.points.length - 1]] : [];
      current = { level, points: [...start] };
      runs.push(current);
    }
    current.points.push([frame.t, value]);
  }
  return runs;
}

/** [t, value] runs of consecutive frames where `key` has a value (gaps split the line). */
function valueRuns(frames, key) {
  let run = [];
  const runs = [run];
  for (const frame of frames) {
    if (frame[key] == null) {
      if (run.length) runs.push((run = []));
      continue;
    }
    run.push([frame.t, frame[key]]);
  }
  return runs;
}

/** Clicking a time chart seeks to the time under the pointer. */
function seekOnClick(root, W, pad, duration, onSeek) {
  root.style.cursor = "crosshair";
  root.addEventListener("click", (event) => {
    const rect = root.getBoundingClientRect();
    const sx = ((event.clientX - rect.left) / rect.width) * W;
    onSeek(Math.max(0, Math.min(duration, ((sx - pad.l) / (W - pad.l - pad.r)) * duration)), false);
  });
}

function polylinePoints(points, x, y) {
  return points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(" ");
}

/** Two stacked panels sharing the time axis: hip flexion above, lumbar flexion below. */
export function buildTimeChart(container, report, onSeek) {
  const W = 760;
  const pad = { l: 44, r: 12, t: 22, b: 26 };
  const hipH = 120;
  const gap = 34;
  const lumH = 150;
  const H = pad.t + hipH + gap + lumH + pad.b;
  const duration = report.video.duration_s || 1;
  const frames = report.frames;
  const hips = frames.map((f) => f.hip_flexion_deg).filter((v) => v != null);
  const lums = frames.map((f) => f.lumbar_flexion_deg).filter((v) => v != null);
  const hipMax = Math.max(30, ...hips) * 1.08;
  const hipMin = Math.min(0, ...hips);
  const lumMax = Math.max(LUMBAR_RED_DEG + 8, ...lums) * 1.08;
  const lumMin = Math.min(-5, ...lums);
  const x = (t) => pad.l + (t / duration) * (W - pad.l - pad.r);
  const yHip = (v) => pad.t + hipH - ((v - hipMin) / (hipMax - hipMin)) * hipH;
  const lumTop = pad.t + hipH + gap;
  const yLum = (v) => lumTop + lumH - ((v - lumMin) / (lumMax - lumMin)) * lumH;

  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Hip and lumbar flexion over time" });
  const grid = svg("g", { class: "grid" });
  const axis = svg("g", { class: "axis" });
  root.append(grid);
  for (const rep of report.reps) {
    for (const [top, height] of [[pad.t, hipH], [lumTop, lumH]]) {
      root.append(svg("rect", {
        x: x(rep.start_s), y: top, width: Math.max(1, x(rep.end_s) - x(rep.start_s)), height,
        fill: rep.rounding ? "rgba(255,90,95,0.07)" : "rgba(90,169,255,0.06)",
      }));
    }
    for (const finding of rep.findings || []) {
      root.append(svg("rect", {
        x: x(finding.start_s), y: lumTop + lumH - 5, height: 5,
        fill: finding.severity === "info" ? "rgba(160,170,190,0.5)" : COLORS.bad,
        width: Math.max(2, x(finding.end_s ?? finding.start_s) - x(finding.start_s)),
      }));
    }
  }
  // Lumbar bands: amber 10–15°, red above 15°.
  const bandTop = yLum(lumMax);
  root.append(svg("rect", { x: pad.l, width: W - pad.l - pad.r, y: bandTop, height: yLum(LUMBAR_RED_DEG) - bandTop, fill: "rgba(255,90,95,0.07)" }));
  root.append(svg("rect", { x: pad.l, width: W - pad.l - pad.r, y: yLum(LUMBAR_RED_DEG), height: yLum(LUMBAR_AMBER_DEG) - yLum(LUMBAR_RED_DEG), fill: "rgba(242,169,59,0.07)" }));

  const panel = (lo, hi, y, top, height, title) => {
    for (const v of ticks(lo, hi, 4)) {
      grid.append(svg("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }));
      axis.append(svg("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, document.createTextNode(`${v}°`)));
    }
    axis.append(svg("text", { x: pad.l, y: top - 7, style: "fill:#c9d2de;font-weight:600" }, document.createTextNode(title)));
    root.append(svg("rect", { x: pad.l, y: top, width: W - pad.l - pad.r, height, fill: "none", stroke: "#2a323d" }));
  };
  panel(hipMin, hipMax, yHip, pad.t, hipH, "Hip flexion");
  panel(lumMin, lumMax, yLum, lumTop, lumH, "Lumbar flexion");
  for (const t of ticks(0, duration, 8)) {
    axis.append(svg("text", { x: x(t), y: H - 8, "text-anchor": "middle" }, document.createTextNode(`${t}s`)));
  }
  root.append(axis);

  for (const run of valueRuns(frames, "hip_flexion_deg")) {
    if (run.length > 1) {
      root.append(svg("polyline", { points: polylinePoints(run, x, yHip), fill: "none", stroke: COLORS.hip, "stroke-width": 2.2, "stroke-linejoin": "round" }));
    }
  }
  for (const run of coloredRuns(frames, "lumbar_flexion_deg")) {
    if (run.points.length > 1) {
      root.append(svg("polyline", { points: polylinePoints(run.points, x, yLum), fill: "none", stroke: COLORS[run.level], "stroke-width": 2.4, "stroke-linejoin": "round" }));
    }
  }
  const playhead = svg("line", { y1: pad.t, y2: lumTop + lumH, stroke: "#fff", "stroke-width": 1.5, opacity: 0.85 });
  const hipDot = svg("circle", { r: 4, fill: COLORS.hip, stroke: "#0e1116", "stroke-width": 1.5 });
  const lumDot = svg("circle", { r: 4, fill: "#fff", stroke: "#0e1116", "stroke-width": 1.5 });
  root.append(playhead, hipDot, lumDot);
  seekOnClick(root, W, pad, duration, onSeek);
  container.replaceChildren(root);
  return {
    setTime(t, frame) {
      playhead.setAttribute("x1", x(t));
      playhead.setAttribute("x2", x(t));
      const show = (dot, value, y) => {
        dot.setAttribute("visibility", value == null ? "hidden" : "visible");
        if (value != null) {
          dot.setAttribute("cx", x(frame.t));
          dot.setAttribute("cy", y(value));
        }
      };
      show(hipDot, frame?.hip_flexion_deg, yHip);
      show(lumDot, frame?.lumbar_flexion_deg, yLum);
      if (frame?.lumbar_flexion_deg != null) lumDot.setAttribute("fill", COLORS[lumbarLevel(frame.lumbar_flexion_deg)]);
    },
  };
}

/** Lumbar flexion (y) against hip flexion (x), one trace per rep, current frame marked. */
export function buildRhythmChart(container, legend, report) {
  const W = 420;
  const H = 320;
  const pad = { l: 44, r: 12, t: 12, b: 36 };
  const traces = report.reps.map((rep) => ({
    rep,
    points: report.frames
      .filter((f) => f.t >= rep.start_s && f.t <= rep.end_s && f.hip_flexion_deg != null && f.lumbar_flexion_deg != null)
      .map((f) => [f.hip_flexion_deg, f.lumbar_flexion_deg]),
  }));
  const norm = report.screen ? normCurve(report.screen.norm) : null;
  const all = [...traces.flatMap((trace) => trace.points), ...(norm || [])];
  const xMax = Math.max(40, ...all.map((p) => p[0])) * 1.08;
  const xMin = Math.min(0, ...all.map((p) => p[0]));
  const yMax = Math.max(LUMBAR_RED_DEG + 8, ...all.map((p) => p[1])) * 1.08;
  const yMin = Math.min(-5, ...all.map((p) => p[1]));
  const x = (v) => pad.l + ((v - xMin) / (xMax - xMin)) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - ((v - yMin) / (yMax - yMin)) * (H - pad.t - pad.b);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Lumbar flexion against hip flexion per rep" });
  const grid = svg("g", { class: "grid" });
  root.append(grid);
  root.append(svg("rect", { x: pad.l, width: W - pad.l - pad.r, y: y(yMax), height: y(LUMBAR_RED_DEG) - y(yMax), fill: "rgba(255,90,95,0.08)" }));
  root.append(svg("rect", { x: pad.l, width: W - pad.l - pad.r, y: y(LUMBAR_RED_DEG), height: y(LUMBAR_AMBER_DEG) - y(LUMBAR_RED_DEG), fill: "rgba(242,169,59,0.08)" }));
  for (const v of ticks(xMin, xMax, 5)) {
    grid.append(svg("line", { x1: x(v), x2: x(v), y1: pad.t, y2: H - pad.b }));
    root.append(svg("text", { x: x(v), y: H - pad.b + 15, "text-anchor": "middle" }, document.createTextNode(`${v}°`)));
  }
  for (const v of ticks(yMin, yMax, 5)) {
    grid.append(svg("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }));
    root.append(svg("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, document.createTextNode(`${v}°`)));
  }
  root.append(svg("text", { x: (W + pad.l) / 2, y: H - 4, "text-anchor": "middle", style: "fill:#c9d2de" }, document.createTextNode("Hip flexion")));
  root.append(svg("text", { x: 12, y: (H - pad.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(H - pad.b) / 2})`, style: "fill:#c9d2de" }, document.createTextNode("Lumbar flexion")));
  legend.replaceChildren();
  const lines = new Map();
  if (norm) {
    root.append(svg("polyline", { points: norm.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(" "), fill: "none", stroke: "#9aa7b8", "stroke-width": 2, "stroke-dasharray": "6 5" }));
    legend.append(el("span", { title: report.screen.norm.source },
      el("span", { class: "swatch", style: "background:#9aa7b8" }), "Typical forward bend"));
  }
  for (const { rep, points } of traces) {
    const color = repColor(rep.index);
    if (points.length > 1) {
      const line = svg("polyline", { points: points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2.2, "stroke-linejoin": "round", opacity: 0.9 });
      lines.set(rep, line);
      root.append(line);
    }
    legend.append(el("span", { title: `max lumbar flexion ${fmtDeg(rep.max_lumbar_flexion_deg)}` },
      el("span", { class: "swatch", style: `background:${color}` }),
      `Rep ${rep.index}`, rep.rounding ? el("span", { style: "color:var(--bad)" }, " rounded") : null));
  }
  if (!all.length) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, document.createTextNode("No rep with both angles measured")));
  }
  const dot = svg("circle", { r: 5.5, fill: "#fff", stroke: "#0e1116", "stroke-width": 2, visibility: "hidden" });
  root.append(dot);
  container.replaceChildren(root);
  return {
    setFrame(frame, currentRep) {
      for (const [rep, line] of lines) {
        const current = rep === currentRep;
        line.setAttribute("opacity", !currentRep || current ? 0.95 : 0.25);
        line.setAttribute("stroke-width", current ? 3.2 : 2.2);
        if (current) root.insertBefore(line, dot);
      }
      const ok = currentRep && frame && frame.hip_flexion_deg != null && frame.lumbar_flexion_deg != null;
      dot.setAttribute("visibility", ok ? "visible" : "hidden");
      if (ok) {
        dot.setAttribute("cx", x(frame.hip_flexion_deg));
        dot.setAttribute("cy", y(frame.lumbar_flexion_deg));
      }
    },
  };
}

/** The typical forward bend as (hip, lumbar) points: each band of trunk inclination split
 * between lumbar and hip by the norm's lumbar-to-hip ratio, up to the norm's total bend. */
function normCurve(norm) {
  const points = [[0, 0]];
  let [hip, lumbar] = [0, 0];
  for (const [lo, hi, ratio] of norm.lumbar_to_hip) {
    const span = Math.min(hi, norm.total_bend_deg) - lo;
    if (span <= 0) break;
    hip += span / (1 + ratio);
    lumbar += (span * ratio) / (1 + ratio);
    points.push([hip, lumbar]);
  }
  return points;
}

/** An exercise's own measures over time (holds, sided reps): one panel per measure key, its
 * holds or reps shaded, a playhead; click to seek. `labels` names the panels. */
export function buildMeasureChart(container, report, keys, labels, onSeek) {
  const W = 760;
  const pad = { l: 44, r: 12, t: 22, b: 26 };
  const panelH = 120;
  const gap = 34;
  const H = pad.t + keys.length * panelH + (keys.length - 1) * gap + pad.b;
  const duration = report.video.duration_s || 1;
  const x = (t) => pad.l + (t / duration) * (W - pad.l - pad.r);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": labels.join(" and ") + " over time" });
  const grid = svg("g", { class: "grid" });
  const axis = svg("g", { class: "axis" });
  root.append(grid);
  const spans = report.holds || report.reps || [];
  const dots = [];
  keys.forEach((key, k) => {
    const top = pad.t + k * (panelH + gap);
    const values = report.frames.map((f) => f[key]).filter((v) => v != null);
    // Angles get at least +-10 deg of scale; ratios (depth, knee spread) their own range.
    const deg = key.endsWith("_deg");
    const unit = deg ? "°" : "";
    const hi = Math.max(deg ? 10 : 1, ...values) * 1.08;
    const lo = Math.min(deg ? -10 : 0, ...values) * 1.08;
    const y = (v) => top + panelH - ((v - lo) / (hi - lo)) * panelH;
    for (const span of spans) {
      root.append(svg("rect", {
        x: x(span.start_s), y: top, width: Math.max(1, x(span.end_s) - x(span.start_s)), height: panelH,
        fill: (span.findings || []).length ? "rgba(255,90,95,0.07)" : "rgba(90,169,255,0.06)",
      }));
    }
    for (const v of ticks(lo, hi, 4)) {
      grid.append(svg("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }));
      axis.append(svg("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, document.createTextNode(`${v}${unit}`)));
    }
    axis.append(svg("text", { x: pad.l, y: top - 7, style: "fill:#c9d2de;font-weight:600" }, document.createTextNode(labels[k])));
    root.append(svg("rect", { x: pad.l, y: top, width: W - pad.l - pad.r, height: panelH, fill: "none", stroke: "#2a323d" }));
    for (const points of valueRuns(report.frames, key)) {
      if (points.length > 1) {
        root.append(svg("polyline", { points: polylinePoints(points, x, y), fill: "none", stroke: REP_COLORS[k], "stroke-width": 2.2, "stroke-linejoin": "round" }));
      }
    }
    const dot = svg("circle", { r: 4, fill: REP_COLORS[k], stroke: "#0e1116", "stroke-width": 1.5 });
    dots.push([dot, key, y]);
  });
  for (const t of ticks(0, duration, 8)) {
    axis.append(svg("text", { x: x(t), y: H - 8, "text-anchor": "middle" }, document.createTextNode(`${t}s`)));
  }
  root.append(axis);
  const playhead = svg("line", { y1: pad.t, y2: H - pad.b, stroke: "#fff", "stroke-width": 1.5, opacity: 0.85 });
  root.append(playhead, ...dots.map(([dot]) => dot));
  seekOnClick(root, W, pad, duration, onSeek);
  container.replaceChildren(root);
  return {
    setTime(t, frame) {
      playhead.setAttribute("x1", x(t));
      playhead.setAttribute("x2", x(t));
      for (const [dot, key, y] of dots) {
        const value = frame?.[key];
        dot.setAttribute("visibility", value == null ? "hidden" : "visible");
        if (value != null) {
          dot.setAttribute("cx", x(frame.t));
          dot.setAttribute("cy", y(value));
        }
      }
    },
  };
}
