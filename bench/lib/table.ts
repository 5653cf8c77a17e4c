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
  ratioRow('submit', 'submit (POST /jobs)', 0.7);
  if (figures.submit) {
    const qa = median(field(figures.submit, 'queueAddOnly'));
    const qr = round(median(field(figures.submit, 'queueAddOnlyRatio')), 3);
    out.push({ figure: '  queue.add-only handler', value: num(qa, 'req/s'), baseline: num(figures.submit.baseline, 'req/s'), ratio: String(qr), target: '(reference)', met: '—' });
  }
  ratioRow('batchSubmit', 'batch submit (100/request)');
  ratioRow('drainC10', 'drain, concurrency 10', 0.85);
  ratioRow('drainC50', 'drain, concurrency 50', 0.85);
  const p50 = figures.e2eP50;
  if (p50) {
    const r = round(ratioOf(p50), 3);
    out.push({ figure: 'e2e latency p50', value: num(p50.value, 'ms'), baseline: num(p50.baseline, 'ms'), ratio: String(r), target: 'ratio ≤ 2.5 and < 2.2 ms', met: yes(r <= 2.5 && p50.value < 2.2) });
    const p95 = median(p50.runs.map((x) => (x.ours as { p95: number }).p95));
    const b95 = median(p50.runs.map((x) => (x.raw as { p95: number }).p95));
    out.push({ figure: 'e2e latency p95', value: num(p95, 'ms'), baseline: num(b95, 'ms'), ratio: String(round(p95 / b95, 3)), target: '—', met: '—' });
  }
  ratioRow('e2eP99', 'e2e latency p99');
  const w = figures.waiters;
  if (w) {
    const n = median(field(w, 'waiters'));
    const conns = Math.max(...field(w, 'redisConnections'));
    const lag = Math.max(...field(w, 'maxLagMs'));
    const rss = Math.max(...field(w, 'apiRssPeakMB'));
    out.push({ figure: `waiters: ${n} long-polls, last answer after last completion`, value: num(w.value, 'ms'), baseline: '—', ratio: '—', target: '—', met: '—' });
    out.push({ figure: '  worst answer lag after its job completed', value: num(lag, 'ms'), baseline: '—', ratio: '—', target: '≤ 1000 ms', met: yes(lag <= 1000) });
    out.push({ figure: '  Redis connections held by the API', value: String(conns), baseline: '—', ratio: '—', target: '≤ 4', met: yes(conns <= 4) });
    out.push({ figure: '  Redis connections at 0 / 1,000 long-polls', value: `${Math.max(...field(w, 'redisConnectionsAt0'))} / ${Math.max(...field(w, 'redisConnectionsAt1000'))}`, baseline: '—', ratio: '—', target: '—', met: '—' });
    out.push({ figure: '  API RSS (peak)', value: num(rss, 'MB'), baseline: '—', ratio: '—', target: '≤ 250 MB', met: yes(rss <= 250) });
  }
  const m = figures.memory;
  if (m) {
    out.push({ figure: 'memory: terminal echo job in Redis', value: num(m.value, 'bytes'), baseline: '—', ratio: '—', target: '≤ 1024 bytes', met: yes(m.value <= 1024) });
    const parts = ['recordBytes', 'eventLogBytes', 'tombstoneBytes'].map((k) => median(field(m, k)));
    out.push({ figure: '  record + event log + tombstone', value: parts.join(' + '), baseline: '—', ratio: '—', target: '—', met: '—' });
    const rest = median(field(m, 'atRestBytes'));
    const ttl = median(field(m, 'eventLogTtlS'));
    out.push({ figure: `  once the event log expires (${ttl} s)`, value: num(rest, 'bytes'), baseline: '—', ratio: '—', target: '≤ 1024 bytes', met: yes(rest <= 1024) });
    const rssRow = (label: string, k: string) => {
      const xs = field(m, k).filter((x) => Number.isFinite(x) && x > 0);
      if (xs.length) out.push({ figure: `  ${label}`, value: num(round(median(xs), 1), 'MB'), baseline: '—', ratio: '—', target: '—', met: '—' });
    };
    rssRow('API RSS idle', 'apiRssIdleMB');
    rssRow('API RSS under submit (peak)', 'apiRssSubmitPeakMB');
    rssRow('worker RSS idle (c10)', 'workerRssIdleMB');
    rssRow('worker RSS under drain (c10, peak)', 'workerRssDrainPeakMB');
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
