// Live training of a 2D model: loss chart and sample snapshots streamed from a "train" job.

import { studio, getJson, postJson, runJob, cancelJob, showError, numberValue, fillSelect } from './api.js';
import {
  COLORS, setupCanvas, View, viewBounds, unionBounds, pointBounds, drawBackground, drawPoints,
  drawMessage, pickStep,
} from './draw.js';

const $ = (id) => document.getElementById(id);

// Test hook (kept stable for the browser tests). `snapshots` counts since page load.
const hook = {
  state: 'idle',
  losses: [],
  snapshots: 0,
  lastSnapshot: null,
  model: null,
  checkpoints: 0, // checkpoint events received (Save, or the run's own schedule)
};
studio.train = hook;

const state = {
  jobId: null,
  stopping: false, // Stop was pressed for the current job
  total: 0,
  chartQueued: false,
  snapshotQueued: false,
  reference: null, // clean data of the data set being trained, drawn faintly under the snapshots
  referenceBounds: null,
  snapshotBounds: null, // grows with every snapshot so the axes do not jump back and forth
  snapshotStep: null, // training step of the snapshot shown
};

let loss; // {ctx, width, height} of #tr-loss-canvas
let snap; // {ctx, width, height} of #tr-snapshot-canvas

export function initTrain({ datasets }) {
  loss = setupCanvas($('tr-loss-canvas'));
  snap = setupCanvas($('tr-snapshot-canvas'));
  const preferred = datasets.some((d) => d.name === '8gaussians') ? '8gaussians' : datasets[0]?.name;
  fillSelect($('tr-dataset'), datasets.map((d) => ({ value: d.name })), preferred);
  $('tr-start').addEventListener('click', start);
  $('tr-stop').addEventListener('click', stop);
  $('tr-save').addEventListener('click', save);
  $('tr-resume').addEventListener('click', resume);
  $('tr-dataset').addEventListener('change', () => loadReference($('tr-dataset').value));
  setState('idle', 'no training yet');
  drawChart();
  loadReference($('tr-dataset').value);
}

/** Shows one of idle / queued / running / done / cancelled / failed, then the details. */
function setState(word, details = '') {
  hook.state = word;
  const status = $('tr-status');
  status.dataset.state = word;
  status.textContent = details ? `${word} · ${details}` : word;
  updateButtons();
}

/** Stop and Save need the job's id (known once the server queued it) and stay off after Stop. */
function updateButtons() {
  const live = hook.state === 'queued' || hook.state === 'running';
  $('tr-start').disabled = live;
  $('tr-resume').disabled = live;
  $('tr-stop').disabled = !live || !state.jobId || state.stopping;
  $('tr-save').disabled = hook.state !== 'running' || !state.jobId || state.stopping;
}

function start() {
  const dataset = $('tr-dataset').value;
  const body = {
    kind: 'train',
    dataset,
    steps: Math.round(numberValue($('tr-steps'), 3000)),
    batchSize: Math.round(numberValue($('tr-batch'), 256)),
    lr: numberValue($('tr-lr'), 1e-3),
    snapshotEvery: Math.round(numberValue($('tr-snapshot-every'), 250)),
  };
  const name = $('tr-name').value.trim();
  if (name) body.name = name;
  // a new run: fresh chart and snapshot
  hook.losses = [];
  hook.lastSnapshot = null;
  hook.model = null;
  state.snapshotBounds = null;
  loadReference(dataset);
  run(body);
}

/** Continues the last model (or the one named in the form) up to #tr-steps in total. */
function resume() {
  const model = hook.model || $('tr-name').value.trim() || `studio-${$('tr-dataset').value}`;
  run({ kind: 'train', resume: model, steps: Math.round(numberValue($('tr-steps'), 3000)) });
}

async function stop() {
  if (!state.jobId) return;
  state.stopping = true;
  updateButtons();
  try {
    await cancelJob(state.jobId);
  } catch (error) {
    showError(error);
    state.stopping = false;
    updateButtons();
  }
}

/** Asks the running job for a checkpoint at its next step; the 'checkpoint' event confirms it. */
async function save() {
  if (!state.jobId) return;
  try {
    await postJson(`api/jobs/${encodeURIComponent(state.jobId)}/checkpoint`, {});
  } catch (error) {
    showError(error);
  }
}

function onCheckpoint({ step, checkpoint }) {
  hook.checkpoints += 1;
  $('tr-save').title = `last checkpoint: ${checkpoint} (step ${step})`;
  document.dispatchEvent(new CustomEvent('studio:models-changed'));
}

async function run(body) {
  const progress = $('tr-progress');
  progress.value = 0;
  state.jobId = null;
  state.stopping = false;
  state.total = body.steps;
  setState('queued', body.resume ? `resuming ${body.resume}` : `${body.dataset}, ${body.steps} steps`);
  try {
    const result = await runJob(body, {
      onQueued: (job) => { state.jobId = job.id; updateButtons(); },
      onProgress: onProgress,
      onSnapshot: onSnapshot,
      onCheckpoint: onCheckpoint,
    });
    hook.model = result?.model ?? hook.model;
    const step = result?.step ?? lastStep();
    setState('done', `${hook.model ?? 'model'} at step ${step}${lossDetail()}`);
    progress.value = progress.max;
    document.dispatchEvent(new CustomEvent('studio:models-changed'));
  } catch (error) {
    if (error.cancelled) {
      // the server saved a checkpoint: the cancelled event (or the job's status) names it
      let saved = error.result;
      if (!saved?.model && state.jobId) {
        saved = (await getJson(`api/jobs/${encodeURIComponent(state.jobId)}`).catch(() => null))?.result;
      }
      if (saved?.checkpoint) {
        hook.model = saved.model;
        setState('cancelled', `checkpoint saved at step ${saved.step}${lossDetail()}`);
        document.dispatchEvent(new CustomEvent('studio:models-changed'));
      } else {
        setState('cancelled', 'stopped before it started');
      }
    } else {
      setState('failed', error.message);
      showError(error);
    }
  } finally {
    requestChart();
  }
}

function lastStep() {
  return hook.losses.length ? hook.losses[hook.losses.length - 1][0] : 0;
}

function lossDetail() {
  const last = hook.losses[hook.losses.length - 1];
  return last ? `, loss ${last[1].toPrecision(4)}` : '';
}

function onProgress({ step, total, loss: value }) {
  if (total) state.total = total;
  const progress = $('tr-progress');
  progress.max = state.total || 1;
  progress.value = step;
  // a resumed run continues the chart; steps only move forward
  if (Number.isFinite(value) && step > lastStep()) hook.losses.push([step, value]);
  setState('running', `step ${step} / ${state.total}${Number.isFinite(value) ? `, loss ${value.toPrecision(4)}` : ''}`);
  requestChart();
}

function onSnapshot({ step, points }) {
  hook.snapshots += 1;
  hook.lastSnapshot = Float32Array.from(points);
  state.snapshotStep = step;
  const b = pointBounds(hook.lastSnapshot);
  state.snapshotBounds = unionBounds(state.snapshotBounds, b);
  if (!state.snapshotQueued) {
    state.snapshotQueued = true;
    requestAnimationFrame(() => { state.snapshotQueued = false; drawSnapshot(); });
  }
}

async function loadReference(dataset) {
  if (!dataset) return;
  try {
    const query = new URLSearchParams({ dataset, schedule: 'linear', timesteps: 2, n: 2000, seed: 1 });
    const answer = await getJson(`api/forward?${query}`);
    if ($('tr-dataset').value !== dataset && !hook.lastSnapshot) return;
    state.reference = Float32Array.from(answer.x0);
    state.referenceBounds = answer.bounds;
  } catch (error) {
    showError(error);
  }
  drawSnapshot();
}

// ---------------------------------------------------------------- drawing

function requestChart() {
  if (state.chartQueued) return;
  state.chartQueued = true;
  requestAnimationFrame(() => { state.chartQueued = false; drawChart(); });
}

/**
 * Loss against step on a log y axis: raw values as faint dots and an exponential moving average
 * s_k = β s_{k−1} + (1−β) loss_k, divided by (1−β^k) to remove the start-up bias towards 0.
 */
function drawChart() {
  const { ctx, width, height } = loss;
  const data = hook.losses;
  if (data.length === 0) {
    drawMessage(ctx, width, height, 'the loss appears here while the model trains');
    return;
  }
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);
  const box = { x: 52, y: 12, w: width - 64, h: height - 40 };

  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of data) {
    if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (!Number.isFinite(lo)) { lo = 1e-3; hi = 1; }
  let logLo = Math.log10(lo);
  let logHi = Math.log10(hi);
  if (logHi - logLo < 0.2) { const mid = (logHi + logLo) / 2; logLo = mid - 0.1; logHi = mid + 0.1; }
  const pad = (logHi - logLo) * 0.05;
  logLo -= pad;
  logHi += pad;

  const firstStep = data[0][0];
  const maxStep = Math.max(state.total || 0, data[data.length - 1][0], firstStep + 1);
  const minStep = Math.min(0, firstStep);
  const X = (step) => box.x + ((step - minStep) / (maxStep - minStep)) * box.w;
  const Y = (v) => box.y + (1 - (Math.log10(Math.max(v, 1e-30)) - logLo) / (logHi - logLo)) * box.h;

  // y grid: 1, 2, 5 × powers of ten inside the range
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  ctx.lineWidth = 1;
  const decades = logHi - logLo;
  const mantissas = decades > 3 ? [1] : decades > 1 ? [1, 2, 5] : [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let e = Math.floor(logLo); e <= Math.ceil(logHi); e++) {
    for (const m of mantissas) {
      const v = m * 10 ** e;
      const lv = Math.log10(v);
      if (lv < logLo || lv > logHi) continue;
      const y = Math.round(Y(v)) + 0.5;
      ctx.strokeStyle = m === 1 ? COLORS.axis : COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(box.x, y);
      ctx.lineTo(box.x + box.w, y);
      ctx.stroke();
      ctx.fillStyle = COLORS.text;
      ctx.fillText(formatLoss(v), box.x - 5, y);
    }
  }
  // x ticks
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const xStep = pickStep((maxStep - minStep) / 6);
  for (let s = Math.ceil(minStep / xStep) * xStep; s <= maxStep; s += xStep) {
    const x = Math.round(X(s)) + 0.5;
    ctx.strokeStyle = COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(x, box.y);
    ctx.lineTo(x, box.y + box.h);
    ctx.stroke();
    ctx.fillStyle = COLORS.text;
    ctx.fillText(String(s), x, box.y + box.h + 4);
  }
  ctx.textAlign = 'start';
  ctx.fillText('step', box.x + box.w - 24, box.y + box.h + 16);

  // raw values
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.x, box.y, box.w, box.h);
  ctx.clip();
  ctx.globalAlpha = 0.35;
  ctx.fillStyle = COLORS.accent;
  for (const [s, v] of data) ctx.fillRect(X(s) - 1, Y(v) - 1, 2, 2);
  ctx.globalAlpha = 1;

  // smoothed: an averaging window of about 1/30 of the points seen so far
  const window = Math.max(3, data.length / 30);
  const beta = 1 - 1 / window;
  let ema = 0;
  let weight = 0;
  ctx.beginPath();
  data.forEach(([s, v], k) => {
    ema = beta * ema + (1 - beta) * Math.log(Math.max(v, 1e-30)); // averaged in log space
    weight = beta * weight + (1 - beta); // = 1 − β^(k+1)
    const y = Y(Math.exp(ema / weight));
    if (k === 0) ctx.moveTo(X(s), y); else ctx.lineTo(X(s), y);
  });
  ctx.strokeStyle = COLORS.accent;
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.restore();
}

function formatLoss(v) {
  return v >= 0.01 && v < 1000 ? String(Number(v.toPrecision(2))) : v.toExponential(0);
}

function drawSnapshot() {
  const { ctx, width, height } = snap;
  const points = hook.lastSnapshot;
  if (!points && !state.reference) {
    drawMessage(ctx, width, height, 'samples appear here');
    return;
  }
  const bounds = viewBounds(unionBounds(state.referenceBounds, state.snapshotBounds));
  const view = new View(bounds, width, height, 8);
  drawBackground(ctx, view);
  if (state.reference) drawPoints(ctx, view, state.reference, state.reference.length >> 1, COLORS.reference, 0.25);
  if (points) {
    drawPoints(ctx, view, points, points.length >> 1, COLORS.reverse, 0.7);
    ctx.fillStyle = COLORS.text;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText(`step ${state.snapshotStep ?? '?'}`, 8, 6);
  } else {
    ctx.fillStyle = COLORS.text;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText('data (grey); samples appear during training', 8, 6);
  }
}
