// Canvas overlay: skeleton, back outline coloured by lumbar flexion, angle labels near the body.
// Coordinates in the report are normalised to the frame (0..1); the video is drawn with
// object-fit: contain, so they are mapped through the displayed content box.
import { COLORS, fmtDeg, lumbarColor } from "/static/common.js";

// BlazePose body connections (face left out except a nose-to-shoulders hint).
const LEFT = [[11, 13], [13, 15], [11, 23], [23, 25], [25, 27], [27, 29], [29, 31], [27, 31]];
const RIGHT = [[12, 14], [14, 16], [12, 24], [24, 26], [26, 28], [28, 30], [30, 32], [28, 32]];
const CENTER = [[11, 12], [23, 24]];
const LEFT_POINTS = [11, 13, 15, 23, 25, 27, 29, 31];
const RIGHT_POINTS = [12, 14, 16, 24, 26, 28, 30, 32];
const MIN_VISIBILITY = 0.3;

export class Overlay {
  constructor(canvas, video, report) {
    this.canvas = canvas;
    this.video = video;
    this.report = report;
    this.ctx = canvas.getContext("2d");
    this.show = { skeleton: true, back: true };
    this.near = nearSide(report);
  }

  /** Match the canvas bitmap to its displayed size; returns the video content box in pixels. */
  layout() {
    const dpr = window.devicePixelRatio || 1;
    const rect = this.canvas.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width * dpr));
    const height = Math.max(1, Math.round(rect.height * dpr));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const vw = this.video.videoWidth || this.report.video.width;
    const vh = this.video.videoHeight || this.report.video.height;
    const scale = Math.min(width / vw, height / vh);
    return { x: (width - vw * scale) / 2, y: (height - vh * scale) / 2, w: vw * scale, h: vh * scale, dpr };
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Draw one frame's data (or clear when there is none). */
  draw(frame) {
    const box = this.layout();
    this.clear();
    if (!frame || !frame.pose) return;
    const ctx = this.ctx;
    const unit = Math.max(1.5, box.h / 320) ;
    const point = ([x, y]) => [box.x + x * box.w, box.y + y * box.h];
    const lm = frame.landmarks;
    if (this.show.skeleton && lm) this.drawSkeleton(lm, point, unit);
    if (this.show.back && frame.back_outline && frame.back_outline.length > 1) {
      this.drawBack(frame, point, unit);
    }
    if (lm) this.drawHipAngle(frame, lm, point, unit);
    ctx.globalAlpha = 1;
  }

  drawSkeleton(lm, point, unit) {
    const ctx = this.ctx;
    const sides = [
      [LEFT, LEFT_POINTS, this.near === "left" ? 1 : 0.4],
      [RIGHT, RIGHT_POINTS, this.near === "right" ? 1 : 0.4],
      [CENTER, [], 0.7],
    ];
    ctx.lineCap = "round";
    for (const [lines, points, alpha] of sides) {
      for (const [a, b] of lines) {
        if (lm[a][2] < MIN_VISIBILITY || lm[b][2] < MIN_VISIBILITY) continue;
        const [x1, y1] = point(lm[a]);
        const [x2, y2] = point(lm[b]);
        ctx.globalAlpha = alpha * 0.55;
        ctx.strokeStyle = "#000";
        ctx.lineWidth = unit * 3.4;
        strokeLine(ctx, x1, y1, x2, y2);
        ctx.globalAlpha = alpha * 0.9;
        ctx.strokeStyle = "#f4f7fb";
        ctx.lineWidth = unit * 1.8;
        strokeLine(ctx, x1, y1, x2, y2);
      }
      for (const i of points) {
        if (lm[i][2] < MIN_VISIBILITY) continue;
        const [x, y] = point(lm[i]);
        ctx.globalAlpha = alpha;
        ctx.fillStyle = "#f4f7fb";
        ctx.beginPath();
        ctx.arc(x, y, unit * 2.2, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    if (lm[0][2] >= MIN_VISIBILITY) {
      const [x, y] = point(lm[0]);
      ctx.globalAlpha = 0.9;
      ctx.fillStyle = "#f4f7fb";
      ctx.beginPath();
      ctx.arc(x, y, unit * 3, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  drawBack(frame, point, unit) {
    const ctx = this.ctx;
    const pts = frame.back_outline.map(point);
    const color = lumbarColor(frame.lumbar_flexion_deg);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.globalAlpha = 0.6;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = unit * 6.5;
    strokePath(ctx, pts);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = color;
    ctx.lineWidth = unit * 4;
    strokePath(ctx, pts);
    for (const [x, y] of [pts[0], pts[pts.length - 1]]) {
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(x, y, unit * 3.2, 0, Math.PI * 2);
      ctx.fill();
    }
    if (frame.lumbar_flexion_deg != null) {
      const [mx, my] = pts[Math.floor(pts.length * 0.35)];
      const dx = this.near === "left" ? 1 : -1;
      label(ctx, `Lumbar ${fmtDeg(frame.lumbar_flexion_deg)}`, mx - dx * unit * 10, my, color, unit, dx < 0 ? "right" : "left");
    }
  }

  drawHipAngle(frame, lm, point, unit) {
    if (frame.hip_flexion_deg == null) return;
    const [s, h, k] = this.near === "left" ? [11, 23, 25] : [12, 24, 26];
    if (lm[h][2] < MIN_VISIBILITY || lm[k][2] < MIN_VISIBILITY) return;
    const ctx = this.ctx;
    const [hx, hy] = point(lm[h]);
    const [sx, sy] = point(lm[s]);
    const [kx, ky] = point(lm[k]);
    const a1 = Math.atan2(sy - hy, sx - hx);
    const a2 = Math.atan2(ky - hy, kx - hx);
    let delta = a2 - a1;
    while (delta > Math.PI) delta -= 2 * Math.PI;
    while (delta < -Math.PI) delta += 2 * Math.PI;
    const radius = unit * 16;
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = COLORS.hip;
    ctx.lineWidth = unit * 2.2;
    ctx.beginPath();
    ctx.arc(hx, hy, radius, a1, a1 + delta, delta < 0);
    ctx.stroke();
    ctx.globalAlpha = 1;
    const mid = a1 + delta / 2;
    const lx = hx - Math.cos(mid) * radius * 1.3;
    const ly = hy - Math.sin(mid) * radius * 1.3;
    label(ctx, `Hip ${fmtDeg(frame.hip_flexion_deg)}`, lx, ly, COLORS.hip, unit, Math.cos(mid) > 0 ? "right" : "left");
  }
}

/** The side facing the camera: the one whose landmarks are more visible over the clip. */
function nearSide(report) {
  let left = 0;
  let right = 0;
  for (const frame of report.frames) {
    if (!frame.landmarks) continue;
    for (const i of LEFT_POINTS) left += frame.landmarks[i][2];
    for (const i of RIGHT_POINTS) right += frame.landmarks[i][2];
  }
  return left >= right ? "left" : "right";
}

function strokeLine(ctx, x1, y1, x2, y2) {
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  ctx.stroke();
}

function strokePath(ctx, pts) {
  ctx.beginPath();
  ctx.moveTo(pts[0][0], pts[0][1]);
  for (const [x, y] of pts.slice(1)) ctx.lineTo(x, y);
  ctx.stroke();
}

function label(ctx, text, x, y, color, unit, align) {
  const size = Math.round(unit * 7.5);
  ctx.font = `600 ${size}px system-ui, sans-serif`;
  const width = ctx.measureText(text).width + size * 0.9;
  const height = size * 1.45;
  const left = align === "right" ? x - width : x;
  const top = y - height / 2;
  ctx.globalAlpha = 0.82;
  ctx.fillStyle = "#0b0f14";
  roundRect(ctx, left, top, width, height, height / 2);
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.strokeStyle = color;
  ctx.lineWidth = Math.max(1, unit * 0.8);
  roundRect(ctx, left, top, width, height, height / 2);
  ctx.stroke();
  ctx.fillStyle = "#fff";
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.fillText(text, left + size * 0.45, y + 1);
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
