// The live job list: one card per job, updated from its event stream until it ends.
import { watchJob } from './watch.js';

const $ = (id) => document.getElementById(id);

const MAX_CARDS = 20;

/** Adds a card for `job` at the top of the list and keeps it up to date. */
export function follow(job) {
  $('no-jobs').hidden = true;
  const card = $('job-template').content.firstElementChild.cloneNode(true);
  card.dataset.id = job.id;
  card.querySelector('.job-type').textContent = job.type;
  card.querySelector('.job-id').textContent = job.id;
  const list = $('jobs');
  list.prepend(card);
  while (list.children.length > MAX_CARDS) list.lastElementChild.remove();
  const current = { ...job };
  const update = (partial) => {
    Object.assign(current, partial ?? {});
    renderJob(card, current);
  };
  update();
  watchJob(job.id, update).then(update, (err) => {
    card.querySelector('.state').textContent = 'error';
    card.querySelector('.state').className = 'state state-error';
    const out = card.querySelector('.job-output');
    out.hidden = false;
    out.className = 'job-output failed';
    out.textContent = `${err.code ?? 'error'}: ${err.message}`;
  });
}

function renderJob(card, job) {
  card.dataset.state = job.state;
  const state = card.querySelector('.state');
  state.textContent = job.state;
  state.className = `state state-${job.state}`;

  const bar = card.querySelector('progress');
  const pct = typeof job.progress === 'number' ? job.progress : null;
  bar.hidden = !(job.state === 'active' && pct !== null);
  if (pct !== null) bar.value = pct;

  const meta = [];
  if (job.attempts) meta.push(`attempt ${job.attempts.made}/${job.attempts.max}`);
  if (job.submittedAt && job.finishedAt) meta.push(`took ${Date.parse(job.finishedAt) - Date.parse(job.submittedAt)} ms`);
  if (job.lastError && job.state !== 'failed') meta.push(`last error: ${job.lastError.message}`);
  if (job.parent) meta.push(`child of ${job.parent.id ?? job.parent}`);
  if (job.schedule) meta.push(`run of schedule ${job.schedule}`);
  card.querySelector('.job-meta').textContent = meta.join(' · ');

  const out = card.querySelector('.job-output');
  if (job.state === 'completed') {
    out.hidden = false;
    out.className = 'job-output';
    out.textContent = JSON.stringify(job.result, null, 2);
  } else if (job.state === 'failed' || job.state === 'cancelled') {
    out.hidden = false;
    out.className = 'job-output failed';
    out.textContent = job.error ? `${job.error.name}: ${job.error.message}` : job.state;
  }
}
