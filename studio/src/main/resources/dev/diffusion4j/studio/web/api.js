// HTTP helpers shared by every tab: JSON requests, job runner, and the page's error line.
//
// All URLs are relative ("api/datasets"), so the studio also works behind a path prefix.

// The test hooks hang off window.studio; make sure it exists before any tab module runs.
window.studio = window.studio || {};
export const studio = window.studio;

/** Reads the server's {"error": "..."} body, falling back to the HTTP status line. */
async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  const error = new Error(message);
  error.status = response.status;
  return error;
}

/** GET a JSON document; throws an Error carrying the server's message on 4xx/5xx. */
export async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

/** POST a JSON body and parse the JSON answer; throws an Error carrying the server's message. */
export async function postJson(url, body = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await errorFrom(response);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

/** Asks the server to stop a job (a training job saves a checkpoint first). */
export function cancelJob(id) {
  return postJson(`api/jobs/${encodeURIComponent(id)}/cancel`);
}

const EVENT_NAMES = ['progress', 'snapshot', 'checkpoint', 'preview', 'done', 'failed', 'cancelled'];

/**
 * Submits a job (POST api/jobs) and follows its event stream until it ends.
 *
 * handlers (all optional): onQueued({id, state}), onProgress(data), onSnapshot(data), onPreview(data).
 * Resolves with the job's result on 'done'; rejects with the job's error on 'failed', and with an
 * Error whose `cancelled` property is true on 'cancelled' (its `result` is the partial result, if any).
 */
export async function runJob(body, handlers = {}) {
  const job = await postJson('api/jobs', body);
  handlers.onQueued?.(job);
  return followJob(job.id, handlers);
}

function followJob(id, handlers) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(`api/jobs/${encodeURIComponent(id)}/events`);
    // The server replays the stream from the start on every connection. If the browser reconnects
    // after a network hiccup, skip the events already delivered so that no handler sees one twice.
    let delivered = 0;
    let index = 0;
    let finished = false;

    const finish = (settle, value) => {
      if (finished) return;
      finished = true;
      source.close();
      settle(value);
    };

    source.addEventListener('open', () => { index = 0; });

    const dispatch = (name, data) => {
      switch (name) {
        case 'progress': handlers.onProgress?.(data); break;
        case 'snapshot': handlers.onSnapshot?.(data); break;
        case 'checkpoint': handlers.onCheckpoint?.(data); break;
        case 'preview': handlers.onPreview?.(data); break;
        // 'done' carries {"result": ...}; accept a bare result as well.
        case 'done': finish(resolve, data && 'result' in data ? data.result : data); break;
        case 'failed': finish(reject, new Error(data?.error || 'job failed')); break;
        // 'cancelled' may carry {"result": ...}: a stopped training reports its saved checkpoint
        case 'cancelled': finish(reject, cancelledError(data?.result)); break;
      }
    };

    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (event) => {
        index += 1;
        if (index <= delivered) return; // replayed after a reconnect
        delivered = index;
        let data = {};
        try {
          data = event.data ? JSON.parse(event.data) : {};
        } catch {
          data = {};
        }
        try {
          dispatch(name, data);
        } catch (error) {
          // a bug in a handler must not leave the stream open forever
          console.warn(error);
        }
      });
    }

    source.addEventListener('error', () => {
      // EventSource reconnects by itself while readyState is CONNECTING; once CLOSED it has given up,
      // so ask the job's final state directly.
      if (finished || source.readyState !== EventSource.CLOSED) return;
      getJson(`api/jobs/${encodeURIComponent(id)}`).then((status) => {
        if (status.state === 'done') finish(resolve, status.result);
        else if (status.state === 'failed') finish(reject, new Error(status.error || 'job failed'));
        else if (status.state === 'cancelled') finish(reject, cancelledError(status.result));
        else finish(reject, new Error('lost the connection to the job\'s event stream'));
      }, (error) => finish(reject, error));
    });
  });
}

function cancelledError(result) {
  const error = new Error('cancelled');
  error.cancelled = true;
  error.result = result ?? null;
  return error;
}

// ---- the page's status line (class "error") ----

/** Shows a message in the page's error line; clicking the line dismisses it. */
export function showError(error) {
  const line = document.getElementById('status-line');
  const message = error instanceof Error ? error.message : String(error);
  if (line) {
    line.textContent = message;
    line.title = 'click to dismiss';
  }
}

export function clearError() {
  const line = document.getElementById('status-line');
  if (line) line.textContent = '';
}

// ---- small shared helpers ----

/**
 * Shows a queued job in a <progress> bar (indeterminate until the first progress event) and a status
 * line; returns the onProgress handler that keeps both current.
 */
export function trackProgress(progress, status, what = 'step') {
  progress.hidden = false;
  progress.removeAttribute('value');
  status.textContent = 'queued';
  return ({ step, total }) => {
    progress.max = total || 1;
    progress.value = step;
    status.textContent = `running: ${what} ${step} / ${total}`;
  };
}

/** Reads a number input, falling back to `fallback` when empty or not a number. */
export function numberValue(input, fallback) {
  const value = Number(input.value);
  return input.value.trim() !== '' && Number.isFinite(value) ? value : fallback;
}

/** Fills a <select> with [{value, label}] options, keeping the current value when still offered. */
export function fillSelect(select, options, preferred) {
  const previous = select.value;
  select.replaceChildren(...options.map(({ value, label }) => {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label ?? value;
    return option;
  }));
  const values = options.map((o) => o.value);
  if (values.includes(previous)) select.value = previous;
  else if (preferred !== undefined && values.includes(preferred)) select.value = preferred;
}

/** The gallery/image path from a result ("/api/gallery/x.png") as a URL relative to the page. */
export function relativeUrl(path) {
  return String(path).replace(/^\/+/, '');
}
