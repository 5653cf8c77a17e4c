import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Resident set size of a process in MB, from /proc (Linux); NaN when unreadable. */
export function rssMB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples RSS every `everyMs` until stopped; returns the peak seen. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssMB(pid);
  const timer = setInterval(() => {
    const now = rssMB(pid);
    if (now > peak) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMB(pid));
    },
  };
}

/** Inodes of the sockets a process has open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/**
 * Local ports of the process's established TCP connections to 127.0.0.1:`remotePort`,
 * read from /proc (no help from the process itself, so nothing it names can hide one).
 */
export function connectionPorts(pid: number, remotePort: number): number[] {
  const inodes = socketInodes(pid);
  const ports: number[] = [];
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue; // 01 = ESTABLISHED
      const remote = parseInt(f[2].split(':').pop() as string, 16);
      if (remote !== remotePort || !inodes.has(f[9])) continue;
      ports.push(parseInt(f[1].split(':').pop() as string, 16));
    }
  }
  return ports;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN when unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) of stat(5), counted from after the command name; in clock ticks (100/s on Linux).
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU microseconds per job each of `pids` spends from now until `perJob(jobs)`: unlike a
 * rate, hardly moved by other load on a shared machine, and it says whose work a gap is.
 */
export function cpuPerJob(pids: Record<string, number>): { perJob(jobs: number): Record<string, number> } {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return {
    perJob: (jobs) => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, Math.round(((cpuSeconds(pid) - before[k]) * 1e6) / jobs)])),
  };
}

/** CPU use of processes over a stretch of time, as a percentage of one core each. */
export function cpuMeter(pids: Record<string, number>): { stop(): Record<string, number> } {
  const start = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return {
    stop() {
      const secs = (performance.now() - start) / 1000;
      return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, Math.round((100 * (cpuSeconds(pid) - before[k])) / secs)]));
    },
  };
}
