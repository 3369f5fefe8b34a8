// Process explorer: the forward process computed in the browser, the reverse process run on the server.
//
// Forward: x_t = √ᾱ_t · x₀ + √(1−ᾱ_t) · ε with one fixed draw of ε from api/forward, so the slider can
// scrub any t without a request. Reverse: a "reverse" job returns frames from pure noise to samples;
// after it the slider scrubs those frames (REVERSE mode) until the data set, schedule or number of
// timesteps changes or #ex-forward is pressed.

import { studio, getJson, runJob, showError, numberValue, fillSelect, trackProgress } from './api.js';
import {
  COLORS, setupCanvas, View, viewBounds, drawBackground, drawPoints, drawArrows, drawMessage,
} from './draw.js';

const N = 2000; // points in the cloud
const ANIMATION_MS = 3000; // play and reverse animations
const FIELD_GRID = 20;
const FIELD_DEBOUNCE_MS = 100;

const $ = (id) => document.getElementById(id);

const state = {
  datasets: [],
  models: [],
  forward: null, // {x0, noise: Float32Array, alphaBar: Float64Array, T, count, bounds}
  view: null, // View of the main canvas
  buffer: new Float32Array(2 * N), // the cloud being drawn, reused on every frame
  count: 0,
  mode: 'forward', // 'forward' or 'reverse'
  frames: [], // reverse frames [{t, alphaBar, sigma, points: Float32Array}], first pure noise
  framePos: 0, // position in frames, fractional while the reverse animation runs
  animation: 0, // requestAnimationFrame handle of the play / reverse animation
  redrawQueued: false,
  loadSeq: 0, // bumps on every forward load, so late answers of older loads are dropped
  field: null, // last field answer {positions, vectors}
  fieldKey: '', // parameters of the field being shown or fetched
  fieldTimer: 0,
  fieldSeq: 0,
  fieldArrows: 0,
  background: null, // offscreen canvas: grid + faint clean data
  scheduleCurves: null, // offscreen canvas: ᾱ_t and √(1−ᾱ_t) curves
  reverseRunning: false,
};

// Test hook (kept stable for the browser tests).
const hook = {
  ready: false,
  draws: 0,
  mode: () => $('ex-mode').textContent,
  cloud: () => state.buffer.slice(0, 2 * state.count),
  frames: () => state.frames.length,
  fieldArrows: () => state.fieldArrows,
};
studio.explorer = hook;

let main; // {ctx, width, height} of #ex-canvas
let sched; // {ctx, width, height} of #ex-schedule-canvas

export function initExplorer({ datasets, schedules, samplers, models }) {
  main = setupCanvas($('ex-canvas'));
  sched = setupCanvas($('ex-schedule-canvas'));
  drawMessage(main.ctx, main.width, main.height, 'loading…');

  state.datasets = datasets;
  const preferred = datasets.some((d) => d.name === '8gaussians') ? '8gaussians' : datasets[0]?.name;
  fillSelect($('ex-dataset'), datasets.map((d) => ({ value: d.name, label: d.name })), preferred);
  fillSelect($('ex-schedule'), schedules.map((s) => ({ value: s })), 'linear');
  fillSelect($('ex-sampler'), samplers.map((s) => ({ value: s.name, label: `${s.name}` })), 'ddim');
  setModels(models);

  $('ex-dataset').addEventListener('change', () => {
    state.frames = []; // frames belong to the data set they were sampled for
    loadForward();
  });
  $('ex-schedule').addEventListener('change', loadForward);
  $('ex-timesteps').addEventListener('change', loadForward);
  $('ex-model').addEventListener('change', () => { updateReverseButton(); scheduleField(); });
  $('ex-field').addEventListener('change', () => { scheduleField(); requestRedraw(); });
  $('ex-t').addEventListener('input', onSlider);
  $('ex-play').addEventListener('click', play);
  $('ex-reverse').addEventListener('click', runReverse);
  $('ex-forward').addEventListener('click', () => {
    stopAnimation();
    setMode('forward');
    requestRedraw();
    scheduleField();
  });

  loadForward();
}

/** Refreshes the model list (the oracle plus the 2D models). */
export function setModels(models) {
  state.models = models.filter((m) => m.kind === '2d');
  fillSelect($('ex-model'), [
    { value: 'oracle', label: 'analytic oracle' },
    ...state.models.map((m) => ({ value: m.name, label: `${m.name} (step ${m.step ?? '?'})` })),
  ], 'oracle');
  updateReverseButton();
}

function currentDataset() {
  return state.datasets.find((d) => d.name === $('ex-dataset').value);
}

/** The oracle only knows the mixture data sets flagged oracle:true. */
function modelUsable() {
  const model = $('ex-model').value;
  if (!model) return false;
  return model !== 'oracle' || Boolean(currentDataset()?.oracle);
}

function updateReverseButton() {
  const select = $('ex-model');
  const oracleOption = select.querySelector('option[value="oracle"]');
  const oracleOk = Boolean(currentDataset()?.oracle);
  if (oracleOption) oracleOption.disabled = !oracleOk;
  if (select.value === 'oracle' && !oracleOk && state.models.length) select.value = state.models[0].name;
  const usable = modelUsable();
  $('ex-reverse').disabled = !usable || state.reverseRunning;
  $('ex-model-hint').textContent = usable ? ''
    : 'The analytic oracle knows only the mixture data sets; pick one, or train a model in the Live training tab.';
}

// ---------------------------------------------------------------- forward process

async function loadForward() {
  stopAnimation();
  setMode('forward');
  updateReverseButton();
  const dataset = $('ex-dataset').value;
  const schedule = $('ex-schedule').value;
  const timesteps = Math.round(Math.min(4000, Math.max(2, numberValue($('ex-timesteps'), 1000))));
  $('ex-timesteps').value = timesteps;
  if (!dataset) return;
  const seq = ++state.loadSeq;
  const query = new URLSearchParams({ dataset, schedule, timesteps, n: N, seed: 0 });
  let answer;
  try {
    answer = await getJson(`api/forward?${query}`);
  } catch (error) {
    showError(error);
    return;
  }
  if (seq !== state.loadSeq) return; // a newer load started meanwhile

  const x0 = Float32Array.from(answer.x0);
  const noise = Float32Array.from(answer.noise);
  const count = Math.min(x0.length, noise.length) >> 1;
  const T = answer.timesteps ?? answer.alphaBar.length;
  state.forward = {
    x0, noise, count, T,
    alphaBar: Float64Array.from(answer.alphaBar),
    bounds: answer.bounds,
  };
  if (state.buffer.length < 2 * count) state.buffer = new Float32Array(2 * count);

  state.view = new View(viewBounds(answer.bounds), main.width, main.height, 10);
  state.background = renderBackground();
  state.scheduleCurves = renderScheduleCurves();

  const slider = $('ex-t');
  slider.max = T;
  if (Number(slider.value) > T) slider.value = T;
  state.field = null;
  state.fieldKey = '';
  redraw();
  scheduleField();
}

/** ᾱ of step t (alphaBar[t-1] belongs to step t; t = 0 is the clean data, ᾱ = 1). */
function alphaBarAt(t) {
  const { alphaBar } = state.forward;
  return t <= 0 ? 1 : alphaBar[Math.min(t, alphaBar.length) - 1];
}

/** Fills the buffer with x_t = √ᾱ_t · x₀ + √(1−ᾱ_t) · ε. */
function computeForward(t) {
  const { x0, noise, count } = state.forward;
  const a = alphaBarAt(t);
  const s = Math.sqrt(a);
  const r = Math.sqrt(1 - a);
  const out = state.buffer;
  for (let i = 0; i < 2 * count; i++) out[i] = s * x0[i] + r * noise[i];
  state.count = count;
}

// ---------------------------------------------------------------- reverse frames

/** Fills the buffer with the reverse frames at a fractional position, interpolating linearly. */
function computeReverse(pos) {
  const { frames } = state;
  const last = frames.length - 1;
  const p = Math.min(Math.max(pos, 0), last);
  const i = Math.min(Math.floor(p), Math.max(last - 1, 0));
  const w = last === 0 ? 0 : p - i;
  const a = frames[i].points;
  const b = frames[Math.min(i + 1, last)].points;
  const length = Math.min(a.length, b.length, state.buffer.length) & ~1;
  const out = state.buffer;
  for (let k = 0; k < length; k++) out[k] = a[k] + w * (b[k] - a[k]);
  state.count = length >> 1;
}

/** Index of the frame whose t is nearest to the slider's t. */
function nearestFrame(t) {
  let best = 0;
  let bestDistance = Infinity;
  state.frames.forEach((frame, i) => {
    const d = Math.abs(frame.t - t);
    if (d < bestDistance) { best = i; bestDistance = d; }
  });
  return best;
}

/** Switches between the forward cloud and the reverse frames; the slider's range follows (also for new frames). */
function setMode(mode) {
  state.mode = mode;
  const slider = $('ex-t');
  if (mode === 'reverse') {
    // frames carry the model's own timesteps; let the slider reach the first (noisiest) one
    const maxT = Math.max(state.forward?.T ?? 0, ...state.frames.map((f) => Math.ceil(f.t)));
    slider.max = maxT;
  } else if (state.forward) {
    slider.max = state.forward.T;
    if (Number(slider.value) > state.forward.T) slider.value = state.forward.T;
  }
  $('ex-forward').disabled = mode !== 'reverse';
}

async function runReverse() {
  if (!modelUsable() || state.reverseRunning) return;
  const dataset = $('ex-dataset').value;
  const body = {
    kind: 'reverse',
    model: $('ex-model').value,
    dataset,
    sampler: $('ex-sampler').value,
    steps: Math.round(numberValue($('ex-steps'), 50)),
    n: N,
    seed: Math.round(numberValue($('ex-seed'), 0)),
  };
  const progress = $('ex-progress');
  const status = $('ex-status');
  state.reverseRunning = true;
  updateReverseButton();
  const onProgress = trackProgress(progress, status, 'step');
  try {
    const result = await runJob(body, { onProgress });
    if ($('ex-dataset').value !== dataset) {
      status.textContent = 'done (data set changed meanwhile: frames discarded)';
      return;
    }
    state.frames = (result.frames || []).map((f) => ({
      t: Number(f.t), alphaBar: Number(f.alphaBar), sigma: f.sigma, points: Float32Array.from(f.points),
    }));
    status.textContent = `done: ${state.frames.length} frames, ${result.nfe} NFE, ${formatSeconds(result.seconds)}`;
    if (state.frames.length) {
      setMode('reverse');
      animateReverse();
    }
  } catch (error) {
    status.textContent = error.cancelled ? 'cancelled' : 'failed';
    if (!error.cancelled) showError(error);
  } finally {
    state.reverseRunning = false;
    progress.hidden = true;
    updateReverseButton();
  }
}

// ---------------------------------------------------------------- animation and slider

function stopAnimation() {
  if (state.animation) cancelAnimationFrame(state.animation);
  state.animation = 0;
  $('ex-play').textContent = '▶ Play';
}

/** Runs `step(fraction)` on every frame for ANIMATION_MS, fraction going 0 → 1. */
function animate(step) {
  stopAnimation();
  $('ex-play').textContent = '■ Stop';
  const start = performance.now();
  const tick = (now) => {
    // a frame's timestamp can precede the click that started the animation: clamp at 0
    const fraction = Math.min(1, Math.max(0, (now - start) / ANIMATION_MS));
    step(fraction);
    redraw();
    state.animation = fraction < 1 ? requestAnimationFrame(tick) : 0;
    if (!state.animation) {
      $('ex-play').textContent = '▶ Play';
      scheduleField();
    }
  };
  state.animation = requestAnimationFrame(tick);
}

/** Play: the forward process 0 → T in forward mode; in reverse mode, the reverse frames again. */
function play() {
  if (state.animation) { stopAnimation(); scheduleField(); return; }
  if (!state.forward) return;
  if (state.mode === 'reverse') { animateReverse(); return; }
  const slider = $('ex-t');
  const T = state.forward.T;
  animate((fraction) => { slider.value = Math.round(fraction * T); });
}

/** Particles travel from noise to data: frame position 0 → last, the slider following the frames' t. */
function animateReverse() {
  const slider = $('ex-t');
  const last = state.frames.length - 1;
  animate((fraction) => {
    state.framePos = fraction * last;
    const i = Math.min(Math.floor(state.framePos), Math.max(last - 1, 0));
    const w = state.framePos - i;
    const t0 = state.frames[i].t;
    const t1 = state.frames[Math.min(i + 1, last)].t;
    slider.value = Math.round(t0 + w * (t1 - t0));
  });
}

function onSlider() {
  stopAnimation();
  if (state.mode === 'reverse') state.framePos = nearestFrame(Number($('ex-t').value));
  requestRedraw();
  scheduleField();
}

/** Coalesces any number of slider events into one redraw per animation frame. */
function requestRedraw() {
  if (state.redrawQueued) return;
  state.redrawQueued = true;
  requestAnimationFrame(() => {
    state.redrawQueued = false;
    redraw();
  });
}

// ---------------------------------------------------------------- drawing

function renderBackground() {
  const canvas = document.createElement('canvas');
  canvas.width = $('ex-canvas').width;
  canvas.height = $('ex-canvas').height;
  const ctx = canvas.getContext('2d');
  ctx.scale(canvas.width / main.width, canvas.height / main.height);
  drawBackground(ctx, state.view);
  // faint clean data behind the moving cloud, for reference
  const { x0, count } = state.forward;
  drawPoints(ctx, state.view, x0, count, COLORS.reference, 0.12, 2);
  return canvas;
}

/** ᾱ_t and the noise scale √(1−ᾱ_t) against t, drawn once per forward load. */
function renderScheduleCurves() {
  const canvas = document.createElement('canvas');
  canvas.width = $('ex-schedule-canvas').width;
  canvas.height = $('ex-schedule-canvas').height;
  const ctx = canvas.getContext('2d');
  ctx.scale(canvas.width / sched.width, canvas.height / sched.height);
  const { width, height } = sched;
  const { T } = state.forward;
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);
  const box = scheduleBox();
  ctx.strokeStyle = COLORS.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w, box.h);
  ctx.fillStyle = COLORS.text;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  ctx.fillText('0', box.x, box.y + box.h + 3);
  ctx.textAlign = 'right';
  ctx.fillText(String(T), box.x + box.w, box.y + box.h + 3);
  ctx.textAlign = 'start';
  ctx.textBaseline = 'middle';
  ctx.fillText('1', 4, box.y);
  ctx.fillText('0', 4, box.y + box.h);
  const curve = (f, color) => {
    ctx.beginPath();
    for (let t = 0; t <= T; t++) {
      const x = box.x + (t / T) * box.w;
      const y = box.y + (1 - f(alphaBarAt(t))) * box.h;
      if (t === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  };
  curve((a) => a, COLORS.accent);
  curve((a) => Math.sqrt(1 - a), COLORS.accent2);
  return canvas;
}

function scheduleBox() {
  return { x: 16, y: 8, w: sched.width - 24, h: sched.height - 26 };
}

function drawScheduleMarker(t, alphaBar) {
  const { ctx } = sched;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(state.scheduleCurves, 0, 0);
  ctx.setTransform($('ex-schedule-canvas').width / sched.width, 0, 0,
    $('ex-schedule-canvas').height / sched.height, 0, 0);
  const box = scheduleBox();
  const T = Number($('ex-t').max) || state.forward.T;
  const x = box.x + Math.min(1, t / T) * box.w;
  ctx.strokeStyle = 'rgba(255,255,255,0.5)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, box.y);
  ctx.lineTo(Math.round(x) + 0.5, box.y + box.h);
  ctx.stroke();
  const dot = (v, color) => {
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(x, box.y + (1 - v) * box.h, 3.5, 0, 2 * Math.PI);
    ctx.fill();
  };
  dot(alphaBar, COLORS.accent);
  dot(Math.sqrt(1 - alphaBar), COLORS.accent2);
}

/** The ᾱ shown: the schedule's at the slider's t, or the displayed reverse frame's. */
function displayedAlphaBar() {
  if (state.mode === 'reverse' && state.frames.length) {
    return state.frames[Math.round(Math.min(state.framePos, state.frames.length - 1))].alphaBar;
  }
  return alphaBarAt(Number($('ex-t').value));
}

function redraw() {
  if (!state.forward) return;
  const t = Number($('ex-t').value);
  const reverse = state.mode === 'reverse' && state.frames.length > 0;
  if (reverse) computeReverse(state.framePos); else computeForward(t);

  const { ctx } = main;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(state.background, 0, 0);
  ctx.setTransform($('ex-canvas').width / main.width, 0, 0, $('ex-canvas').height / main.height, 0, 0);
  const color = reverse ? COLORS.reverse : t === 0 ? COLORS.data : COLORS.forward;
  drawPoints(ctx, state.view, state.buffer, state.count, color, 0.6, 2);

  state.fieldArrows = 0;
  if ($('ex-field').checked && state.field) {
    const cell = (state.view.width - 20) / FIELD_GRID;
    state.fieldArrows = drawArrows(ctx, state.view, state.field.positions, state.field.vectors, cell * 0.9);
  }

  const alphaBar = displayedAlphaBar();
  updateReadouts(t, alphaBar, reverse);
  drawScheduleMarker(t, alphaBar);

  hook.draws += 1;
  hook.ready = true;
}

const shown = {}; // last text written to each readout, to skip needless DOM writes

function setText(id, text) {
  if (shown[id] === text) return;
  shown[id] = text;
  $(id).textContent = text;
}

function updateReadouts(t, alphaBar, reverse) {
  setText('ex-t-label', `t = ${t} / ${$('ex-t').max}`);
  setText('ex-alphabar', alphaBar.toFixed(3));
  $('ex-alphabar-bar').style.width = `${(alphaBar * 100).toFixed(1)}%`;
  // SNR(t) = ᾱ_t / (1 − ᾱ_t)
  const snr = alphaBar / (1 - alphaBar);
  setText('ex-snr', alphaBar >= 1 ? '∞' : formatSnr(snr));
  const mode = reverse ? 'REVERSE' : t === 0 ? 'CLEAN DATA' : 'FORWARD';
  setText('ex-mode', mode);
  if (shown.modeClass !== mode) {
    shown.modeClass = mode;
    $('ex-mode').dataset.mode = mode.toLowerCase().replace(' ', '-');
  }
  if (reverse) {
    const i = Math.round(Math.min(state.framePos, state.frames.length - 1));
    const f = state.frames[i];
    const sigma = Number.isFinite(f.sigma) ? ` · σ = ${Number(f.sigma).toPrecision(3)}` : '';
    setText('ex-frame', `frame ${i + 1} / ${state.frames.length} (t = ${round2(f.t)}${sigma})`);
  } else {
    setText('ex-frame', '');
  }
}

function formatSnr(snr) {
  return snr >= 0.01 && snr < 1e4 ? snr.toPrecision(3) : snr.toExponential(2);
}

function round2(v) {
  return Math.round(v * 100) / 100;
}

function formatSeconds(s) {
  return Number.isFinite(s) ? `${s.toFixed(2)} s` : '';
}

// ---------------------------------------------------------------- denoising field

/** Refetches the field ~100 ms after the last change; drawing never waits for it. */
function scheduleField() {
  clearTimeout(state.fieldTimer);
  if (!$('ex-field').checked) return;
  state.fieldTimer = setTimeout(fetchField, FIELD_DEBOUNCE_MS);
}

async function fetchField() {
  if (!$('ex-field').checked || !state.forward || state.animation) return;
  if (!modelUsable()) {
    state.field = null;
    state.fieldKey = '';
    requestRedraw();
    return;
  }
  // the API needs 0 < ᾱ < 1: at t = 0 (ᾱ = 1) show the field just above the data
  const alphaBar = Math.min(0.9999, Math.max(1e-4, displayedAlphaBar()));
  // the lattice covers the visible axes (the server puts the arrows at the cells' centres)
  const bounds = state.view.bounds.map((v) => v.toFixed(4)).join(',');
  const query = new URLSearchParams({
    model: $('ex-model').value,
    dataset: $('ex-dataset').value,
    alphaBar: alphaBar.toPrecision(6),
    grid: FIELD_GRID,
    bounds,
  });
  const key = query.toString();
  if (key === state.fieldKey && state.field) return;
  state.fieldKey = key;
  const seq = ++state.fieldSeq;
  try {
    const answer = await getJson(`api/field?${query}`);
    if (seq !== state.fieldSeq) return; // a newer request is under way
    state.field = { positions: answer.positions, vectors: answer.vectors };
    requestRedraw();
  } catch (error) {
    if (seq === state.fieldSeq) state.fieldKey = '';
    showError(error);
  }
}
