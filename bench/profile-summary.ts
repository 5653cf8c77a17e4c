/**
 * `npx tsx bench/profile-summary.ts DIR_OR_FILE... [--top N]`: the top self-time functions
 * of .cpuprofile files (node --cpu-prof), and self time by package, one block per file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return 'node core';
  if (!url) return '(native/gc/idle)';
  const m = /\/(apps\/[^/]+|packages\/[^/]+)\//.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

export function summarize(file: string, top: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  let total = 0;
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id) as Node;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const short = url.replace(/^.*\/(node_modules\/|apps\/|packages\/)/, '$1');
    const key = `${functionName || '(anonymous)'}  ${short ? `${short}:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    pkg.set(where(url), (pkg.get(where(url)) ?? 0) + us);
  }
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: Node) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const short = url.replace(/^.*\/(node_modules\/|apps\/|packages\/)/, '$1');
    return `${functionName || '(anonymous)'}  ${short ? `${short}:${lineNumber + 1}` : ''}`;
  };
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    if ((byId.get(id) as Node).callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur) as Node;
      if (
        !/apps\/|packages\/|pino|ioredis\/built\/(Pipeline|Redis|Command|DataHandler)|bullmq\/dist\/esm\/classes\/(queue|job|worker)\.js|zod|express\/lib|router\/index/.test(
          n.callFrame.url,
        )
      )
        continue;
      const k = label(n);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`== ${basename(file)}: ${(total / 1e6).toFixed(2)} s busy (idle excluded)`];
  lines.push('-- by package');
  for (const [k, us] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`${pct(us)}  ${k}`);
  lines.push(`-- top ${top} functions by self time`);
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${k}`);
  lines.push(`-- top ${top} of our code and key libraries by inclusive time`);
  for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${k}`);
  return lines.join('\n');
}

const argv = process.argv.slice(2);
const topAt = argv.indexOf('--top');
const top = topAt >= 0 ? Number(argv.splice(topAt, 2)[1]) : 25;
const files = argv.flatMap((a) =>
  statSync(a).isDirectory()
    ? readdirSync(a)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(a, f))
    : [a],
);
if (files.length === 0) {
  console.error('usage: npx tsx bench/profile-summary.ts DIR_OR_FILE... [--top N]');
  process.exit(2);
}
for (const f of files) console.log(`${summarize(f, top)}\n`);
