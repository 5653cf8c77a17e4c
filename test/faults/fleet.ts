import type { TestContext } from '../helpers';
import { spawnWorker, type WorkerProcess } from '../worker-harness';

export interface Fleet {
  /** The worker processes alive now. */
  live(): WorkerProcess[];
  /** Every process started, dead or alive. */
  all: WorkerProcess[];
  /** Processes that died without stop() asking (kills, crashes). */
  deaths(): number;
  /** Resolves once every live process logged 'worker ready'. */
  ready(): Promise<void>;
  /** SIGKILLs one live worker (the oldest unless `pick` says otherwise); it is replaced at once. */
  kill(pick?: (live: WorkerProcess[]) => WorkerProcess): Promise<WorkerProcess>;
  /** SIGKILLs everything and stops replacing; idempotent. */
  stop(): Promise<void>;
}

/**
 * `size` worker processes kept at that size: whenever one dies, another is started
 * in its place, as a process supervisor (systemd, Kubernetes) would.
 */
export function startFleet(ctx: TestContext, size: number, env: Record<string, string>, script?: string): Fleet {
  const all: WorkerProcess[] = [];
  const alive = new Set<WorkerProcess>();
  let stopping = false;
  let died = 0;

  const spawnOne = () => {
    const w = spawnWorker(ctx, env, script);
    all.push(w);
    alive.add(w);
    void w.exited.then(() => {
      alive.delete(w);
      if (stopping) return;
      died++;
      spawnOne();
    });
  };
  for (let i = 0; i < size; i++) spawnOne();

  return {
    live: () => [...alive],
    all,
    deaths: () => died,
    async ready() {
      await Promise.all([...alive].map((w) => w.line((l) => l.msg === 'worker ready', 30000)));
    },
    async kill(pick = (l) => l[0]) {
      const victim = pick([...alive]);
      victim.kill('SIGKILL');
      await victim.exited;
      return victim;
    },
    async stop() {
      stopping = true;
      for (const w of all) w.kill('SIGKILL');
      await Promise.all(all.map((w) => w.exited));
    },
  };
}
