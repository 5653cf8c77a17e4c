/**
 * `npm run bench`: our API and worker measured against BullMQ itself and bare Express,
 * each baseline in the same run, on a Redis of the bench's own; writes
 * bench/results/latest.json and prints the table. `--quick` is the CI smoke version: it
 * checks that every figure was produced, never a speed. See bench/lib/args.ts for flags.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseBenchArgs, USAGE, UsageError, type BenchArgs } from './lib/args';
import { ensureOpenFiles } from './lib/fd-limit';
import { runFigures } from './lib/orchestrate';
import { machineInfo, versionInfo } from './lib/machine';
import { startRedis } from './lib/redis-server';
import { formatTable, markdownTable, rows } from './lib/table';

const FIGURES = {
  submit: ['submit'],
  batchSubmit: ['batchSubmit'],
  drain: ['drainC10', 'drainC50', 'drainC10Api', 'drainC50Api', 'drainC10ApiSub', 'drainC50ApiSub'],
  e2e: ['e2eP50', 'e2eP99', 'e2eFloor', 'oneRequestP50'],
  waiters: ['waiters'],
  memory: ['memory'],
  resumes: ['resumes'],
  soak: ['soak'],
  peers: [],
} as const;
// Peers (Celery, RQ) are optional: measured when installed, skipped with a note when not.

let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.parts.has('waiters')) ensureOpenFiles(args.waiters + 2000);

const resultsDir = dirname(args.out);
const logDir = join('bench/results/logs');
const profileDir = args.profile ? join('bench/results/profiles') : undefined;
if (profileDir) rmSync(profileDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const log = (line: string) => console.log(line);
const started = Date.now();

const redis = await startRedis(logDir);
log(`bench: redis-server ${redis.version} on port ${redis.port}; ${args.quick ? 'quick smoke run' : `${args.runs} runs per figure`}`);
let exitCode = 0;
try {
  const figures = await runFigures({ args, redis, env: { redisUrl: redis.url, logDir, profileDir }, log });
  const expected = [...args.parts].flatMap((p) => FIGURES[p]);
  const missing = expected.filter((name) => {
    const f = figures[name];
    return !f || !Number.isFinite(f.value) || f.runs.length === 0;
  });
  writeFileSync(args.out, `${JSON.stringify({ machine: machineInfo(args), versions: versionInfo(redis.version), figures }, null, 2)}\n`);
  const table = rows(figures);
  log('');
  log(formatTable(table));
  log('');
  const md = `${args.out.replace(/\.json$/, '')}.md`;
  writeFileSync(md, `${markdownTable(table)}\n`);
  log(`wrote ${args.out} and ${md} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (profileDir) log(`cpu profiles in ${profileDir}; summarize with: npx tsx bench/profile-summary.ts ${profileDir}`);
  if (missing.length > 0) {
    console.error(`bench: no value for ${missing.join(', ')}`);
    exitCode = 1;
  } else if (args.quick) log(`quick: all ${expected.length} figures produced`);
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  exitCode = 1;
} finally {
  await redis.close();
}
process.exit(exitCode);
