import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Soft and hard open-files limits of this process (Linux), or null when unknown. */
function openFilesLimit(): { soft: number; hard: number } | null {
  try {
    const m = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}

/**
 * The waiter figure holds one socket per long-poll in this process. Node cannot raise
 * its own limit, so when the soft limit is too low this runs the bench again under a
 * shell that raised it to the hard limit, and exits with its code. Returns otherwise.
 */
export function ensureOpenFiles(needed: number): void {
  const limit = openFilesLimit();
  if (!limit || limit.soft >= needed || process.env.BENCH_FD_RAISED === '1') {
    if (limit && limit.soft < needed) console.warn(`open-files limit ${limit.soft} is below ${needed}; lower --waiters or raise it (ulimit -n)`);
    return;
  }
  const argv = [...process.execArgv, ...process.argv.slice(1)];
  const r = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bash', process.execPath, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_FD_RAISED: '1' },
  });
  process.exit(r.status ?? 1);
}
