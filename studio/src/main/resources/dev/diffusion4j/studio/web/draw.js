// Canvas 2D helpers: high-DPI setup, a data→pixel view, point clouds, arrows and axes.

export const COLORS = {
  background: '#0d1117',
  grid: 'rgba(255,255,255,0.06)',
  axis: 'rgba(255,255,255,0.18)',
  text: '#8b949e',
  data: '#e6edf3',
  forward: '#58a6ff',
  reverse: '#f0883e',
  reference: '#8b949e',
  arrow: 'rgba(126, 231, 135, 0.85)',
  accent: '#58a6ff',
  accent2: '#d2a8ff',
};

/**
 * Prepares a canvas whose width/height attributes give its size in CSS pixels: the backing store is
 * scaled by devicePixelRatio and the context transformed, so all drawing uses CSS pixels.
 */
export function setupCanvas(canvas) {
  const width = Number(canvas.getAttribute('width')) || 300;
  const height = Number(canvas.getAttribute('height')) || 150;
  const dpr = Math.max(1, Math.round(window.devicePixelRatio || 1));
  if (canvas.width !== width * dpr) {
    canvas.width = width * dpr;
    canvas.height = height * dpr;
    canvas.style.width = `${width}px`; // CSS size stays put; max-width/height:auto in app.css keep the ratio
  }
  const ctx = canvas.getContext('2d', { alpha: false });
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

/** Union of [xmin, xmax, ymin, ymax] boxes. */
export function unionBounds(...boxes) {
  const out = [Infinity, -Infinity, Infinity, -Infinity];
  for (const b of boxes) {
    if (!b) continue;
    out[0] = Math.min(out[0], b[0]);
    out[1] = Math.max(out[1], b[1]);
    out[2] = Math.min(out[2], b[2]);
    out[3] = Math.max(out[3], b[3]);
  }
  return out;
}

/** Bounding box of an interleaved [x, y, x, y, ...] array (non-finite values ignored). */
export function pointBounds(points) {
  const b = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < b[0]) b[0] = x;
    if (x > b[1]) b[1] = x;
    if (y < b[2]) b[2] = y;
    if (y > b[3]) b[3] = y;
  }
  return Number.isFinite(b[0]) ? b : null;
}

/** The axes every 2D view uses: the data's box united with [-3,3]² so that pure noise fits too. */
export function viewBounds(dataBounds) {
  return unionBounds(dataBounds, [-3, 3, -3, 3]);
}

/**
 * Maps data coordinates to canvas pixels with equal scale on both axes (a circle stays a circle),
 * centring the box and leaving `margin` pixels around it.
 */
export class View {
  constructor(bounds, width, height, margin = 12) {
    const [xmin, xmax, ymin, ymax] = bounds;
    const spanX = Math.max(xmax - xmin, 1e-9);
    const spanY = Math.max(ymax - ymin, 1e-9);
    this.scale = Math.min((width - 2 * margin) / spanX, (height - 2 * margin) / spanY);
    const cx = (xmin + xmax) / 2;
    const cy = (ymin + ymax) / 2;
    this.ox = width / 2 - cx * this.scale;
    this.oy = height / 2 + cy * this.scale; // y grows upwards in data, downwards on screen
    this.width = width;
    this.height = height;
    // the data box actually visible on the canvas
    this.bounds = [this.toX(0), this.toX(width), this.toY(height), this.toY(0)];
  }

  px(x) { return this.ox + x * this.scale; }

  py(y) { return this.oy - y * this.scale; }

  toX(px) { return (px - this.ox) / this.scale; }

  toY(py) { return (this.oy - py) / this.scale; }
}

/** Fills the canvas with the background and draws a light grid at integer coordinates. */
export function drawBackground(ctx, view) {
  ctx.globalAlpha = 1;
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, view.width, view.height);
  const [xmin, xmax, ymin, ymax] = view.bounds;
  const step = pickStep(Math.max(xmax - xmin, ymax - ymin) / 8);
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = Math.ceil(xmin / step) * step; x <= xmax; x += step) {
    const p = Math.round(view.px(x)) + 0.5;
    ctx.moveTo(p, 0);
    ctx.lineTo(p, view.height);
  }
  for (let y = Math.ceil(ymin / step) * step; y <= ymax; y += step) {
    const p = Math.round(view.py(y)) + 0.5;
    ctx.moveTo(0, p);
    ctx.lineTo(view.width, p);
  }
  ctx.strokeStyle = COLORS.grid;
  ctx.stroke();
  // the axes through the origin
  ctx.beginPath();
  const x0 = Math.round(view.px(0)) + 0.5;
  const y0 = Math.round(view.py(0)) + 0.5;
  ctx.moveTo(x0, 0);
  ctx.lineTo(x0, view.height);
  ctx.moveTo(0, y0);
  ctx.lineTo(view.width, y0);
  ctx.strokeStyle = COLORS.axis;
  ctx.stroke();
  // tick labels along the bottom and left edges
  ctx.fillStyle = COLORS.text;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'bottom';
  // (labels too close to an edge would collide with the other axis' labels or be cut off)
  for (let x = Math.ceil(xmin / step) * step; x <= xmax; x += step) {
    const p = view.px(x);
    if (Math.abs(x) < 1e-9 || p < 16 || p > view.width - 16) continue;
    ctx.fillText(formatTick(x), p + 3, view.height - 2);
  }
  ctx.textBaseline = 'top';
  for (let y = Math.ceil(ymin / step) * step; y <= ymax; y += step) {
    const p = view.py(y);
    if (Math.abs(y) < 1e-9 || p < 4 || p > view.height - 20) continue;
    ctx.fillText(formatTick(y), 3, p + 2);
  }
}

/** A "nice" grid spacing (1, 2 or 5 times a power of ten) close to `raw`. */
export function pickStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
}

function formatTick(v) {
  return Math.abs(v) >= 1 ? String(Math.round(v * 100) / 100) : v.toPrecision(2);
}

/**
 * Draws `count` points of an interleaved [x, y, ...] array as 2×2 px squares. fillRect in one fill
 * style is far cheaper than a path or an arc per point, which keeps scrubbing above 30 frames/s.
 */
export function drawPoints(ctx, view, points, count, color, alpha = 0.55, size = 2) {
  ctx.globalAlpha = alpha;
  ctx.fillStyle = color;
  const half = size / 2;
  const { scale, ox, oy } = view;
  for (let i = 0, j = 0; i < count; i++, j += 2) {
    const x = ox + points[j] * scale - half;
    const y = oy - points[j + 1] * scale - half;
    ctx.fillRect(x, y, size, size);
  }
  ctx.globalAlpha = 1;
}

/**
 * Draws arrows from positions[i] along vectors[i] in one path. Lengths are normalised by the longest
 * vector so that the longest arrow spans `maxLength` pixels. Returns the number of arrows drawn.
 */
export function drawArrows(ctx, view, positions, vectors, maxLength, color = COLORS.arrow) {
  const count = Math.min(positions.length, vectors.length) >> 1;
  let longest = 0;
  for (let i = 0; i < count; i++) {
    const m = Math.hypot(vectors[2 * i], vectors[2 * i + 1]);
    if (Number.isFinite(m) && m > longest) longest = m;
  }
  if (longest === 0) return 0;
  const k = maxLength / longest;
  ctx.beginPath();
  let drawn = 0;
  for (let i = 0; i < count; i++) {
    const dx = vectors[2 * i] * k;
    const dy = -vectors[2 * i + 1] * k; // screen y points down
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) continue;
    const x0 = view.px(positions[2 * i]);
    const y0 = view.py(positions[2 * i + 1]);
    const x1 = x0 + dx;
    const y1 = y0 + dy;
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    const len = Math.hypot(dx, dy);
    if (len > 3) {
      // arrow head: two short strokes at ±25° from the shaft
      const head = Math.min(5, len * 0.4);
      const angle = Math.atan2(dy, dx);
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - head * Math.cos(angle - 0.45), y1 - head * Math.sin(angle - 0.45));
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - head * Math.cos(angle + 0.45), y1 - head * Math.sin(angle + 0.45));
    }
    drawn++;
  }
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = color;
  ctx.stroke();
  return drawn;
}

/** Writes a centred message on an otherwise empty canvas. */
export function drawMessage(ctx, width, height, message) {
  ctx.globalAlpha = 1;
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = COLORS.text;
  ctx.font = '13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(message, width / 2, height / 2);
  ctx.textAlign = 'start';
}
