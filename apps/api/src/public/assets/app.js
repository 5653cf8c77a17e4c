// The index page: the article's two queue links, a form that submits a job and follows it to its end,
// a flow form, and what an operator looks at (types with pause/resume, schedules, workers).
import { api, renderError, token } from './api.js';
import { exampleFor } from './examples.js';
import { follow } from './job-cards.js';
import { startFlowForm } from './flow-form.js';
import { startOperatorPanels } from './operator-panels.js';

const $ = (id) => document.getElementById(id);
const form = $('job-form');
const typeSelect = $('type');
const formError = $('form-error');
let types = [];

// --- token -----------------------------------------------------------------
$('token').value = token.get();
$('token').addEventListener('change', (e) => {
  token.set(e.target.value.trim());
  loadTypes();
  panels.refresh();
});

// --- the two Redis queues ----------------------------------------------------
// A click is a fetch that asks for JSON, so the page stays: the job list and its live
// streams go on, and the line below says what was sent. Without JavaScript the links
// still work as in the article (GET, 303 back here).
const seedStatus = $('seed-status');
const sentText = {
  prodcons: (r) => `LPUSH ${r.list} ${r.pushed}: exactly one worker takes it (BLPOP); ${r.length} on the list right after.`,
  pubsub: (r) =>
    `PUBLISH ${r.channel} ${r.published}: every subscribed worker gets it; ${r.receivers} ${r.receivers === 1 ? 'subscriber' : 'subscribers'} received it` +
    (r.receivers === 0 ? ', so it is gone.' : '.'),
};

function showSeed(ok, text) {
  seedStatus.className = `status ${ok ? 'ok' : 'bad'}`;
  seedStatus.textContent = text;
}

for (const link of document.querySelectorAll('.seed-link')) {
  const kind = link.getAttribute('href').slice(1);
  link.addEventListener('click', async (e) => {
    // A click meant for a new tab or window is the browser's to follow.
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    try {
      const { body } = await api(link.getAttribute('href'), { method: 'POST', headers: { Accept: 'application/json' } });
      showSeed(true, sentText[kind](body));
    } catch (err) {
      showSeed(false, `${err.code}: ${err.message}`);
    }
  });
}

// --- job types ---------------------------------------------------------------
async function loadTypes() {
  formError.hidden = true;
  try {
    const { body } = await api('/types');
    types = body.types;
  } catch (err) {
    types = [];
    renderError(formError, err);
  }
  const previous = typeSelect.value;
  typeSelect.replaceChildren(...types.map((t) => Object.assign(document.createElement('option'), { value: t.name, textContent: t.name })));
  if (types.some((t) => t.name === previous)) typeSelect.value = previous;
  typeSelect.disabled = $('submit').disabled = types.length === 0;
  showType();
  document.dispatchEvent(new CustomEvent('types-loaded'));
}

function showType() {
  const t = types.find((x) => x.name === typeSelect.value);
  $('type-description').textContent = t?.description ?? '';
  $('data').value = t ? JSON.stringify(exampleFor(t), null, 2) : '';
}
typeSelect.addEventListener('change', showType);

// --- submit ------------------------------------------------------------------
function parseJson(field, label) {
  const text = $(field).value.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw Object.assign(new Error(`${label} is not valid JSON: ${err.message}`), { code: 'invalid_json' });
  }
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  formError.hidden = true;
  let body;
  try {
    body = { type: typeSelect.value, data: parseJson('data', 'Data') ?? {} };
    const options = parseJson('options', 'Options');
    if (options !== undefined) body.options = options;
  } catch (err) {
    renderError(formError, err);
    return;
  }
  $('submit').disabled = true;
  try {
    const { body: job } = await api('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    follow(job);
  } catch (err) {
    renderError(formError, err);
  } finally {
    $('submit').disabled = types.length === 0;
  }
});

loadTypes();
startFlowForm(() => types);
const panels = startOperatorPanels();
