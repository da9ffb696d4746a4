// Shared helpers for the formcheck pages: API calls, formatting, lumbar colour scale.

export const LUMBAR_AMBER_DEG = 10;
export const LUMBAR_RED_DEG = 15;
export const COLORS = { good: "#2fbf71", warn: "#f2a93b", bad: "#ff5a5f", hip: "#5aa9ff" };

/** Colour class of a lumbar flexion value: green < 10°, amber 10–15°, red > 15°. */
export function lumbarLevel(deg) {
  if (deg == null || Number.isNaN(deg)) return null;
  if (deg > LUMBAR_RED_DEG) return "bad";
  if (deg >= LUMBAR_AMBER_DEG) return "warn";
  return "good";
}

export function lumbarColor(deg) {
  const level = lumbarLevel(deg);
  return level ? COLORS[level] : "#9aa4b2";
}

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

export async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
  } catch (_) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

export function fmtDeg(value, digits = 0) {
  return value == null || Number.isNaN(value) ? "–" : `${value.toFixed(digits)}°`;
}

/** A measure's value with its unit: degrees for "*_deg" keys, else a plain number (ratios). */
export function fmtMeasure(key, value) {
  if (key.endsWith("_deg")) return fmtDeg(value);
  return value == null || Number.isNaN(value) ? "–" : value.toFixed(2);
}

export function fmtSeconds(value, digits = 2) {
  return value == null ? "–" : `${value.toFixed(digits)} s`;
}

export function fmtBytes(bytes) {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(bytes >= 100 * 1024 ** 2 ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function fmtDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Exercise labels by name, filled from the server's registry by `loadExercises`. */
export const EXERCISE_NAMES = { auto: "Exercise detected automatically" };
/** Exercise kinds by name ("reps", "hold", "sided reps", "screen"), filled with EXERCISE_NAMES. */
export const EXERCISE_KINDS = { auto: "reps" };
/** Per-frame measures of each exercise (the report's frame keys), filled with EXERCISE_NAMES. */
export const EXERCISE_MEASURES = { auto: [] };
let exercisesPromise = null;

/** The server's exercise catalogue (`/api/config`), fetched once per page; fills EXERCISE_NAMES. */
export function loadExercises() {
  if (!exercisesPromise) {
    exercisesPromise = getJSON("/api/config").then((config) => {
      for (const ex of config.exercises) {
        if (ex.name !== "auto") EXERCISE_NAMES[ex.name] = ex.label;
        EXERCISE_KINDS[ex.name] = ex.kind;
        EXERCISE_MEASURES[ex.name] = ex.measures || [];
      }
      return config.exercises;
    });
  }
  return exercisesPromise;
}

/** "hip_drop_deg" -> "Hip drop": a measure's key as a label. */
export function measureLabel(key) {
  const words = key.replace(/_deg$|_s$/, "").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Fill a <select> with the registry's exercises (`liveOnly`: those coached live);
 * `autoLabel` names the "auto" choice. */
export async function fillExerciseSelect(select, autoLabel = "Detect automatically", liveOnly = false) {
  const list = (await loadExercises()).filter((ex) => !liveOnly || ex.live);
  const current = select.value || "auto";
  select.replaceChildren(...list.map((ex) => el("option", {
    value: ex.name, text: ex.name === "auto" ? autoLabel : ex.label, title: ex.film_hint,
  })));
  select.value = list.some((ex) => ex.name === current) ? current : "auto";
  return list;
}

/** "3 reps · 2 left, 1 right", or "3 reps" when the reps have no side (frog squat). */
export function repsBySide(count, by) {
  const reps = `${count} rep${count === 1 ? "" : "s"}`;
  return by && (by.left || by.right) ? `${reps} · ${by.left} left, ${by.right} right` : reps;
}

/** Text and colour class summarising an analysis' reps, or null if it has none yet.
 * `rounding` null (not false) means the back was not judged: never shown as a flat back. */
export function repVerdict(repCount, roundedReps, rounding, exercise = null, confidenceLevel = null) {
  if (repCount == null) return null;
  if (EXERCISE_KINDS[exercise] === "hold") return { text: "Hold · open it for the time held", level: "info" };
  if (EXERCISE_KINDS[exercise] === "screen") return { text: "Screen · open it for the hip share", level: "info" };
  if (repCount === 0) return { text: "No reps found", level: "" };
  const reps = `${repCount} rep${repCount === 1 ? "" : "s"}`;
  // Sided reps (bird dog) are not lifts: no back-rounding verdict, reps per side in the report.
  if (EXERCISE_KINDS[exercise] === "sided reps") return { text: `${reps} · open it for each side`, level: "info" };
  if (!roundedReps && rounding === null) return { text: `${reps} · not judged — film side-on`, level: "info" };
  // A verdict near the line between flat and rounded is told as likely, never shown green.
  const unsure = confidenceLevel === "low";
  if (!roundedReps) return unsure ? { text: `${reps} · back probably flat`, level: "info" } : { text: `${reps} · back flat`, level: "good" };
  return { text: `${reps} · ${roundedReps} rounded${unsure ? " (low confidence)" : ""}`, level: "bad" };
}

/** Create an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Follow an analysis' status by server-sent events; returns a function that stops listening. */
export function followAnalysis(id, onStatus) {
  const source = new EventSource(`/api/analyses/${id}/events`);
  let finished = false;
  source.addEventListener("status", (event) => {
    const status = JSON.parse(event.data);
    onStatus(status);
    if (status.status === "done" || status.status === "failed") {
      finished = true;
      source.close();
    }
  });
  source.addEventListener("gone", () => {
    finished = true;
    source.close();
    onStatus({ id, status: "gone" });
  });
  source.onerror = () => {
    if (finished) source.close();
  };
  return () => source.close();
}
