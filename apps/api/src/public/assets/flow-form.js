// Submits a small flow: N children of one type and a `collect` parent that runs once they
// have all completed and returns their results; every job of it is followed in the list.
import { api, renderError } from './api.js';
import { exampleFor } from './examples.js';
import { follow } from './job-cards.js';

const $ = (id) => document.getElementById(id);

/** `types()` returns the job types the page has loaded (GET /types). */
export function startFlowForm(types) {
  const form = $('flow-form');
  const select = $('flow-child-type');
  const error = $('flow-error');

  const fill = () => {
    // A child of type collect would have no children of its own: offer the other types.
    const offered = types().filter((t) => t.name !== 'collect');
    const previous = select.value;
    select.replaceChildren(...offered.map((t) => Object.assign(document.createElement('option'), { value: t.name, textContent: t.name })));
    if (offered.some((t) => t.name === previous)) select.value = previous;
    else if (offered.some((t) => t.name === 'sleep')) select.value = 'sleep';
    showExample();
    select.disabled = $('flow-submit').disabled = offered.length === 0;
  };
  const showExample = () => {
    const t = types().find((x) => x.name === select.value);
    $('flow-child-data').value = t ? JSON.stringify(exampleFor(t)) : '{}';
  };
  select.addEventListener('change', showExample);
  document.addEventListener('types-loaded', fill);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    let data;
    try {
      data = JSON.parse($('flow-child-data').value || '{}');
    } catch (err) {
      renderError(error, Object.assign(new Error(`Child data is not valid JSON: ${err.message}`), { code: 'invalid_json' }));
      return;
    }
    const count = Number($('flow-children').value);
    const flow = { type: 'collect', data: {}, children: Array.from({ length: count }, () => ({ type: select.value, data })) };
    $('flow-submit').disabled = true;
    try {
      const { body } = await api('/flows', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(flow) });
      // Children first, so the parent's card ends up on top of the list.
      for (const job of [...body.jobs].reverse()) follow(job);
    } catch (err) {
      renderError(error, err);
    } finally {
      $('flow-submit').disabled = false;
    }
  });
}
