import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleClient } from '../scripts/bundle.mjs';
import { watch } from '../packages/client/src/cli/watch';
import { createClient } from '../packages/client/src/index';
import { closedPort } from './closed-port';
import { useSystem } from './system-harness';

const TOKEN = 'cli-test-token';
const sys = useSystem({ API_TOKENS: TOKEN });
const BIN = fileURLToPath(new URL('../packages/client/bin/async-jobs.js', import.meta.url));

// The CLI under test is the built one (what `npx async-jobs` runs), built here from the current sources.
beforeAll(() => bundleClient());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON lines. */
  lines: any[];
}

/** Runs the CLI as a child process against the in-process API (asynchronously: the API runs in this process). */
function cli(args: string[], options: { env?: Record<string, string>; input?: string; onFirstLine?: () => void } = {}): Promise<Run> {
  const env = { ...process.env, ASYNC_JOBS_URL: sys.api.url, ASYNC_JOBS_TOKEN: TOKEN, ...options.env };
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    const before = stdout;
    stdout += d;
    if (!before.includes('\n') && stdout.includes('\n')) options.onFirstLine?.();
  });
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      resolve({ code, stdout, stderr, lines });
    });
  });
}

const client = () => createClient({ baseUrl: sys.api.url, token: TOKEN });

describe('async-jobs CLI', () => {
  it('submit --wait prints the completed job as one JSON line and exits 0', async () => {
    const run = await cli(['submit', 'sleep', '{"ms":200}', '--wait']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatchObject({ type: 'sleep', state: 'completed', result: { sleptMs: 200 } });
  });

  it('exits 3 when the job it waited for failed, with submit options from --option', async () => {
    const run = await cli(['submit', 'sleep', '{"ms":60000}', '--wait', '--option', 'timeout=50', '-o', 'attempts=1']);
    expect(run.code).toBe(3);
    expect(run.lines[0]).toMatchObject({ state: 'failed', error: { name: 'TimeoutError' }, attempts: { max: 1 } });
  });

  it('submits without waiting (exit 0), reads DATA from stdin, and cancels; watch then exits 4', async () => {
    const submitted = await cli(['submit', 'sleep', '-', '--option', 'delay=60000'], { input: '{"ms":1}' });
    expect(submitted.code).toBe(0);
    const { id, state } = submitted.lines[0];
    expect(state).toBe('delayed');

    const cancelled = await cli(['cancel', id]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.lines[0]).toMatchObject({ id, state: 'cancelled' });

    const watched = await cli(['watch', id]);
    expect(watched.code).toBe(4);
    expect(watched.lines.at(-1)).toMatchObject({ event: 'cancelled', data: { id, state: 'cancelled' } });
  });

  it('watch prints each event as a JSON line to the end and exits 0', async () => {
    // Delayed until the watch has printed the job's state, so that it sees the job run.
    const { job } = await client().submit('sleep', { ms: 600 }, { delay: 60000 });
    const promote = async () => (await sys.api.context.queues.get(sys.ctx.keys.queueOf('sleep', job.id))!.getJob(job.id))!.promote();
    let promoted: Promise<void> | undefined;
    const run = await cli(['watch', job.id], { onFirstLine: () => (promoted = promote()) });
    await promoted;
    expect(run.code).toBe(0);
    const names = run.lines.map((l) => l.event);
    expect(names[0]).toBe('state');
    expect(names).toContain('progress');
    expect(names.at(-1)).toBe('completed');
    expect(run.lines.at(-1)).toMatchObject({ id: expect.any(String), data: { id: job.id, result: { sleptMs: 600 } } });
  });

  it('get, retry, list and types print JSON', async () => {
    const { job } = await client().submit('sleep', { ms: 60000 }, { timeout: 50, attempts: 1 });
    await client().result(job.id);
    const got = await cli(['get', job.id]);
    expect(got.lines).toEqual([expect.objectContaining({ id: job.id, state: 'failed' })]);

    const retried = await cli(['retry', job.id]);
    expect(retried.code).toBe(0);
    expect(retried.lines[0]).toMatchObject({ id: job.id, state: 'queued' });

    const listed = await cli(['list', '--type', 'sleep', '--state', 'completed']);
    expect(listed.code).toBe(0);
    expect(listed.lines.length).toBeGreaterThan(0);
    expect(listed.lines.every((j) => j.type === 'sleep' && j.state === 'completed')).toBe(true);

    const types = await cli(['types']);
    expect(types.lines.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'sleep', 'hash', 'http.request']));
  });

  it("prints the server's message, never a stack trace, and exits 1 on an error answer", async () => {
    const missing = await cli(['get', 'no-such-job']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^async-jobs: .+ \(404 not_found\)\n$/);

    const invalid = await cli(['submit', 'sleep', '{"ms":"soon"}']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('(400 validation_failed)');
    expect(invalid.stderr).toMatch(/^ {2}data\.ms: /m);
    for (const run of [missing, invalid]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('takes the token from --token or ASYNC_JOBS_TOKEN, and says unauthorized without one', async () => {
    const without = await cli(['types'], { env: { ASYNC_JOBS_TOKEN: '' } });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('(401 unauthorized)');
    const flag = await cli(['types', '--token', TOKEN], { env: { ASYNC_JOBS_TOKEN: '' } });
    expect(flag.code).toBe(0);
  });

  it('says when nothing answers at --url, and exits 1', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await cli(['get', 'x', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`async-jobs: cannot reach ${url}: ECONNREFUSED (network_error)\n`);
  });

  it('stops quietly, exit 0, when the reader of its output closes the pipe early', async () => {
    const env = { ...process.env, ASYNC_JOBS_URL: sys.api.url, ASYNC_JOBS_TOKEN: TOKEN };
    const child = spawn(process.execPath, [BIN, 'types'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // As `async-jobs types | true` does: the reading end is gone before anything is written.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('exits 2 on wrong usage, naming the mistake', async () => {
    const runs = await Promise.all([
      cli(['submit', 'sleep']),
      cli(['frob']),
      cli(['get', 'x', '--wait']),
      cli(['submit', 'echo', '{oops']),
      cli(['submit', 'echo', '{}', '--wait', '5']),
      cli(['types', 'echo']),
      cli([]),
      cli(['types', '--url', 'localhost:3000']),
      cli(['types'], { env: { ASYNC_JOBS_URL: '127.0.0.1:3000' } }),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
    }
    expect(runs.map((r) => r.stderr.split('\n')[0])).toEqual([
      'async-jobs: submit takes TYPE DATA; DATA is missing',
      "async-jobs: unknown command 'frob'",
      'async-jobs: get does not take --wait',
      expect.stringMatching(/^async-jobs: DATA is not JSON: /),
      "async-jobs: submit takes TYPE DATA; '5' is an argument too many (--wait takes no value)",
      "async-jobs: types takes no arguments; 'echo' is an argument too many",
      'async-jobs: a command is needed: submit, get, watch, cancel, retry, list, types',
      // Without a scheme: a usage mistake, not a server that cannot be reached.
      "async-jobs: --url must be an http:// or https:// URL, got 'localhost:3000'",
      "async-jobs: ASYNC_JOBS_URL must be an http:// or https:// URL, got '127.0.0.1:3000'",
    ]);
  });

  it('prints its usage on --help and help, exit 0, whatever the URL it would use', async () => {
    for (const args of [['--help'], ['help'], ['submit', '--help']]) {
      // Not cli(): its output is not JSON lines.
      const run = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ASYNC_JOBS_URL: 'not a url' }, encoding: 'utf8' });
      expect(run.status, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toMatch(/^Usage: async-jobs <command>/);
    }
  });

  it('notes an idempotent replay on stderr and prints the first job', async () => {
    const args = ['submit', 'echo', '{"n":1}', '--option', 'idempotencyKey=cli-key-1'];
    const first = await cli(args);
    const again = await cli(args);
    expect(again.code).toBe(0);
    expect(again.lines[0].id).toBe(first.lines[0].id);
    expect(first.stderr).toBe('');
    expect(again.stderr).toContain('idempotent replay');
  });

  it('draws a progress bar in place on a terminal, then prints the final job', async () => {
    const { job } = await client().submit('sleep', { ms: 600 }, { delay: 60000 });
    let out = '';
    let promoted: Promise<void> | undefined;
    const terminal = {
      tty: true,
      out: (text: string) => {
        out += text;
        promoted ??= sys.api.context.queues
          .get(sys.ctx.keys.queueOf('sleep', job.id))!
          .getJob(job.id)
          .then((j) => j!.promote());
      },
      err: (text: string) => expect.fail(text),
    };
    const code = await watch(client(), job.id, terminal, new AbortController().signal);
    await promoted;
    expect(code).toBe(0);
    const frames = out.split('\r\x1b[2K').filter(Boolean);
    expect(frames[0]).toMatch(/^\[\.{30}\] {3}0% {2}delayed$/);
    expect(frames.some((f) => /^\[#+\.+\] +\d+% {2}active$/.test(f))).toBe(true);
    const [bar, ...json] = frames.at(-1)!.split('\n');
    expect(bar).toBe(`[${'#'.repeat(30)}] 100%  completed`);
    expect(JSON.parse(json.join('\n'))).toMatchObject({ id: job.id, state: 'completed', result: { sleptMs: 600 } });
  });
});
