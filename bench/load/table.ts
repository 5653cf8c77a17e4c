import type { RouteStats } from './hit-route';

/** Plain columns, right-aligned numbers: readable in a terminal and easy to grep in a test. */
export function formatTable(rows: RouteStats[]): string {
  const head = ['route', 'requests', 'req/s', 'p50 ms', 'p99 ms', '2xx/3xx', 'non-2xx/3xx', 'errors'];
  const body = rows.map((r) => [
    r.label,
    String(r.requests),
    r.reqPerSec.toFixed(1),
    String(r.p50),
    String(r.p99),
    String(r.ok),
    String(Object.values(r.failed).reduce((a, b) => a + b, 0)),
    String(r.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
