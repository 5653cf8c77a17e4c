/** What a process still runs: the promises of its jobs or deliveries, until each settles. */
export type InFlight = Set<Promise<unknown>>;

/** Keeps `p` in `active` until it settles; returns it. */
export function track<T>(active: InFlight, p: Promise<T>): Promise<T> {
  active.add(p);
  const done = () => active.delete(p);
  p.then(done, done);
  return p;
}

/** Resolves true once nothing is active, or false when `ms` pass first. New arrivals are waited for too. */
export async function waitForIdle(active: InFlight, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (active.size > 0) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...active]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, left);
      }),
    ]);
    clearTimeout(timer);
  }
  return true;
}
