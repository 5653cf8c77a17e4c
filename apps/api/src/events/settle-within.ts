/**
 * Waits for `work` to settle, but at most `ms`: for a close() that gives its loop a moment
 * to finish yet must not hang on it. A rejection of `work` within that time still reaches
 * the caller. The timer is cleared as soon as the wait ends, so a closed process is not
 * kept alive, nor a test held open, by a timer that has nothing left to do.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
