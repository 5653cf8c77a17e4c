import type { Figure } from './bench';
import { median, round } from './stats';

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const num = (x: number | null | undefined, unit = '') => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${x}${unit ? ` ${unit}` : ''}`);
const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
/** The ratio of a figure: the median of its per-run ratios (each run measures both back to back). */
const ratioOf = (f: Figure) => median(f.runs.map((r) => Number(r.ratio)).filter((x) => Number.isFinite(x)));
const field = (f: Figure, k: string) => f.runs.map((r) => Number(r[k]));

/** Rows of the table: each figure with its baseline and ratio, and the issue's target where it has one. */
export function rows(figures: Record<string, Figure>): Row[] {
  const out: Row[] = [];
  const ratioRow = (name: string, label: string, min?: number, max?: number) => {
    const f = figures[name];
    if (!f) return;
    const r = round(ratioOf(f), 3);
    const target = min !== undefined ? `ratio ≥ ${min}` : max !== undefined ? `ratio ≤ ${max}` : '—';
    const met = min !== undefined ? yes(r >= min) : max !== undefined ? yes(r <= max) : '—';
    out.push({ figure: label, value: num(f.value, f.unit), baseline: num(f.baseline, f.unit), ratio: String(r), target, met });
  };
  /** A baseline server measured beside ours in each run (its value and ratio are fields of the runs), against the figure's own baseline. */
  const reference = (name: string, label: string, valueKey: string, ratioKey: string, unit: string) => {
    const f = figures[name];
    const values = f ? field(f, valueKey).filter(Number.isFinite) : [];
    if (!f || values.length === 0) return;
    const r = round(median(field(f, ratioKey)), 3);
    out.push({ figure: label, value: num(round(median(values), 3), unit), baseline: num(f.baseline, unit), ratio: String(r), target: '(reference)', met: '—' });
  };
  ratioRow('submit', 'submit (POST /jobs)', 0.8);
  reference('submit', '  queue.add-only handler', 'queueAddOnly', 'queueAddOnlyRatio', 'req/s');
  ratioRow('batchSubmit', 'batch submit (100/request)', 0.7);
  reference('batchSubmit', '  addBulk-only Express handler', 'addBulkOnlyExpress', 'addBulkOnlyExpressRatio', 'jobs/s');
  for (const c of [10, 50]) {
    ratioRow(`drainC${c}`, `drain, concurrency ${c}, worker alone`, 0.85);
    ratioRow(`drainC${c}Api`, `  with one API, nobody subscribed`, 0.8);
    ratioRow(`drainC${c}ApiSub`, `  with one API and a jobs:events subscriber`);
  }
  const p50 = figures.e2eP50;
  if (p50) {
    ratioRow('e2eP50', 'e2e latency p50 (POST, then long-poll)');
    const p95 = median(p50.runs.map((x) => (x.ours as { p95: number }).p95));
    const b95 = median(p50.runs.map((x) => (x.raw as { p95: number }).p95));
    out.push({ figure: 'e2e latency p95', value: num(p95, 'ms'), baseline: num(b95, 'ms'), ratio: String(round(p95 / b95, 3)), target: '—', met: '—' });
  }
  ratioRow('e2eP99', 'e2e latency p99');
  const floor = figures.e2eFloor;
  if (floor) {
    ratioRow('e2eFloor', 'e2e floor: raw + 2 trivial round trips');
    const r = round(median(field(floor, 'e2eP50ToFloor')), 3);
    const ours = p50 ? num(p50.value, 'ms') : '—';
    out.push({
      figure: '  e2e p50 against the floor',
      value: ours,
      baseline: num(floor.value, 'ms'),
      ratio: String(r),
      target: 'ratio ≤ 1.15',
      met: yes(r <= 1.15),
    });
  }
  ratioRow('oneRequestP50', 'one request: POST /jobs?wait=5 p50 (base: raw + 1 round trip)', undefined, 1.15);
  reference('oneRequestP50', '  add + waitUntilFinished Express handler', 'addWaitExpressP50', 'addWaitExpressRatio', 'ms');
  // Peers (optional): value / baseline, where the baseline is ours in the same run.
  const peer = (name: string, label: string, target = '—', ok?: (r: number) => boolean) => {
    const f = figures[name];
    if (!f || f.baseline === null) return;
    const r = round(f.value / f.baseline, 3);
    out.push({ figure: label, value: num(f.value, f.unit), baseline: num(f.baseline, f.unit), ratio: String(r), target, met: ok ? yes(ok(r)) : '—' });
  };
  peer('celeryP50', 'Celery delay().get() p50 (base: ours, one request)', 'ratio > 1', (r) => r > 1);
  peer('celeryDrain', 'Celery drain, 10 processes (base: ours c10 alone)');
  peer('rqP50', 'RQ enqueue + wait p50 (base: ours, one request)');
  peer('rqDrain', 'RQ drain (base: ours c10 alone)');
  const w = figures.waiters;
  if (w) {
    const n = median(field(w, 'waiters'));
    const conns = Math.max(...field(w, 'redisConnections'));
    const lag = Math.max(...field(w, 'maxLagMs'));
    const rss = Math.max(...field(w, 'apiRssPeakMB'));
    out.push({
      figure: `waiters: ${n} long-polls, last answer after last completion`,
      value: num(w.value, 'ms'),
      baseline: '—',
      ratio: '—',
      target: '—',
      met: '—',
    });
    out.push({
      figure: '  worst answer lag after its job completed',
      value: num(lag, 'ms'),
      baseline: '—',
      ratio: '—',
      target: '≤ 1000 ms',
      met: yes(lag <= 1000),
    });
    out.push({ figure: '  Redis connections held by the API', value: String(conns), baseline: '—', ratio: '—', target: '≤ 4', met: yes(conns <= 4) });
    out.push({
      figure: '  Redis connections at 0 / 1,000 long-polls',
      value: `${Math.max(...field(w, 'redisConnectionsAt0'))} / ${Math.max(...field(w, 'redisConnectionsAt1000'))}`,
      baseline: '—',
      ratio: '—',
      target: '—',
      met: '—',
    });
    out.push({ figure: '  API RSS (peak)', value: num(rss, 'MB'), baseline: '—', ratio: '—', target: '≤ 250 MB', met: yes(rss <= 250) });
  }
  const m = figures.memory;
  if (m) {
    out.push({
      figure: 'memory: terminal echo job in Redis',
      value: num(m.value, 'bytes'),
      baseline: '—',
      ratio: '—',
      target: '≤ 1024 bytes',
      met: yes(m.value <= 1024),
    });
    const parts = ['jobHashBytes', 'completedEntryBytes', 'tombstoneBytes', 'typeIndexEntryBytes'].map((k) => median(field(m, k)));
    out.push({
      figure: '  BullMQ hash + completed entry + tombstone + index entry',
      value: parts.join(' + '),
      baseline: '—',
      ratio: '—',
      target: '—',
      met: '—',
    });
    const rssRow = (label: string, k: string) => {
      const xs = field(m, k).filter((x) => Number.isFinite(x) && x > 0);
      if (xs.length) out.push({ figure: `  ${label}`, value: num(round(median(xs), 1), 'MB'), baseline: '—', ratio: '—', target: '—', met: '—' });
    };
    rssRow('API RSS idle', 'apiRssIdleMB');
    rssRow('API RSS under submit (peak)', 'apiRssSubmitPeakMB');
    rssRow('worker RSS idle (c10)', 'workerRssIdleMB');
    rssRow('worker RSS under drain (c10, peak)', 'workerRssDrainPeakMB');
  }
  const resumes = figures.resumes;
  if (resumes) {
    const run = resumes.runs[0] as { resumes: number; streamEntries: number };
    out.push({
      figure: `resumes: ${run.resumes} event streams at once from the oldest of ${run.streamEntries} entries, API CPU each`,
      value: num(resumes.value, 'ms'),
      baseline: '—',
      ratio: '—',
      target: '—',
      met: '—',
    });
    out.push({
      figure: "  time to the last stream's end",
      value: num(median(field(resumes, 'lastAnswerMs')), 'ms'),
      baseline: '—',
      ratio: '—',
      target: '—',
      met: '—',
    });
  }
  const soak = figures.soak;
  if (soak) {
    const run = soak.runs[0] as { rounds: number; requests: number; apiHeapMB: number[]; workerHeapMB: number[]; workerGrowthMB: number };
    // A leak of 100 bytes per request would grow the heap by over 1 MB in a third of the default 900 rounds.
    const growthRow = (label: string, mb: number) =>
      out.push({ figure: label, value: num(mb, 'MB'), baseline: '—', ratio: '—', target: '≤ 1 MB', met: yes(mb <= 1) });
    growthRow(`soak: ${run.requests} requests, API heap after GC, growth over the last third`, soak.value);
    growthRow('  worker heap after GC, growth over the last third', run.workerGrowthMB);
    out.push({
      figure: '  heap after GC at each third, API / worker',
      value: `${run.apiHeapMB.join(', ')} / ${run.workerHeapMB.join(', ')} MB`,
      baseline: '—',
      ratio: '—',
      target: '—',
      met: '—',
    });
  }
  return out;
}

export function formatTable(rs: Row[]): string {
  const head: Row = { figure: 'figure', value: 'value', baseline: 'baseline', ratio: 'ratio', target: 'target', met: 'met?' };
  const cols = Object.keys(head) as (keyof Row)[];
  const all = [head, ...rs];
  const widths = cols.map((c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: Row) => cols.map((c, i) => (i === 0 ? r[c].padEnd(widths[i]) : r[c].padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rs.map(line)].join('\n');
}

/** The same rows as a Markdown table, for the README. */
export function markdownTable(rs: Row[]): string {
  const lines = ['| figure | value | baseline | ratio | target | met? |', '|---|---:|---:|---:|---|---|'];
  for (const r of rs) lines.push(`| ${r.figure.trim()} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met} |`);
  return lines.join('\n');
}
