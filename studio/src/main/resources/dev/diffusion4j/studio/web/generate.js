// Image generation: a "generate" job with live previews of the x₀ estimate, and the gallery.

import {
  studio, getJson, runJob, cancelJob, showError, numberValue, fillSelect, relativeUrl,
} from './api.js';

const $ = (id) => document.getElementById(id);

// Test hook (kept stable for the browser tests). `previews` counts since page load.
const hook = { state: 'idle', previews: 0, result: null };
studio.generate = hook;

let imageModels = [];
let jobId = null;
let cancelling = false; // Cancel was pressed for the current job

export function initGenerate({ samplers, models }) {
  fillSelect($('gen-sampler'), samplers.map((s) => ({ value: s.name })), 'dpmpp_2m_sde');
  setModels(models);
  $('gen-model').addEventListener('change', updateConditioning);
  $('gen-class').addEventListener('change', updateConditioning);
  $('gen-prompt').addEventListener('input', updateConditioning);
  $('gen-run').addEventListener('click', run);
  $('gen-cancel').addEventListener('click', cancel);
  setState('idle');
  refreshGallery();
}

export function setModels(models) {
  imageModels = models.filter((m) => m.kind === 'image');
  fillSelect($('gen-model'), imageModels.map((m) => ({
    value: m.name, label: `${m.name} (step ${m.step ?? '?'})`,
  })));
  $('gen-hint').hidden = imageModels.length > 0;
  updateConditioning();
}

function selectedModel() {
  return imageModels.find((m) => m.name === $('gen-model').value);
}

/** Shows the class, prompt and guidance fields only for models that take them. */
function updateConditioning() {
  const model = selectedModel();
  const classes = model?.classes ?? [];
  const text = Boolean(model?.text);
  $('gen-class-field').hidden = classes.length === 0;
  const select = $('gen-class');
  const current = [...select.options].map((o) => o.value);
  const wanted = ['', ...classes];
  if (current.join('\n') !== wanted.join('\n')) {
    fillSelect(select, [{ value: '', label: 'unconditional' }, ...classes.map((c) => ({ value: c }))], '');
  }
  $('gen-prompt-field').hidden = !text;
  $('gen-negative-field').hidden = !text;
  $('gen-guidance-field').hidden = classes.length === 0 && !text;
  updateButtons();
}

function setState(word, details = '') {
  hook.state = word;
  const status = $('gen-status');
  status.dataset.state = word;
  status.textContent = details ? `${word} · ${details}` : word;
  updateButtons();
}

function updateButtons() {
  const live = hook.state === 'queued' || hook.state === 'running';
  $('gen-run').disabled = live || !selectedModel();
  $('gen-cancel').disabled = !live || !jobId || cancelling;
}

/** The request body, with only the fields that apply to the chosen model. */
function requestBody() {
  const model = selectedModel();
  const body = {
    kind: 'generate',
    model: model.name,
    sampler: $('gen-sampler').value,
    steps: Math.round(numberValue($('gen-steps'), 20)),
    num: Math.round(numberValue($('gen-num'), 16)),
    seed: Math.round(numberValue($('gen-seed'), 0)),
  };
  let conditioned = false;
  if (model.classes?.length && $('gen-class').value !== '') {
    body.class = $('gen-class').value;
    conditioned = true;
  }
  if (model.text) {
    const prompt = $('gen-prompt').value.trim();
    const negative = $('gen-negative').value.trim();
    if (prompt) {
      body.prompt = prompt;
      conditioned = true;
      if (negative) body.negative = negative; // a negative prompt only applies next to a prompt
    }
  }
  // guidance steers towards a class or a prompt; the server refuses it for unconditional sampling
  if (conditioned) body.guidance = numberValue($('gen-guidance'), 3);
  if ($('gen-bf16').checked) body.precision = 'bf16';
  return body;
}

async function run() {
  if (!selectedModel()) return;
  const body = requestBody();
  const progress = $('gen-progress');
  progress.value = 0;
  jobId = null;
  cancelling = false;
  setState('queued', `${body.num} images, ${body.sampler}, ${body.steps} steps`);
  try {
    const result = await runJob(body, {
      onQueued: (job) => { jobId = job.id; updateButtons(); },
      onProgress: ({ step, total }) => {
        progress.max = total || 1;
        progress.value = step;
        setState('running', `step ${step} / ${total}`);
      },
      onPreview: ({ step, total, image }) => {
        showPreview(image, `x₀ estimate at step ${step} / ${total}`);
        hook.previews += 1;
        if (hook.state !== 'running') setState('running', `step ${step} / ${total}`);
      },
    });
    hook.result = result;
    progress.value = progress.max;
    if (result?.image) showPreview(relativeUrl(result.image), 'final samples');
    setState('done', result?.image ? String(result.image).split('/').pop() : '');
    refreshGallery();
  } catch (error) {
    if (error.cancelled) {
      setState('cancelled');
    } else {
      setState('failed', error.message);
      showError(error);
    }
  }
}

async function cancel() {
  if (!jobId) return;
  cancelling = true;
  updateButtons();
  try {
    await cancelJob(jobId);
  } catch (error) {
    showError(error);
    cancelling = false;
    updateButtons();
  }
}

function showPreview(src, caption) {
  const img = $('gen-preview');
  img.src = src;
  img.hidden = false;
  $('gen-preview-caption').textContent = caption;
}

// ---------------------------------------------------------------- gallery

async function refreshGallery() {
  let entries;
  try {
    entries = await getJson('api/gallery');
  } catch (error) {
    showError(error);
    return;
  }
  const gallery = $('gen-gallery');
  if (!entries.length) {
    const empty = document.createElement('p');
    empty.className = 'muted';
    empty.textContent = 'No images yet.';
    gallery.replaceChildren(empty);
    return;
  }
  gallery.replaceChildren(...entries.map(galleryItem));
}

function galleryItem({ file, parameters = {}, created }) {
  const url = `api/gallery/${encodeURIComponent(file)}`;
  const tooltip = Object.entries(parameters)
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`)
    .concat(created ? [`created: ${formatCreated(created)}`] : [])
    .join('\n');

  const figure = document.createElement('figure');
  figure.className = 'gallery-item';
  figure.title = tooltip;
  const img = document.createElement('img');
  img.src = url;
  img.alt = caption(parameters) || file;
  img.loading = 'lazy';
  const figcaption = document.createElement('figcaption');
  const text = document.createElement('span');
  text.textContent = caption(parameters);
  const link = document.createElement('a');
  link.href = url;
  link.download = file;
  link.textContent = '⤓ PNG';
  link.title = `download ${file}`;
  figcaption.append(text, link);
  figure.append(img, figcaption);
  return figure;
}

/** "dpmpp_2m · 20 steps · seed 0 · “a dark sneaker”" */
function caption(p) {
  const parts = [];
  if (p.sampler) parts.push(p.sampler);
  if (p.steps !== undefined) parts.push(`${p.steps} steps`);
  if (p.seed !== undefined) parts.push(`seed ${p.seed}`);
  if (p.prompt) parts.push(`“${p.prompt}”`);
  else if (p.class !== undefined && p.class !== null && p.class !== '') parts.push(`class ${p.class}`);
  return parts.join(' · ');
}

/** `created` is epoch milliseconds (or already a date string). */
function formatCreated(created) {
  const date = new Date(typeof created === 'number' ? created : String(created));
  return Number.isNaN(date.getTime()) ? String(created) : date.toLocaleString();
}
