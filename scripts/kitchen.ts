// The producer/consumer demo: 3 cooks and 2 eaters around a counter of 10 dishes.
// Only parses the command line; the kitchen itself is runKitchen (tested in-process).
import { parseKitchenArgs, runKitchen, UsageError, USAGE } from '@async-jobs/seed';

function readArgs() {
  try {
    return parseKitchenArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`kitchen: ${err.message}\n${USAGE}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

const args = readArgs();
if (args?.help) {
  process.stdout.write(`${USAGE}\n`);
} else if (args) {
  // Ctrl-C closes the kitchen early, through the same clean path as the timer.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    await runKitchen({ seconds: args.seconds, signal: interrupt.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
