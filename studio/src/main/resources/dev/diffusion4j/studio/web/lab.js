// Sampler lab: the same noise through several samplers, compared by energy distance to fresh data.

import { studio, runJob, showError, numberValue, fillSelect, trackProgress } from './api.js';
import { COLORS, setupCanvas, View, viewBounds, pointBounds, drawBackground, drawPoints } from './draw.js';

const $ = (id) => document.getElementById(id);
const PRESELECTED = ['ddim', 'euler', 'heun', 'dpmpp_2m'];
const MAX_SAMPLERS = 8;

// Test hook (kept stable for the browser tests).
const hook = { result: null };
studio.lab = hook;

let datasets = [];
let models2d = [];
let running = false;

export function initLab({ datasets: sets, samplers, models }) {
  datasets = sets;
  const preferred = sets.some((d) => d.name === '8gaussians') ? '8gaussians' : sets[0]?.name;
  fillSelect($('lab-dataset'), sets.map((d) => ({ value: d.name })), preferred);

  const box = $('lab-samplers');
  box.replaceChildren(...samplers.map((s) => {
    const label = document.createElement('label');
    label.className = 'check';
    label.title = [s.name, s.description, s.order != null ? `order: ${s.order}` : '']
      .filter(Boolean).join('\n');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = s.name;
    input.checked = PRESELECTED.includes(s.name);
    const name = document.createElement('span');
    name.textContent = s.name;
    label.append(input, name);
    return label;
  }));

  setModels(models);
  $('lab-dataset').addEventListener('change', updateModelChoice);
  $('lab-model').addEventListener('change', updateModelChoice);
  $('lab-run').addEventListener('click', run);
}

export function setModels(models) {
  models2d = models.filter((m) => m.kind === '2d');
  fillSelect($('lab-model'), [
    { value: 'oracle', label: 'analytic oracle' },
    ...models2d.map((m) => ({ value: m.name, label: `${m.name} (step ${m.step ?? '?'})` })),
  ], 'oracle');
  updateModelChoice();
}

/** The oracle is only offered for data sets it knows (oracle:true). */
function updateModelChoice() {
  const select = $('lab-model');
  const oracleOk = Boolean(datasets.find((d) => d.name === $('lab-dataset').value)?.oracle);
  const oracle = select.querySelector('option[value="oracle"]');
  if (oracle) oracle.disabled = !oracleOk;
  if (select.value === 'oracle' && !oracleOk && models2d.length) select.value = models2d[0].name;
  const usable = select.value && (select.value !== 'oracle' || oracleOk);
  $('lab-run').disabled = running || !usable;
  $('lab-hint').textContent = usable ? ''
    : 'The analytic oracle knows only the mixture data sets; pick one, or train a model first.';
}

async function run() {
  const samplers = [...$('lab-samplers').querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
  if (samplers.length < 1 || samplers.length > MAX_SAMPLERS) {
    showError(`pick between 1 and ${MAX_SAMPLERS} samplers (${samplers.length} selected)`);
    return;
  }
  const body = {
    kind: 'lab',
    model: $('lab-model').value,
    dataset: $('lab-dataset').value,
    samplers,
    steps: Math.round(numberValue($('lab-steps'), 20)),
    n: Math.round(numberValue($('lab-n'), 2000)),
    seed: Math.round(numberValue($('lab-seed'), 0)),
  };
  const progress = $('lab-progress');
  const status = $('lab-status');
  running = true;
  updateModelChoice();
  const onProgress = trackProgress(progress, status, 'sampler');
  try {
    const result = await runJob(body, { onProgress });
    hook.result = result;
    render(result, body);
    status.textContent = `done: ${result.results.length} samplers, ${body.steps} steps, n = ${body.n}`;
  } catch (error) {
    status.textContent = error.cancelled ? 'cancelled' : 'failed';
    if (!error.cancelled) showError(error);
  } finally {
    running = false;
    progress.hidden = true;
    updateModelChoice();
  }
}

function sig4(v) {
  return Number.isFinite(v) ? Number(v).toPrecision(4) : '—';
}

function render(result, body) {
  const reference = Float32Array.from(result.reference ?? []);
  // one set of axes for every plot: the reference data's box united with [-3,3]²
  const bounds = viewBounds(pointBounds(reference));
  const best = Math.min(...result.results.map((r) => r.energy).filter(Number.isFinite));

  const plots = $('lab-plots');
  plots.replaceChildren();
  plots.append(plot('reference data', `fresh data · floor ${sig4(result.floor)}`, reference, bounds, COLORS.data));
  for (const r of result.results) {
    const caption = `NFE ${r.nfe} · energy ${sig4(r.energy)}`;
    const figure = plot(r.sampler, caption, Float32Array.from(r.points ?? []), bounds, COLORS.reverse);
    figure.dataset.sampler = r.sampler;
    if (r.energy === best) figure.classList.add('best');
    plots.append(figure);
  }

  // table: sampler name as a row header, then NFE, energy distance, seconds
  const tbody = $('lab-results').querySelector('tbody');
  tbody.replaceChildren(...result.results.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.sampler = r.sampler;
    if (r.energy === best) tr.classList.add('best');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = r.sampler;
    tr.append(th, cell(String(r.nfe)), cell(sig4(r.energy)), cell(Number(r.seconds).toFixed(3)));
    return tr;
  }));
  $('lab-floor').textContent = sig4(result.floor);
  $('lab-results').hidden = false;
  $('lab-note').textContent = `Energy distance of ${body.n} samples to fresh data; the floor is the distance `
    + 'between two independent draws of real data of the same size: values near it are as good as exact sampling.';
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function plot(title, caption, points, bounds, color) {
  const figure = document.createElement('figure');
  figure.className = 'plot';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('width', 200);
  canvas.setAttribute('height', 200);
  const { ctx, width, height } = setupCanvas(canvas);
  const view = new View(bounds, width, height, 6);
  drawBackground(ctx, view);
  drawPoints(ctx, view, points, points.length >> 1, color, 0.55);
  const figcaption = document.createElement('figcaption');
  const strong = document.createElement('strong');
  strong.textContent = title;
  const small = document.createElement('span');
  small.textContent = caption;
  figcaption.append(strong, small);
  figure.append(canvas, figcaption);
  return figure;
}
