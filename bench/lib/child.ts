import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ChildOptions {
  /** Label for logs and errors; also the log file's name. */
  name: string;
  /** Command and arguments; run through bash so that the open-files limit can be raised first. */
  argv: string[];
  env: Record<string, string | undefined>;
  logDir: string;
}

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  logFile: string;
  /** Resolves when `marker` appears in the child's output (its log file). */
  waitForOutput(marker: string, timeoutMs?: number): Promise<void>;
  /** Resolves when `check` resolves true (polled every 50 ms). */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code once it is gone. */
  stop(graceMs?: number): Promise<number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a child and waits until `ready` resolves; a child that never gets ready is stopped, not left behind. */
export async function startReady(o: ChildOptions, ready: (c: Child) => Promise<void>): Promise<Child> {
  const child = spawnChild(o);
  try {
    await ready(child);
    return child;
  } catch (err) {
    await child.stop(2000);
    throw err;
  }
}

/**
 * Starts a process whose stdout and stderr go to a log file (as a deployment would write
 * them, and cheaper for the measured process than a pipe the bench must read). Long-polls
 * need one descriptor per client, so the soft open-files limit is raised to the hard one.
 */
function spawnChild(o: ChildOptions): Child {
  mkdirSync(o.logDir, { recursive: true });
  const logFile = join(o.logDir, `${o.name}.log`);
  const fd = openSync(logFile, 'w');
  const proc = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bash', ...o.argv], {
    env: o.env as NodeJS.ProcessEnv,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-2000);
    } catch {
      return '';
    }
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (gone) throw new Error(`${o.name} exited before ${what}:\n${tail()}`);
      if (Date.now() > deadline) throw new Error(`${o.name}: no ${what} within ${timeoutMs} ms:\n${tail()}`);
      await sleep(50);
    }
  };
  return {
    name: o.name,
    // bash execs the command, so this pid is the measured process itself.
    pid: proc.pid as number,
    proc,
    logFile,
    waitFor,
    waitForOutput: (marker, timeoutMs = 30000) => waitFor(`"${marker}" in its output`, async () => readFileSync(logFile, 'utf8').includes(marker), timeoutMs),
    async stop(graceMs = 15000) {
      if (!gone) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
