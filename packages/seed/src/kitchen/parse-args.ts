import { parseArgs } from 'node:util';
import { MAX_SECONDS } from './run-kitchen';

export const USAGE = 'usage: npm run demo:kitchen -- [--seconds N]   (N seconds, 0 < N <= 2147483, default 5)';

/** A command line the demo cannot run with; the CLI prints it with USAGE and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface KitchenArgs {
  seconds: number;
  help: boolean;
}

/** Reads `--seconds N` / `--seconds=N` (default 5) and `--help` from argv (without node and script). */
export function parseKitchenArgs(argv: string[]): KitchenArgs {
  let values: { seconds?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { seconds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { seconds: values.seconds === undefined ? 5 : parseSeconds(values.seconds), help: values.help ?? false };
}

function parseSeconds(text: string): number {
  // Number('') and Number(' ') are 0, and Number('0x10') is 16: accept plain decimals only.
  const n = /^\s*\d*\.?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(n > 0 && n <= MAX_SECONDS)) {
    throw new UsageError(`--seconds must be a number of seconds > 0 and <= ${MAX_SECONDS}, got '${text}'`);
  }
  return n;
}
