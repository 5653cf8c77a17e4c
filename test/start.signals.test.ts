import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from './faults/redis-server';
import { createTestContext, waitFor } from './helpers';
import { commandLine, descendants, running } from './process-tree';

const ctx = createTestContext();
const root = new URL('..', import.meta.url).pathname;
/** Every pid a test started or saw below it, SIGKILLed after the test if still there. */
const started: number[] = [];

afterEach(() => {
  // Descendants too: a test that fails before it stops them would leave an API and a worker running.
  const all = started.splice(0).flatMap((pid) => [pid, ...descendants(pid)]);
  for (const pid of all) {
    if (running(pid)) process.kill(pid, 'SIGKILL');
  }
});

afterAll(async () => {
  await ctx.cleanup();
});

interface NpmRun {
  npm: ChildProcess;
  /** Every stdout line so far, JSON log lines and plain ones. */
  lines: string[];
  stderr(): string;
  line(match: (l: string) => boolean): Promise<string>;
  exited: Promise<unknown>;
}

/** `npm <args>` as a person types it, on its own PORT and key namespace. */
function npmRun(args: string[], port: number, opts: { ownGroup?: boolean } = {}): NpmRun {
  const npm = spawn('npm', args, {
    cwd: root,
    env: ctx.env({ PORT: String(port), LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '2000' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, as a terminal gives the command it runs: Ctrl-C goes to all of it.
    detached: opts.ownGroup === true,
  });
  started.push(npm.pid!);
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: npm.stdout! }).on('line', (l) => lines.push(l));
  npm.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => npm.once('exit', (code) => resolve(code)));
  return {
    npm,
    lines,
    stderr: () => stderr,
    exited,
    line: (match) =>
      waitFor(() => lines.find(match), 60000).catch((err: Error) => {
        throw new Error(`${err.message}; npm ${args.join(' ')} stdout: ${lines.slice(-30).join('\n')}; stderr: ${stderr}`);
      }),
  };
}

function portCloses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

const json = (l: string) => {
  try {
    return JSON.parse(l) as Record<string, unknown>;
  } catch {
    return null;
  }
};

/**
 * Signals only the npm process, as a process manager or `kill <pid>` does, then waits for
 * every process below it (seen while it ran) to be gone and the port to be closed.
 */
async function stopsEverything(p: NpmRun, signal: NodeJS.Signals, port: number, atLeast: number): Promise<void> {
  const below = descendants(p.npm.pid!);
  started.push(...below);
  expect(below.length).toBeGreaterThanOrEqual(atLeast);
  process.kill(p.npm.pid!, signal);
  await p.exited;
  await waitFor(() => below.every((pid) => !running(pid)), 20000, 50).catch(() => {
    throw new Error(`still running after ${signal} to npm: ${below.filter(running).join(', ')}`);
  });
  expect(await portCloses(port)).toBe(true);
}

const upLine = (l: string) => l.startsWith('async-jobs is up');

/** `npm start` up and running: its launcher's pid and the pids of the API and the worker below it. */
async function startedLauncher(port: number): Promise<{ p: NpmRun; launcher: number; children: number[] }> {
  const p = npmRun(['start'], port);
  await p.line(upLine);
  const below = descendants(p.npm.pid!);
  started.push(...below);
  const launcher = below.find((pid) => commandLine(pid).includes('scripts/start.mjs'))!;
  return { p, launcher, children: descendants(launcher) };
}

describe('npm start', () => {
  it('ends its start-up with one plain line saying where everything is, and SIGTERM to npm alone stops all it started', async () => {
    const port = await freePort();
    const p = npmRun(['start'], port);
    const line = await p.line(upLine);
    const url = `http://127.0.0.1:${port}`;
    for (const where of [`${url},`, `${url}/,`, `${url}/admin/queues,`, `${url}/docs.`]) expect(line).toContain(` ${where}`);
    for (const path of ['/', '/admin/queues', '/docs', '/healthz']) {
      expect((await fetch(url + path)).status, path).toBe(200);
    }
    // It comes once both processes said they were ready (over IPC: their own log lines share the
    // terminal with it, so on a busy machine one may be written just after it), and it is the
    // only line that is not JSON.
    for (const msg of ['api listening', 'worker ready']) await p.line((l) => json(l)?.msg === msg);
    expect(p.lines.filter((l) => !l.startsWith('{') && !l.startsWith('> ') && l.trim() !== '')).toEqual([line]);

    // The launcher, the API and the worker.
    await stopsEverything(p, 'SIGTERM', port, 3);
  }, 60000);

  it('stops all it started on SIGINT to npm alone', async () => {
    const port = await freePort();
    const p = npmRun(['start'], port);
    await p.line(upLine);
    await stopsEverything(p, 'SIGINT', port, 3);
  }, 60000);

  it('has the API and the worker stop by themselves when its launcher is killed outright', async () => {
    const port = await freePort();
    const { p, launcher, children: others } = await startedLauncher(port);
    // In either order: pids are handed out in turn, but wrap around.
    expect(others.map(commandLine)).toEqual(
      expect.arrayContaining([expect.stringContaining('apps/api/dist/main.js'), expect.stringContaining('apps/worker/dist/main.js')]),
    );
    expect(others).toHaveLength(2);
    process.kill(launcher, 'SIGKILL');
    await waitFor(() => others.every((pid) => !running(pid)), 20000, 50);
    expect(await portCloses(port)).toBe(true);
    await p.exited;
  }, 60000);
});

describe('npm start, when the API cannot start', () => {
  it('exits 1 saying why, before a worker has started to take jobs', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const p = npmRun(['start'], port);
      // Every process seen below npm while it runs: a worker started at all would be among them.
      const seen = new Set<string>();
      const look = setInterval(() => {
        for (const pid of descendants(p.npm.pid!)) seen.add(commandLine(pid));
      }, 10);
      const code = await p.exited;
      clearInterval(look);
      expect(code).toBe(1);
      expect(p.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect([...seen].some((c) => c.includes('apps/api/dist/main.js'))).toBe(true);
      // It was never started, so it took no job to hand back, and logged nothing.
      expect([...seen].filter((c) => c.includes('apps/worker/dist/main.js'))).toEqual([]);
      expect(p.lines.filter((l) => json(l)?.name === 'worker')).toEqual([]);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 60000);
});

describe('npm start, when one of its processes is killed outright', () => {
  it.each([
    ['worker', 'apps/worker/dist/main.js', 'the API'],
    ['API', 'apps/api/dist/main.js', 'the worker'],
  ] as const)(
    'says that the %s was killed, stops the other and exits 128 + the signal',
    async (which, bundle, other) => {
      const port = await freePort();
      const { p, children } = await startedLauncher(port);
      // By its command line, not its place: pids wrap around, so the one started first may have the lower one or not.
      const killed = children.find((pid) => commandLine(pid).includes(bundle))!;
      process.kill(killed, 'SIGKILL');
      expect(await p.exited).toBe(137);
      expect(p.stderr()).toContain(`the ${which} (pid ${killed}) was killed by SIGKILL; stopping ${other}`);
      expect(children.some(running)).toBe(false);
      expect(await portCloses(port)).toBe(true);
    },
    60000,
  );
});

describe('npm run start:api and start:worker', () => {
  it('stop the API on SIGTERM to npm alone', async () => {
    const port = await freePort();
    const p = npmRun(['run', 'start:api'], port);
    await p.line((l) => json(l)?.msg === 'api listening');
    await stopsEverything(p, 'SIGTERM', port, 1);
  }, 60000);

  it('shut the worker down gently, exit 0, on one Ctrl-C to the terminal (npm passes the SIGINT on too)', async () => {
    const port = await freePort();
    const p = npmRun(['run', 'start:worker'], port, { ownGroup: true });
    await p.line((l) => json(l)?.msg === 'worker ready');
    // What a terminal's Ctrl-C does: SIGINT to every process of the foreground group.
    process.kill(-p.npm.pid!, 'SIGINT');
    expect(await p.exited).toBe(0);
    expect(p.lines.some((l) => /interrupted again/.test(l))).toBe(false);
    await p.line((l) => json(l)?.msg === 'worker stopped');
  }, 60000);

  it('stop the worker on SIGTERM to npm alone', async () => {
    const port = await freePort();
    const p = npmRun(['run', 'start:worker'], port);
    await p.line((l) => json(l)?.msg === 'worker ready');
    await stopsEverything(p, 'SIGTERM', port, 1);
  }, 60000);
});
