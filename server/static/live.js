// Live coaching page: camera -> JPEG frames over the /api/live WebSocket -> overlay, banner,
// voice and tones from the answers. One frame in flight at a time; the set is recorded with
// MediaRecorder and uploaded as a normal analysis when the lifter stops.
import {
  COLORS, el, errorText, fillExerciseSelect, fmtDeg, followAnalysis, LUMBAR_RED_DEG, measureLabel, repsBySide, repVerdict,
} from "/static/common.js";
import { Overlay } from "/static/overlay.js";

const $ = (id) => document.getElementById(id);
const video = $("camera");
const SEND_WIDTH = 640;
const MAX_FPS = 30;
const ANSWER_TIMEOUT_MS = 1500;
const BANNER_MS = 3200;

/** Overlay of the viewer pages; the back outline is coloured by the live rounding state. */
class LiveOverlay extends Overlay {
  drawBack(frame, point, unit) {
    const ctx = this.ctx;
    const pts = frame.back_outline.map(point);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.globalAlpha = 0.6;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = unit * 6.5;
    strokeLine(ctx, pts);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = COLORS[frame.level] || COLORS.good;
    ctx.lineWidth = unit * 4;
    strokeLine(ctx, pts);
  }
}

function strokeLine(ctx, pts) {
  ctx.beginPath();
  ctx.moveTo(pts[0][0], pts[0][1]);
  for (const [x, y] of pts.slice(1)) ctx.lineTo(x, y);
  ctx.stroke();
}

/** Voice by speech synthesis plus a distinct tone per kind of cue (for devices without voices). */
class Voice {
  constructor() {
    this.muted = localStorage.getItem("formcheck.mute") === "1";
    this.audio = null;
  }

  unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!this.audio && Context) this.audio = new Context();
    if (this.audio && this.audio.state === "suspended") this.audio.resume();
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem("formcheck.mute", muted ? "1" : "0");
    if (muted && "speechSynthesis" in window) speechSynthesis.cancel();
  }

  say(cue) {
    if (this.muted) return;
    this.tone(cue.code);
    if (!("speechSynthesis" in window)) return;
    if (cue.code === "rounding") speechSynthesis.cancel(); // safety first: cut the chatter
    const utterance = new SpeechSynthesisUtterance(cue.text.replace("°", " degrees"));
    utterance.rate = 1.05;
    speechSynthesis.speak(utterance);
  }

  tone(code) {
    if (!this.audio) return;
    const notes = code === "rounding" ? [[330, 0.12], [262, 0.2]]
      : code.startsWith("camera_") && code !== "camera_ok" ? [[523, 0.1], [659, 0.1]]
        : code === "set_summary" ? [[523, 0.1], [659, 0.1], [784, 0.18]]
          : [[880, 0.08]];
    const type = code === "rounding" ? "square" : "sine";
    let at = this.audio.currentTime + 0.01;
    for (const [freq, length] of notes) {
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.type = type;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      osc.connect(gain).connect(this.audio.destination);
      osc.start(at);
      osc.stop(at + length + 0.02);
      at += length + 0.05;
    }
  }
}

const voice = new Voice();
const state = {
  stream: null, ws: null, recorder: null, chunks: [], inFlight: false, sentAt: 0, t0: 0,
  timer: null, last: null, roundingRep: null, answers: 0, rtts: [], bannerTimer: null, stopping: false,
};
const overlay = new LiveOverlay($("overlay"), video, { video: { width: 640, height: 480 }, frames: [] });
const grab = document.createElement("canvas");

function setConn(text, level = "") {
  $("conn").textContent = text;
  $("conn").className = `badge ${level}`;
}

async function start() {
  voice.unlock();
  $("start").disabled = true;
  $("result").replaceChildren();
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
    });
  } catch (error) {
    setConn("No camera", "bad");
    $("status").textContent = `The camera could not be opened: ${error.message}`;
    $("start").disabled = false;
    return;
  }
  video.srcObject = state.stream;
  await video.play().catch(() => {});
  await new Promise((resolve) => (video.videoWidth ? resolve() : video.addEventListener("loadedmetadata", resolve, { once: true })));
  $("stage").classList.toggle("portrait", video.videoHeight > video.videoWidth);
  connect();
  startRecording();
  $("stop").disabled = false;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/live`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  setConn("Connecting…", "info");
  ws.onopen = () => {
    const height = parseFloat($("height").value);
    ws.send(JSON.stringify({ exercise: $("exercise").value, height_cm: Number.isFinite(height) ? height : null }));
    state.t0 = performance.now();
    setConn("Live", "good");
    pump();
  };
  ws.onmessage = (event) => onAnswer(JSON.parse(event.data));
  ws.onclose = () => {
    if (!ws.stoppedByUser) setConn("Disconnected", "bad");
    clearTimeout(state.timer);
  };
}

/** Send the next frame when none is in flight (or the last answer is overdue), at most MAX_FPS. */
function pump() {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || state.stopping) return;
  const now = performance.now();
  const wait = Math.max(0, 1000 / MAX_FPS - (now - state.sentAt));
  if ((state.inFlight && now - state.sentAt < ANSWER_TIMEOUT_MS) || wait > 0) {
    state.timer = setTimeout(pump, state.inFlight ? 20 : wait);
    return;
  }
  const scale = Math.min(1, SEND_WIDTH / video.videoWidth);
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
  const t = (now - state.t0) / 1000;
  state.inFlight = true;
  state.sentAt = now;
  grab.toBlob(async (blob) => {
    if (!blob || ws.readyState !== WebSocket.OPEN) return;
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    const message = new Uint8Array(8 + jpeg.length);
    new DataView(message.buffer).setFloat64(0, t, false);
    message.set(jpeg, 8);
    ws.send(message);
  }, "image/jpeg", 0.75);
  state.timer = setTimeout(pump, 1000 / MAX_FPS);
}

function onAnswer(doc) {
  if (doc.error) {
    $("status").textContent = doc.error;
    state.inFlight = false;
    return;
  }
  if (doc.summary) {
    showSummary(doc);
    return;
  }
  state.inFlight = false;
  if (state.ws && state.ws.stoppedByUser) return; // a frame answered after the set ended
  state.answers += 1;
  state.rtts.push(performance.now() - state.sentAt);
  if (state.rtts.length > 60) state.rtts.shift();
  state.last = doc;
  for (const cue of doc.cues) showCue(cue, doc);
  if (doc.rep.phase === "lockout" || doc.rep.phase === "setup") state.roundingRep = null;
  draw(doc);
}

function level(doc) {
  if (state.roundingRep !== null) return "bad";
  const lumbar = doc.angles.lumbar_flexion_deg;
  return lumbar != null && lumbar >= LUMBAR_RED_DEG ? "warn" : "good";
}

function draw(doc) {
  const a = doc.angles;
  const lvl = level(doc);
  overlay.near = nearSide(doc.landmarks) || overlay.near;
  overlay.draw({
    pose: doc.pose, landmarks: doc.landmarks.length ? doc.landmarks : null, back_outline: doc.back_outline,
    hip_flexion_deg: a.hip_flexion_deg, lumbar_flexion_deg: a.lumbar_flexion_deg, level: lvl,
  });
  $("stage").classList.toggle("rounding", lvl === "bad");
  const labels = document.querySelectorAll(".readout .label");
  const own = doc.hold ? Object.keys(doc.hold).find((k) => k.endsWith("_deg")) : null;
  if (own) {
    // A hold: its own measure (hip sag, hip drop) instead of flexion relative to standing.
    labels[0].textContent = "Held";
    labels[1].textContent = measureLabel(own);
    $("ro-hip").textContent = `${doc.hold.held_s.toFixed(0)} s`;
    $("ro-lumbar").textContent = fmtDeg(doc.hold[own]);
    $("ro-lumbar").style.color = "";
  } else {
    labels[0].textContent = "Hip flexion";
    labels[1].textContent = "Lumbar flexion";
    $("ro-hip").textContent = fmtDeg(a.hip_flexion_deg);
    $("ro-lumbar").textContent = fmtDeg(a.lumbar_flexion_deg);
    $("ro-lumbar").style.color = COLORS[lvl];
  }
  if (doc.hold) {
    // A hold: time held (and in good form) instead of reps.
    $("rep-chip").textContent = doc.hold.holding ? `Holding · ${doc.hold.held_s.toFixed(0)} s` : "Get into position";
    $("rep-count").textContent = `${doc.hold.held_s.toFixed(0)} s held · ${doc.hold.good_form_s.toFixed(0)} s good form`;
  } else if (doc.sided) {
    // Sided reps: the count per side.
    $("rep-chip").textContent = `Rep ${doc.rep.count} · ${doc.rep.phase}`;
    $("rep-count").textContent = repsBySide(doc.sided.reps, doc.sided);
  } else {
    $("rep-chip").textContent = `Rep ${doc.rep.count} · ${doc.rep.phase}`;
    $("rep-count").textContent = `${doc.rep.count} rep${doc.rep.count === 1 ? "" : "s"}`;
  }
  const rtt = [...state.rtts].sort((x, y) => x - y)[Math.floor(state.rtts.length / 2)] || 0;
  $("status").textContent = `${state.answers} frames · round trip ${rtt.toFixed(0)} ms`;
}

function nearSide(lm) {
  if (!lm || !lm.length) return null;
  const sum = (ids) => ids.reduce((s, i) => s + lm[i][2], 0);
  return sum([11, 23, 25, 27]) >= sum([12, 24, 26, 28]) ? "left" : "right";
}

function showCue(cue, doc) {
  if (cue.code === "rounding") state.roundingRep = doc.rep.count + 1;
  const banner = $("banner");
  banner.textContent = cue.text;
  banner.className = `cue-banner ${cue.severity}`;
  clearTimeout(state.bannerTimer);
  state.bannerTimer = setTimeout(() => banner.classList.add("hidden"), BANNER_MS);
  voice.say(cue);
  $("no-cues").hidden = true;
  const when = doc.t != null ? `${doc.t.toFixed(1)} s` : "end";
  $("cue-log").prepend(el("li", { class: cue.severity }, el("span", { class: "when", text: when }), cue.text));
}

function startRecording() {
  state.chunks = [];
  state.recorder = null;
  if (!$("record").checked || !window.MediaRecorder) return;
  const types = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm", "video/mp4"];
  const mimeType = types.find((type) => MediaRecorder.isTypeSupported(type));
  try {
    state.recorder = new MediaRecorder(state.stream, mimeType ? { mimeType } : undefined);
  } catch (_) {
    return;
  }
  state.recorder.ondataavailable = (event) => event.data.size && state.chunks.push(event.data);
  state.recorder.start(1000);
}

async function stop() {
  state.stopping = true;
  $("stop").disabled = true;
  clearTimeout(state.timer);
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.stoppedByUser = true;
    state.ws.send(JSON.stringify({ stop: true }));
  }
  const recorded = state.recorder ? await finishRecording() : null;
  for (const track of state.stream ? state.stream.getTracks() : []) track.stop();
  overlay.clear();
  $("stage").classList.remove("rounding");
  setConn("Stopped");
  $("start").disabled = false;
  if (recorded && recorded.size > 0) upload(recorded);
  state.stopping = false;
}

function finishRecording() {
  return new Promise((resolve) => {
    const recorder = state.recorder;
    recorder.onstop = () => resolve(new Blob(state.chunks, { type: recorder.mimeType || "video/webm" }));
    recorder.stop();
  });
}

function showSummary(doc) {
  for (const cue of doc.cues) showCue(cue, { t: null, rep: { count: doc.summary.rep_count } });
  if (doc.summary.holds) {
    $("rep-count").textContent = `${doc.summary.held_s.toFixed(0)} s held · ${doc.summary.good_form_s.toFixed(0)} s good form`;
    return;
  }
  if (doc.summary.reps_by_side) {
    const by = doc.summary.reps_by_side;
    $("rep-count").textContent = repsBySide(doc.summary.rep_count, by);
    return;
  }
  const s = doc.summary;
  const verdict = repVerdict(s.rep_count, s.rounded_reps, s.rounding ?? null, null, s.confidence_level);
  if (verdict) $("rep-count").textContent = verdict.text;
}

async function upload(blob) {
  const extension = blob.type.includes("mp4") ? "mp4" : "webm";
  const name = `live-set-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.${extension}`;
  const status = el("div", { class: "upload-status", text: "Uploading the recorded set…" });
  const actions = el("div");
  $("result").replaceChildren(el("div", { class: "upload-item" }, status, actions));
  const form = new FormData();
  form.append("video", blob, name);
  form.append("exercise", $("exercise").value);
  if ($("height").value) form.append("height_cm", $("height").value);
  try {
    const response = await fetch("/api/analyses", { method: "POST", body: form });
    if (!response.ok) throw new Error(await errorText(response));
    const { id } = await response.json();
    actions.replaceChildren(el("a", { class: "button primary open-report", href: `/analyses/${id}` }, "Open the full report →"));
    status.textContent = "Analysing the recorded set…";
    followAnalysis(id, (s) => {
      if (s.status === "done") status.textContent = `Report ready: ${repVerdict(s.rep_count, s.rounded_reps, s.rounding, s.exercise, s.confidence_level)?.text || "done"}`;
      else if (s.status === "failed") status.textContent = s.error || "The analysis failed.";
      else status.textContent = `Analysing the recorded set… ${Math.round((s.progress || 0) * 100)}%`;
    });
  } catch (error) {
    status.textContent = `The recording could not be uploaded: ${error.message}`;
  }
}

fillExerciseSelect($("exercise"), "Deadlift or other hinge", true).catch(() => {});
$("mute").checked = voice.muted;
$("mute").addEventListener("change", (event) => voice.setMuted(event.target.checked));
$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
window.addEventListener("resize", () => state.last && draw(state.last));
