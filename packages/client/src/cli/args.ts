import { parseArgs } from 'node:util';

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

const options = {
  url: { type: 'string' },
  token: { type: 'string' },
  wait: { type: 'boolean' },
  option: { type: 'string', short: 'o', multiple: true },
  type: { type: 'string' },
  state: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof options;

/** Each command, its positional arguments and the flags it takes besides --url, --token and --help. */
const commands = {
  submit: { args: ['TYPE', 'DATA'], flags: ['wait', 'option'] },
  get: { args: ['ID'], flags: [] },
  watch: { args: ['ID'], flags: [] },
  cancel: { args: ['ID'], flags: [] },
  retry: { args: ['ID'], flags: [] },
  list: { args: [], flags: ['type', 'state'] },
  types: { args: [], flags: [] },
} satisfies Record<string, { args: string[]; flags: Flag[] }>;

export type CommandName = keyof typeof commands;

export interface Invocation {
  command: CommandName | 'help';
  args: string[];
  url: string;
  token: string | undefined;
  wait: boolean;
  /** `--option k=v` pairs, as the submit options object they spell. */
  jobOptions: Record<string, unknown> | undefined;
  type: string | undefined;
  state: string | undefined;
}

/** node's parseArgs, its complaints turned into usage errors. */
function parseOrExplain(argv: string[]) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** --url, else ASYNC_JOBS_URL, else the local default; one that is no http(s) URL is a usage error, not a network one. */
function apiUrl(flag: string | undefined, fromEnv: string | undefined): string {
  const url = flag ?? (fromEnv || undefined) ?? 'http://127.0.0.1:3000';
  const from = flag !== undefined ? '--url' : fromEnv ? 'ASYNC_JOBS_URL' : 'the default URL';
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`${from} must be an http:// or https:// URL, got '${url}'`);
  return url;
}

/** Reads the command line; the environment supplies what --url and --token do not. */
export function readInvocation(argv: string[], env: Record<string, string | undefined>): Invocation {
  const { values, positionals } = parseOrExplain(argv);
  const [name, ...args] = positionals;
  // Help needs no server, so no URL is checked for it.
  const help = values.help === true || name === 'help';
  if (name === undefined && !help) throw new UsageError(`a command is needed: ${Object.keys(commands).join(', ')}`);
  const base = {
    url: help ? '' : apiUrl(values.url, env.ASYNC_JOBS_URL),
    token: values.token ?? (env.ASYNC_JOBS_TOKEN || undefined),
    wait: values.wait ?? false,
    jobOptions: values.option ? optionsFrom(values.option) : undefined,
    type: values.type,
    state: values.state,
  };
  if (help) return { command: 'help', args: [], ...base };
  if (!(name in commands)) throw new UsageError(`unknown command '${name}'`);
  const command = name as CommandName;
  const spec = commands[command];
  if (args.length !== spec.args.length) throw new UsageError(wrongCount(command, spec.args, args, values.wait === true));
  const allowed = new Set<string>(['url', 'token', 'help', ...spec.flags]);
  const stray = Object.keys(values).find((k) => !allowed.has(k));
  if (stray) throw new UsageError(`${command} does not take --${stray}`);
  return { command, args, ...base };
}

/** Which argument is missing, or which are too many: `submit echo '{}' --wait 5` has a '5' that --wait does not take. */
function wrongCount(command: string, wanted: readonly string[], got: readonly string[], waitGiven: boolean): string {
  const takes = `${command} takes ${wanted.length ? wanted.join(' ') : 'no arguments'}`;
  if (got.length < wanted.length) return `${takes}; ${wanted.slice(got.length).join(' ')} ${got.length + 1 < wanted.length ? 'are' : 'is'} missing`;
  const extra = got.slice(wanted.length);
  const hint = waitGiven ? ' (--wait takes no value)' : '';
  return `${takes}; ${extra.map((a) => `'${a}'`).join(' ')} ${extra.length > 1 ? 'are arguments' : 'is an argument'} too many${hint}`;
}

/**
 * `--option attempts=5 --option backoff.type=fixed` -> `{ attempts: 5, backoff: { type: 'fixed' } }`.
 * A value is read as JSON when it is JSON (numbers, true, quoted strings), else as a string.
 */
function optionsFrom(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--option takes key=value, not '${pair}'`);
    const path = pair.slice(0, eq).split('.');
    if (path.some((k) => !k || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
      throw new UsageError(`--option: '${pair.slice(0, eq)}' is not a key`);
    }
    let target = out;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (typeof next !== 'object' || next === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]] = jsonOrString(pair.slice(eq + 1));
  }
  return out;
}

function jsonOrString(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** DATA of `submit`: JSON text, or `-` to read it from standard input. */
export function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`DATA is not JSON: ${(err as Error).message}`);
  }
}

export const usage = `Usage: async-jobs <command> [arguments] [--url URL] [--token TOKEN]

Commands:
  submit TYPE DATA [--wait] [--option k=v]...
                     submit a job; DATA is JSON ('-' reads it from stdin); --wait waits for its end
                     --option sets a submit option: attempts=5, delay=1000, backoff.type=fixed,
                     idempotencyKey=order-42 (a value is JSON when it parses as JSON)
  get ID             the job
  watch ID           follow the job to its end: a progress bar on a terminal, JSON lines otherwise
  cancel ID          cancel the job
  retry ID           retry a failed job
  list [--type T] [--state S]
                     every matching job, newest first
  types              the job types and their input schemas

Options:
  --url URL          the API (default: $ASYNC_JOBS_URL, else http://127.0.0.1:3000)
  --token TOKEN      bearer token (default: $ASYNC_JOBS_TOKEN)
  -h, --help         this text

Exit status: 0 done (for submit --wait and watch: the job completed), 1 the API answered
an error or could not be reached, 2 wrong usage, 3 the job failed, 4 the job was cancelled.
`;
