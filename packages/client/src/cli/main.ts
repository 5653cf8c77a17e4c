// The `async-jobs` command: the typed client on the command line. `async-jobs --help`.
import { text } from 'node:stream/consumers';
import { createClient } from '../client';
import { type Invocation, readInvocation, usage, UsageError } from './args';
import { runCommand } from './commands';
import { exitCodes } from './exit-codes';
import { describeError, processOutput } from './output';

const usageError = (err: UsageError) => `async-jobs: ${err.message}\nRun 'async-jobs --help' for usage.\n`;

/** `work`, or its rejection with the signal's reason once `signal` aborts (a read of stdin ignores it). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    work.then(resolve, reject);
  });
}

async function main(argv: string[]): Promise<number> {
  const o = processOutput();
  let inv: Invocation;
  try {
    inv = readInvocation(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    o.err(usageError(err));
    return exitCodes.usage;
  }
  if (inv.command === 'help') {
    o.out(usage);
    return exitCodes.ok;
  }
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort();
    // A read of DATA from stdin (`submit TYPE -`) ends with it, rather than when stdin closes.
    process.stdin.destroy();
  });
  try {
    const client = createClient({ baseUrl: inv.url, token: inv.token });
    return await runCommand(inv, { client, o, signal: interrupt.signal, readStdin: () => untilAborted(text(process.stdin), interrupt.signal) });
  } catch (err) {
    // Ctrl-C: leave the line a progress bar may have been drawing on, and exit as shells expect.
    if (interrupt.signal.aborted) {
      if (o.tty) o.out('\n');
      return 130;
    }
    o.err(err instanceof UsageError ? usageError(err) : describeError(err));
    return err instanceof UsageError ? exitCodes.usage : exitCodes.apiError;
  }
}

// A reader that stopped early (`async-jobs list | head`) closed the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') process.stderr.write(describeError(err));
  process.exit(err.code === 'EPIPE' ? exitCodes.ok : exitCodes.apiError);
});

// exitCode rather than exit(): stdout is flushed before the process ends, even into a pipe.
process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(describeError(err));
  return exitCodes.apiError;
});
