// Entry point: tabs, the catalogue (datasets, schedules, samplers, models) and the tab modules.

import { studio, getJson, showError, clearError } from './api.js';
import { initExplorer, setModels as explorerModels } from './explorer.js';
import { initTrain } from './train.js';
import { initLab, setModels as labModels } from './lab.js';
import { initGenerate, setModels as generateModels } from './generate.js';

const TABS = ['explorer', 'train', 'lab', 'generate'];

function selectTab(name) {
  if (!TABS.includes(name)) name = TABS[0];
  for (const tab of TABS) {
    const active = tab === name;
    const button = document.getElementById(`tab-${tab}`);
    button.classList.toggle('active', active);
    button.setAttribute('aria-selected', String(active));
    document.getElementById(`page-${tab}`).hidden = !active;
  }
  studio.tab = name;
}

function initTabs() {
  for (const tab of TABS) {
    document.getElementById(`tab-${tab}`).addEventListener('click', () => {
      selectTab(tab);
      history.replaceState(null, '', `#${tab}`);
    });
  }
  selectTab(location.hash.slice(1));
}

/** Reloads the model list into every tab (after a training run saved a new model, for example). */
async function refreshModels() {
  try {
    const models = await getJson('api/models');
    explorerModels(models);
    labModels(models);
    generateModels(models);
  } catch (error) {
    showError(error);
  }
}

async function main() {
  initTabs();
  document.getElementById('status-line').addEventListener('click', clearError);
  window.addEventListener('unhandledrejection', (event) => showError(event.reason ?? 'unexpected error'));

  let catalog;
  try {
    const [datasets, schedules, samplers, models] = await Promise.all([
      getJson('api/datasets'), getJson('api/schedules'), getJson('api/samplers'), getJson('api/models'),
    ]);
    catalog = { datasets, schedules, samplers, models };
  } catch (error) {
    showError(`could not load the catalogue: ${error.message}`);
    return;
  }
  studio.catalog = catalog;
  initExplorer(catalog);
  initTrain(catalog);
  initLab(catalog);
  initGenerate(catalog);
  document.addEventListener('studio:models-changed', refreshModels);
}

main();
