/**
 * A sleep that `wake()` ends at once: for a loop that waits between rounds (a lease
 * renewal, an idle follower) yet must react to news or to close() without waiting out
 * its timer, and leave no timer behind.
 */
export function wakeableSleep() {
  let wake: (() => void) | undefined;
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      }),
    wake: () => wake?.(),
  };
}
