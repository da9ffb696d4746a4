// Viewer page: video + overlay in sync with the report, controls, timeline, charts, rep table.
import {
  el, EXERCISE_MEASURES, EXERCISE_NAMES, fmtDeg, fmtMeasure, measureLabel, loadExercises, fmtSeconds, followAnalysis, getJSON, lumbarColor, lumbarLevel, repsBySide, repVerdict,
} from "/static/common.js";
import { Overlay } from "/static/overlay.js";
import { buildMeasureChart, buildRhythmChart, buildTimeChart, buildTimeline, repColor, severityClass } from "/static/charts.js";

const id = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const $ = (selector) => document.getElementById(selector);
const video = $("video");

function show(section) {
  for (const name of ["pending", "failed", "content"]) $(name).hidden = name !== section;
}

function showPending(status) {
  show("pending");
  const queued = status.status === "queued";
  $("pending-title").textContent = queued ? "Waiting for a free analysis slot…" : "Analysing…";
  $("pending-bar").style.width = `${Math.round((status.progress || 0) * 100)}%`;
  $("pending-text").textContent = queued
    ? "Other videos are being analysed first."
    : `${Math.round((status.progress || 0) * 100)}% — finding the pose in every frame and measuring the back.`;
}

function showFailed(message) {
  show("failed");
  $("failed-text").textContent = message;
}

async function load() {
  let analysis;
  await loadExercises().catch(() => {});  // labels for the exercise names
  try {
    analysis = await getJSON(`/api/analyses/${id}`);
  } catch (error) {
    $("title").textContent = "Not found";
    showFailed(error.message);
    return;
  }
  $("title").textContent = analysis.filename;
  document.title = `${analysis.filename} — formcheck`;
  if (analysis.status === "done" && analysis.report) {
    render(analysis);
  } else if (analysis.status === "failed") {
    showFailed(analysis.error || "The analysis failed.");
  } else {
    showPending(analysis);
    followAnalysis(id, (status) => {
      if (status.status === "done") load();
      else if (status.status === "failed") showFailed(status.error || "The analysis failed.");
      else if (status.status === "gone") showFailed("This analysis was deleted.");
      else showPending(status);
    });
  }
}

/** Index of the last frame whose time is at or before t (frames are sorted by time). */
function frameIndexAt(frames, t) {
  let lo = 0;
  let hi = frames.length - 1;
  if (hi < 0 || t < frames[0].t) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frames[mid].t <= t + 1e-4) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function render(analysis) {
  const report = analysis.report;
  const frames = report.frames || [];
  const reps = report.reps || [];
  const summary = report.summary || {};
  const fps = report.video.fps || 30;
  show("content");

  const view = report.view || {};
  const parts = [EXERCISE_NAMES[summary.exercise] || summary.exercise || "Lift"];
  if (view.kind) parts.push(`${view.kind} view${view.facing ? `, facing ${view.facing}` : ""}`);
  parts.push(fmtSeconds(report.video.duration_s, 1));
  $("subtitle").textContent = parts.join(" · ");
  const verdict = repVerdict(summary.rep_count ?? reps.length, summary.rounded_reps,
    summary.rounding === undefined ? false : summary.rounding, null, summary.confidence_level);
  const sided = report.screen ? null : summary.reps_by_side;
  if (report.screen) {
    const badge = $("verdict");
    badge.hidden = false;
    // A reading near the line is told as likely: never green, never red.
    const near = report.screen.confidence_level === "low";
    const level = near ? "info"
      : { hips_led: "good", hinged: "good", back_led: "bad", back_bent: "bad" }[report.screen.verdict] || "info";
    badge.className = `badge verdict ${level}`;
    badge.textContent = report.screen.hip_share == null
      ? "Screen not judged"
      : `Hips gave ${Math.round(report.screen.hip_share * 100)}% of the bend${near ? " (near the line)" : ""}`;
    badge.title = report.screen.message;
    $("reps-card").hidden = true;
  } else if (sided) {
    const badge = $("verdict");
    badge.hidden = false;
    badge.className = `badge verdict ${{ good: "good", broke: "bad" }[summary.form] || "info"}`;
    badge.textContent = repsBySide(summary.rep_count, sided);
    if (summary.verdict_message) badge.title = summary.verdict_message;
  } else if (report.holds) {
    const badge = $("verdict");
    badge.hidden = false;
    const level = { good: "good", broke: "bad" }[summary.form] || "info";
    badge.className = `badge verdict ${level}`;
    badge.textContent = report.holds.length
      ? `Held ${fmtSeconds(summary.held_s, 1)} · ${fmtSeconds(summary.good_form_s, 1)} in good form`
      : "No hold found";
    if (summary.verdict_message) badge.title = summary.verdict_message;
  } else if (verdict) {
    const badge = $("verdict");
    badge.hidden = false;
    badge.className = `badge verdict ${verdict.level}`;
    badge.textContent = summary.rounding ? `Back rounded · ${verdict.text}` : verdict.text;
    if (summary.verdict_message) badge.title = summary.verdict_message;
  }

  video.src = `/api/analyses/${id}/video`;
  const overlay = new Overlay($("overlay"), video, report);
  const seek = (t, pause) => {
    if (pause) video.pause();
    video.currentTime = Math.max(0, Math.min(t, (video.duration || report.video.duration_s) - 1e-3));
    update(video.currentTime);
  };
  const timeline = buildTimeline($("timeline"), report, seek);
  const timeChart = buildTimeChart($("chart-time"), report, seek);
  const rhythm = buildRhythmChart($("chart-rhythm"), $("rhythm-legend"), report);
  const groups = report.holds
    ? report.holds.map((h) => ({ ...h, label: `Hold ${h.index}` }))
    : sided ? reps.map((r) => ({ ...r, label: r.side ? `Rep ${r.index} (${r.side})` : `Rep ${r.index}` })) : reps;
  fillFindings(groups, report.set_findings || [], seek);
  fillMessages(summary.messages || []);
  const rows = fillRepTable(reps, seek);
  const holdMeasures = holdReadouts(summary.exercise);
  const ownLayout = Boolean(report.holds || sided);
  let measureChart = null;
  if (ownLayout) {
    $("measures-card").hidden = false;
    measureChart = buildMeasureChart($("chart-measures"), report, holdMeasures, holdMeasures.map(measureLabel), seek);
    showHoldLayout(holdMeasures, report.holds
      ? "Nothing to flag: the body stayed in a straight line."
      : "Nothing to flag: the trunk stayed still.");
  }
  fillDownloads();

  let source = "live";
  let lastIndex = -1;
  function update(t) {
    const index = frameIndexAt(frames, t);
    const frame = frames[index];
    overlay.draw(source === "live" ? frame : null);
    timeline.setTime(t);
    timeChart.setTime(t, frame);
    measureChart?.setTime(t, frame);
    $("time").textContent = `${t.toFixed(2)} / ${(report.video.duration_s || 0).toFixed(2)} s · frame ${index + 1}`;
    if (index === lastIndex) return;
    lastIndex = index;
    if (ownLayout) {
      $("ro-hip").textContent = fmtMeasure(holdMeasures[0], frame?.[holdMeasures[0]]);
      $("ro-lumbar").textContent = fmtMeasure(holdMeasures[1], frame?.[holdMeasures[1]]);
    } else {
      $("ro-hip").textContent = fmtDeg(frame?.hip_flexion_deg);
      const lumbar = $("ro-lumbar");
      lumbar.textContent = fmtDeg(frame?.lumbar_flexion_deg);
      lumbar.style.color = lumbarColor(frame?.lumbar_flexion_deg);
    }
    const rep = reps.find((r) => t >= r.start_s && t <= r.end_s);
    $("rep-chip").replaceChildren(...(rep ? [el("span", {
      class: `badge ${rep.rounding ? "bad" : rep.rounding === null ? "" : "info"}`,
      style: `border-color:${repColor(rep.index)}`,
    }, `Rep ${rep.index}${frame?.phase ? ` · ${frame.phase}` : ""}`)] : []));
    rhythm.setFrame(frame, rep);
    rows.forEach((row, i) => row.classList.toggle("current", reps[i] === rep));
  }

  // Draw exactly when a new video frame is shown where the browser says so, else every animation frame.
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = (_now, meta) => {
      update(meta.mediaTime);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    const tick = () => {
      if (!video.paused) update(video.currentTime);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
  for (const type of ["seeked", "loadeddata", "pause"]) video.addEventListener(type, () => update(video.currentTime));
  new ResizeObserver(() => update(video.currentTime)).observe($("stage"));

  const playButton = $("play");
  const syncPlay = () => {
    const paused = video.paused;
    playButton.querySelector("path").setAttribute("d", paused ? "M4 2.5v11l9-5.5z" : "M4 2.5h3v11H4zM9 2.5h3v11H9z");
    playButton.querySelector("span").textContent = paused ? "Play" : "Pause";
    playButton.setAttribute("aria-label", paused ? "Play" : "Pause");
  };
  video.addEventListener("play", syncPlay);
  video.addEventListener("pause", syncPlay);
  video.addEventListener("ended", syncPlay);
  const togglePlay = () => (video.paused ? video.play() : video.pause());
  playButton.addEventListener("click", togglePlay);
  video.addEventListener("click", togglePlay);

  const step = (direction) => {
    video.pause();
    const index = Math.max(0, Math.min(frames.length - 1, frameIndexAt(frames, video.currentTime) + direction));
    const t = frames.length ? frames[index].t : video.currentTime + direction / fps;
    // Aim inside the frame's display interval so the browser shows that frame, not its neighbour.
    seek(t + 0.3 / fps, true);
  };
  $("step-back").addEventListener("click", () => step(-1));
  $("step-fwd").addEventListener("click", () => step(1));

  for (const button of $("speeds").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      video.playbackRate = Number(button.dataset.rate);
      for (const other of $("speeds").querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
    });
  }

  for (const button of $("sources").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      if (button.dataset.source === source) return;
      source = button.dataset.source;
      const t = video.currentTime;
      const rate = video.playbackRate;
      video.src = source === "live" ? `/api/analyses/${id}/video` : `/api/analyses/${id}/annotated.mp4`;
      video.addEventListener("loadedmetadata", () => {
        video.currentTime = t;
        video.playbackRate = rate;
      }, { once: true });
      for (const other of $("sources").querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
      $("stage").querySelector(".readouts").hidden = source !== "live";
      $("rep-chip").hidden = source !== "live";
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === " " && !event.target.closest("button")) {
      event.preventDefault();
      togglePlay();
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      step(-1);
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      step(1);
    }
  });
  update(0);
}

function fillFindings(reps, setFindings, seek) {
  const list = $("findings");
  const items = [];
  const groups = [...reps.map((rep) => [rep.label || `Rep ${rep.index}`, rep.findings || []]), ["Whole set", setFindings]];
  for (const [label, findings] of groups) {
    for (const finding of findings) {
      if (finding.start_s == null) {
        items.push(el("li", {}, el("div", { class: `finding-item ${severityClass(finding.severity)}` },
          el("span", { class: "when", text: label }), el("span", { text: finding.message }))));
        continue;
      }
      items.push(el("li", {}, el("button", {
        type: "button",
        class: `finding-item ${severityClass(finding.severity)}`,
        "data-start": finding.start_s,
        onclick: () => seek(finding.start_s, true),
      },
      el("span", { class: "when", text: `${label} · ${fmtSeconds(finding.start_s)}–${fmtSeconds(finding.end_s)} · ${finding.severity || ""}` }),
      el("span", { text: finding.message }))));
    }
  }
  list.replaceChildren(...items);
  $("no-findings").hidden = items.length > 0;
}

function fillMessages(messages) {
  $("messages").replaceChildren(...messages.map((message) => el("li", { text: message })));
  $("cues-card").hidden = messages.length === 0;
}

/** The rep table's verdict badge: rounded (with where), flat, or not judged (with why). */
function repBadge(rep) {
  if (rep.rounding === null) {
    return { class: "badge", title: REASON_TEXT[rep.reason] || "", text: "Not judged" };
  }
  const unsure = rep.confidence_level === "low";
  if (rep.rounding) {
    const where = (rep.rounded_phases || []).join(", ");
    const word = unsure ? "Probably rounded" : "Rounded";
    return { class: "badge bad", text: where ? `${word} (${where})` : word };
  }
  return unsure ? { class: "badge info", text: "Probably flat" } : { class: "badge good", text: "Flat" };
}

const REASON_TEXT = {
  oblique_view: "Filmed off side-on: film side-on, at hip height.",
  back_not_traced: "The back's outline could not be traced at the bottom of the rep.",
  ambiguous: "Too close to the line between flat and rounded to call.",
  outline_conflict:
    "The outline bowed but the lower back did not flex beyond standing (upper back or loose shirt).",
};

/** The two measures the read-outs show for an exercise with its own measures (holds, sided
 * reps): the exercise's first two (body line and hip sag or drop; arm and leg elevation). */
function holdReadouts(exercise) {
  const measures = EXERCISE_MEASURES[exercise] || [];
  return measures.length >= 2 ? measures.slice(0, 2) : ["body_line_deg", "hip_sag_deg"];
}

/** A hold or sided reps: the read-outs give the exercise's measures; the lifts' rep table and
 * flexion charts (relative to standing) do not apply. */
function showHoldLayout(measures, nothingText) {
  const labels = document.querySelectorAll(".readout .label");
  labels[0].textContent = measureLabel(measures[0]);
  labels[1].textContent = measureLabel(measures[1]);
  $("reps-card").hidden = true;
  $("charts").hidden = true;
  $("no-findings").textContent = nothingText;
}

function fillRepTable(reps, seek) {
  const body = $("rep-table").querySelector("tbody");
  const rows = reps.map((rep) => {
    const level = lumbarLevel(rep.max_lumbar_flexion_deg);
    const share = rep.lumbar_share == null ? "–" : `${Math.round(rep.lumbar_share * 100)}%`;
    return el("tr", { onclick: () => seek(rep.start_s, true), title: "Jump to this rep" },
      el("td", {}, el("span", { class: "swatch", style: `display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;background:${repColor(rep.index)}` }), `${rep.index}`),
      el("td", { text: `${rep.start_s.toFixed(2)}–${rep.end_s.toFixed(2)} s` }),
      el("td", { text: fmtDeg(rep.max_hip_flexion_deg) }),
      el("td", {}, el("span", { class: `badge ${level || ""}`, text: fmtDeg(rep.max_lumbar_flexion_deg) })),
      el("td", { text: share }),
      el("td", {}, el("span", repBadge(rep))));
  });
  body.replaceChildren(...rows);
  $("no-reps").hidden = reps.length > 0;
  $("rep-table").hidden = reps.length === 0;
  return rows;
}

function fillDownloads() {
  const base = `/api/analyses/${id}`;
  $("downloads").replaceChildren(
    el("a", { class: "button", href: `${base}/annotated.mp4?download=true`, download: "" }, "Annotated video (MP4)"),
    el("a", { class: "button", href: `${base}/report.json`, download: "" }, "Report (JSON)"),
    el("a", { class: "button", href: `${base}/report.csv`, download: "" }, "Angles per frame (CSV)"),
  );
}

load();
