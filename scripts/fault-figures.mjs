#!/usr/bin/env node
// Prints the table of the fault and abuse tests (test/faults/) from the figures they
// wrote to test-artifacts/faults/*.json: Markdown, ready for the README's "Reliability".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../test-artifacts/faults/', import.meta.url).pathname;
/** Rows in this order when present; any other file follows. */
const ORDER = ['worker-kill', 'worker-shutdown', 'redis-restart', 'redis-late', 'api-restart', 'handler-faults', 'abuse-fuzz'];

const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
if (files.length === 0) {
  console.log('no fault figures yet: run `npm run test:faults` (or `npm test`) first');
  process.exit(0);
}
const rank = (f) => ORDER.indexOf(f.replace(/\.json$/, '')) + 1 || ORDER.length + 1;
const rows = files.sort((a, b) => rank(a) - rank(b)).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

const dash = (v) => (v === undefined ? '–' : String(v));
const lines = [
  '| Fault | Injected | Jobs accepted | Jobs completed | Jobs lost | Bad inputs tried | Answered 4xx |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.fault} | ${r.injected} | ${r.accepted} | ${r.completed} | **${r.lost}** | ${dash(r.badInputs)} | ${dash(r.answered4xx)} |`),
];
const total = rows.reduce((t, r) => ({ accepted: t.accepted + r.accepted, lost: t.lost + r.lost }), { accepted: 0, lost: 0 });
console.log(lines.join('\n'));
console.log('');
for (const r of rows) if (r.notes) console.log(`- ${r.fault}: ${r.notes}`);
const newest = rows
  .map((r) => r.at)
  .sort()
  .at(-1);
console.log(`\n${total.accepted} jobs accepted under faults, ${total.lost} lost (measured ${newest}).`);
process.exitCode = total.lost === 0 ? 0 : 1;
