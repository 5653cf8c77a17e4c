import { spawn } from 'node:child_process';
import { parseKitchenArgs, runKitchen, UsageError } from '@async-jobs/seed';
import { describe, expect, it } from 'vitest';

const COOK = /^cook (P[1-3]) made ([0-9]) --- (\d+) waiting to be eaten$/;
const EATER = /^eater (C[12]) ate ([0-9]) --- (\d+) left$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From the first line printed to the exit, so npx and tsx start-up time does not count. */
  openMs: number;
}

/** Runs the demo as a user would; kills it (and fails the test) if it does not exit by itself. */
function runDemo(args: string[], killAfterMs = 20000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'scripts/kitchen.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let firstOutput: number | undefined;
    const seen = () => (firstOutput ??= performance.now());
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      seen();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      seen();
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal) return reject(new Error(`demo did not exit by itself (killed with ${signal}); stdout:\n${stdout}`));
      resolve({ code, stdout, stderr, openMs: performance.now() - (firstOutput ?? performance.now()) });
    });
  });
}

/** Checks every line against the two documented formats and returns what the log says. */
function readLog(lines: string[]) {
  const made: number[] = [];
  const eaten: number[] = [];
  const counts: number[] = [];
  for (const line of lines) {
    const cook = COOK.exec(line);
    const eater = EATER.exec(line);
    expect(cook ?? eater, `unexpected line: ${line}`).not.toBeNull();
    if (cook) made.push(Number(cook[2]));
    if (eater) eaten.push(Number(eater[2]));
    counts.push(Number((cook ?? eater)![3]));
    // Eaters can only eat dishes already announced, in the order they were made.
    expect(eaten).toEqual(made.slice(0, eaten.length));
  }
  return { made, eaten, counts };
}

describe('npm run demo:kitchen', () => {
  it('prints cook and eater lines for about a second, never more than 10 waiting, then exits 0', async () => {
    const run = await runDemo(['--seconds', '1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const { made, eaten, counts } = readLog(lines);
    expect(made.length).toBeGreaterThan(0);
    expect(eaten.length).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(10);
    // It ran its second: a loaded machine can make it end later, never sooner.
    expect(run.openMs).toBeGreaterThan(800);
  });

  it('exits 2 with a message when --seconds is not a positive number', async () => {
    // One process for the exit path; the other bad values go through the same parser (its tests below).
    const run = await runDemo(['--seconds', 'abc']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^kitchen: .*--seconds/);
    expect(run.stderr).toContain("got 'abc'");
    expect(run.stderr).toMatch(/usage: npm run demo:kitchen -- \[--seconds N\]/);
  });
});

describe('runKitchen', () => {
  it('fills the counter to capacity when cooks outpace eaters, and accounts for every dish', async () => {
    const lines: string[] = [];
    // No pauses: three cooks against two eaters gain one dish per round until the counter is full.
    const report = await runKitchen({ seconds: 0.3, write: (l) => lines.push(l), random: () => 0 });
    const { made, eaten, counts } = readLog(lines);
    expect(Math.max(...counts)).toBe(10);
    expect(report).toEqual({ made: made.length, eaten: eaten.length, left: made.length - eaten.length });
    expect(report.left).toBeLessThanOrEqual(10);
  });

  it('closes on time even while eaters wait on an empty counter or cooks on a full one', async () => {
    const quiet = { write: () => {}, random: () => 0 };
    await expect(runKitchen({ ...quiet, seconds: 0.1, producers: 0 })).resolves.toEqual({ made: 0, eaten: 0, left: 0 });
    await expect(runKitchen({ ...quiet, seconds: 0.1, consumers: 0, capacity: 1 })).resolves.toEqual({ made: 1, eaten: 0, left: 1 });
  });

  it('makes dishes 0 to 9 only, whatever the random source returns below 1', async () => {
    const lines: string[] = [];
    await runKitchen({ seconds: 0.1, write: (l) => lines.push(l), random: () => 0.99999 });
    expect(readLog(lines).made).toEqual([9, 9, 9]);
  });

  it('closes early when its signal aborts, leaving no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const stop = new AbortController();
    const lines: string[] = [];
    const report = await runKitchen({
      seconds: 600,
      random: () => 0.5,
      signal: stop.signal,
      write: (l) => {
        lines.push(l);
        if (l.startsWith('eater')) stop.abort();
      },
    });
    expect(report.eaten).toBe(1);
    expect(lines.at(-1)).toMatch(EATER);
    // The 600 s closing timer and every 0.5 s pause are gone, so nothing would keep a process alive.
    expect(timers()).toBe(before);
  });

  it('rejects a duration that setTimeout cannot honour', async () => {
    await expect(runKitchen({ seconds: 0 })).rejects.toThrow(RangeError);
    await expect(runKitchen({ seconds: 3_000_000 })).rejects.toThrow(RangeError);
  });
});

describe('parseKitchenArgs', () => {
  it('reads --seconds N and --seconds=N, defaulting to 5', () => {
    expect(parseKitchenArgs([]).seconds).toBe(5);
    expect(parseKitchenArgs(['--seconds', '3']).seconds).toBe(3);
    expect(parseKitchenArgs(['--seconds=2.5']).seconds).toBe(2.5);
  });

  it('refuses values that are not plain positive numbers, and unknown arguments', () => {
    for (const argv of [['--seconds', ''], ['--seconds', '0x10'], ['--seconds', '1e3'], ['--seconds=-1'], ['--secs', '3'], ['5']]) {
      expect(() => parseKitchenArgs(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});
