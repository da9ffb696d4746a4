// Upload page: drop or choose videos, show upload and analysis progress, list past analyses.
import {
  el, errorText, fillExerciseSelect, fmtBytes, fmtDate, followAnalysis, getJSON, repVerdict,
  EXERCISE_NAMES,
} from "/static/common.js";

const dropzone = document.getElementById("dropzone");
const fileInput = document.getElementById("file-input");
const uploads = document.getElementById("uploads");
const historyList = document.getElementById("history");
const historyEmpty = document.getElementById("history-empty");
let maxUploadBytes = null;
let historyTimer = null;

async function loadConfig() {
  fillExerciseSelect(document.getElementById("exercise")).then(refreshHistory).catch(() => {});
  try {
    const config = await getJSON("/api/config");
    maxUploadBytes = config.max_upload_bytes;
    document.getElementById("limit-hint").textContent =
      `MP4, MOV, WebM and most other video files, up to ${fmtBytes(maxUploadBytes)}`;
  } catch (_) { /* the server still enforces the limit */ }
}

function statusText(status) {
  if (status.status === "queued") return "Waiting for a free analysis slot…";
  if (status.status === "running") {
    return status.progress > 0 ? `Analysing… ${Math.round(status.progress * 100)}%` : "Starting the analysis…";
  }
  if (status.status === "failed") return status.error || "The analysis failed.";
  if (status.status === "gone") return "This analysis was deleted.";
  const verdict = repVerdict(status.rep_count, status.rounded_reps, status.rounding, status.exercise,
    status.confidence_level);
  return verdict ? `Done: ${verdict.text}` : "Done";
}

function uploadCard(file) {
  const bar = el("span");
  const progress = el("div", { class: "progress" }, bar);
  const stage = el("div", { class: "upload-status", text: "Uploading… 0%" });
  const actions = el("div");
  const card = el("div", { class: "upload-item" },
    el("div", { class: "row" }, el("span", { class: "name", text: file.name }),
      el("span", { class: "muted", text: fmtBytes(file.size) })),
    progress, el("div", { class: "row" }, stage, actions));
  uploads.prepend(card);
  return {
    set(fraction, text) {
      bar.style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
      stage.textContent = text;
    },
    fail(text) {
      card.classList.add("failed");
      progress.classList.add("failed");
      bar.style.width = "100%";
      stage.textContent = text;
    },
    done(id, text) {
      progress.classList.add("done");
      bar.style.width = "100%";
      stage.textContent = text;
      actions.replaceChildren(el("a", { class: "button primary open-result", href: `/analyses/${id}` },
        "Open the viewer →"));
    },
  };
}

function uploadFile(file) {
  const card = uploadCard(file);
  if (maxUploadBytes && file.size > maxUploadBytes) {
    card.fail(`This video is ${fmtBytes(file.size)}; the limit is ${fmtBytes(maxUploadBytes)}.`);
    return;
  }
  const form = new FormData();
  form.append("video", file, file.name);
  form.append("exercise", document.getElementById("exercise").value);
  const height = document.getElementById("height").value.trim();
  if (height) form.append("height_cm", height);

  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/analyses");
  xhr.responseType = "json";
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) {
      const fraction = event.loaded / event.total;
      card.set(fraction, fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : "Checking the video…");
    }
  };
  xhr.onerror = () => card.fail("The upload failed: the server could not be reached.");
  xhr.onload = () => {
    if (xhr.status !== 202) {
      const detail = xhr.response && typeof xhr.response.detail === "string" ? xhr.response.detail : `error ${xhr.status}`;
      card.fail(detail);
      return;
    }
    const id = xhr.response.id;
    card.set(0, "Queued");
    refreshHistory();
    followAnalysis(id, (status) => {
      if (status.status === "done") card.done(id, statusText(status));
      else if (status.status === "failed" || status.status === "gone") card.fail(statusText(status));
      else card.set(status.status === "running" ? status.progress : 0, statusText(status));
      if (status.status !== "running") refreshHistory();
    });
  };
  xhr.send(form);
}

function historyItem(item) {
  const verdict = repVerdict(item.rep_count, item.rounded_reps, item.rounding, item.exercise,
    item.confidence_level);
  let badge;
  if (item.status === "done" && verdict) badge = el("span", { class: `badge ${verdict.level}`, text: verdict.text });
  else if (item.status === "failed") badge = el("span", { class: "badge bad", title: item.error || "", text: "Failed" });
  else if (item.status === "running") badge = el("span", { class: "badge info", text: `Analysing ${Math.round(item.progress * 100)}%` });
  else badge = el("span", { class: "badge", text: "Queued" });
  const meta = [fmtDate(item.created_at)];
  if (item.exercise && item.exercise !== "auto") meta.push(EXERCISE_NAMES[item.exercise] || item.exercise);
  if (item.duration_s) meta.push(`${item.duration_s.toFixed(1)} s`);
  const remove = el("button", {
    class: "icon-button danger delete", title: "Delete this analysis", "aria-label": `Delete ${item.filename}`,
    onclick: async () => {
      if (!confirm(`Delete "${item.filename}" and its results?`)) return;
      const response = await fetch(`/api/analyses/${item.id}`, { method: "DELETE" });
      if (!response.ok && response.status !== 404) alert(await errorText(response));
      refreshHistory();
    },
  }, "✕");
  return el("li", { class: "history-item", "data-id": item.id },
    el("a", { class: "main", href: `/analyses/${item.id}` },
      el("span", { class: "name", text: item.filename }),
      el("span", { class: "meta", text: meta.join(" · ") })),
    badge, remove);
}

async function refreshHistory() {
  let items;
  try {
    items = await getJSON("/api/analyses");
  } catch (_) {
    return;
  }
  historyList.replaceChildren(...items.map(historyItem));
  historyEmpty.hidden = items.length > 0;
  clearTimeout(historyTimer);
  if (items.some((item) => item.status === "queued" || item.status === "running")) {
    historyTimer = setTimeout(refreshHistory, 2000);
  }
}

function handleFiles(files) {
  for (const file of files) uploadFile(file);
}

fileInput.addEventListener("change", () => {
  handleFiles([...fileInput.files]);
  fileInput.value = "";
});
dropzone.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    fileInput.click();
  }
});
for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("over");
  });
}
for (const type of ["dragleave", "drop"]) {
  dropzone.addEventListener(type, () => dropzone.classList.remove("over"));
}
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  handleFiles([...event.dataTransfer.files]);
});
// A file dropped outside the zone should not make the browser navigate away.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

loadConfig();
refreshHistory();
