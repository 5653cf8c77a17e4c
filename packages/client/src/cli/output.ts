import { AsyncJobsError } from '../errors';

/** Where a command writes, and whether a person is reading it (a terminal) or a program. */
export interface Output {
  tty: boolean;
  out(text: string): void;
  err(text: string): void;
}

export function processOutput(): Output {
  return {
    tty: Boolean(process.stdout.isTTY),
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
  };
}

/** A value as JSON: indented for a person, on one line for a program (one value per line). */
export function printJson(o: Output, value: unknown): void {
  o.out(`${JSON.stringify(value, null, o.tty ? 2 : undefined)}\n`);
}

/** The server's own message (and what it found wrong), never a stack trace. */
export function describeError(err: unknown): string {
  if (!(err instanceof AsyncJobsError)) return `async-jobs: ${(err as Error)?.message ?? String(err)}\n`;
  const where = err.status ? ` (${err.status} ${err.code})` : ` (${err.code})`;
  const details = (err.details ?? []).map((d) => {
    const at = [d.index !== undefined ? `#${d.index}` : '', d.path ?? ''].filter(Boolean).join(' ');
    const known = Array.isArray(d.knownTypes) ? ` (known: ${d.knownTypes.join(', ')})` : '';
    return `  ${at ? `${at}: ` : ''}${d.message ?? JSON.stringify(d)}${known}\n`;
  });
  return `async-jobs: ${err.message}${where}\n${details.join('')}`;
}
