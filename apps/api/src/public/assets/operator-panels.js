// What an operator looks at: each type's counts with pause/resume, the schedules and the
// live workers. Read from the API every few seconds while the tab is visible.
import { api } from './api.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
const COUNTS = ['waiting', 'active', 'delayed', 'completed', 'failed'];

/** An element with properties and children. */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function limitsText(limits = {}) {
  const parts = [];
  if (limits.rate) parts.push(`${limits.rate.max} per ${limits.rate.durationMs} ms`);
  if (limits.concurrency) parts.push(`${limits.concurrency} at once`);
  return parts.join(', ') || '—';
}

function renderTypes(types, refresh) {
  const rows = types.map((t) => {
    const button = el('button', { type: 'button', className: 'small', textContent: t.paused ? 'Resume' : 'Pause' });
    button.dataset.type = t.name;
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api(`/types/${encodeURIComponent(t.name)}/${t.paused ? 'resume' : 'pause'}`, { method: 'POST' });
      } catch (err) {
        showStatus('ops-status', `${err.code}: ${err.message}`);
      }
      refresh();
    });
    const counts = t.counts ?? {};
    const row = el(
      'tr',
      {},
      el('th', { scope: 'row', textContent: t.name }),
      el('td', { className: `paused-${Boolean(t.paused)}`, textContent: t.paused ? 'paused' : 'running' }),
      // Counts are summed over a sharded type's queues (QUEUE_SHARDS); Bull Board lists each.
      el('td', { className: 'num shards', textContent: String(t.shards ?? 1) }),
      ...COUNTS.map((c) => el('td', { className: `num count-${c}`, textContent: String(counts[c] ?? '—') })),
      el('td', { textContent: limitsText(t.limits) }),
      el('td', {}, button),
    );
    row.dataset.type = t.name;
    return row;
  });
  $('types-rows').replaceChildren(...rows);
}

function renderSchedules(schedules) {
  $('no-schedules').hidden = schedules.length > 0;
  $('schedules-rows').replaceChildren(
    ...schedules.map((s) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', textContent: s.name }),
        el('td', { textContent: s.type }),
        el('td', { textContent: s.cron ? `${s.cron} (${s.tz ?? 'UTC'})` : `every ${s.every} ms` }),
        el('td', { textContent: s.nextRunAt ? new Date(s.nextRunAt).toLocaleTimeString() : '—' }),
        el('td', { className: 'num', textContent: String(s.recentJobs?.length ?? 0) }),
      ),
    ),
  );
}

function renderWorkers(workers) {
  $('no-workers').hidden = workers.length > 0;
  $('workers-rows').replaceChildren(
    ...workers.map((w) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', textContent: `${w.host}:${w.pid}` }),
        el('td', { textContent: (w.types ?? []).join(', ') }),
        el('td', { className: 'num', textContent: `${w.running ?? 0} / ${w.concurrency ?? '?'}` }),
        el('td', { textContent: w.lastSeenAt ? new Date(w.lastSeenAt).toLocaleTimeString() : '—' }),
      ),
    ),
  );
}

function showStatus(id, text) {
  const s = $(id);
  s.className = text ? 'status bad' : 'status';
  s.textContent = text;
}

/** Starts the refresh loop; `refresh()` reads everything again now (after a token change, say). */
export function startOperatorPanels() {
  let timer;
  const refresh = async () => {
    clearTimeout(timer);
    // Each panel on its own: a server without one of these routes still shows the others.
    const reads = [
      ['/types', (b) => renderTypes(b.types, refresh)],
      ['/schedules', (b) => renderSchedules(b.schedules)],
      // Unread (no token, Redis away), the page cannot say that no worker runs: only that it could not ask.
      ['/workers', (b) => renderWorkers(b.workers), () => ($('no-workers').hidden = true)],
    ];
    const failures = [];
    await Promise.all(
      reads.map(async ([path, render, unread]) => {
        try {
          render((await api(path)).body);
        } catch (err) {
          unread?.();
          failures.push(`${path}: ${err.message}`);
        }
      }),
    );
    showStatus('ops-status', failures.join(' · '));
    if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
  };
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  refresh();
  return { refresh };
}
