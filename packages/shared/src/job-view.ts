import type { CallbackInfo } from './callbacks';
import { jobRefOfKey, type JobRef } from './flow-children';
import { isTerminal, type JobState } from './job-state';
import { isoTime } from './iso-time';
import { asyncJobsOf } from './jobs/options';

export interface ErrorInfo {
  name: string;
  message: string;
}

/** One job as clients see it (docs/http-api.md "The job resource", without links), derived from BullMQ's record of it. */
export interface JobRecord {
  id: string;
  type: string;
  state: JobState;
  progress: unknown;
  attempts: { made: number; max: number };
  submittedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  result: unknown;
  error: ErrorInfo | null;
  lastError: ErrorInfo | null;
  /** Present only for jobs submitted with a callbackUrl. */
  callback?: CallbackInfo;
  /** Present only for a run of a schedule: its name (BullMQ's job scheduler id). */
  schedule?: string;
  /** A flow's child: its parent (BullMQ's `parentKey`). */
  parent?: JobRef;
  /** A flow's parent: its children and their states, in the order the flow gave them. */
  children?: (JobRef & { state: JobState })[];
}

/** What we keep beside a BullMQ job (keyspace.ts `tombstone`): short field names, it lives for days. */
export interface Tombstone {
  /** Submitted at, ms. */
  s?: string;
  /** Delay asked for, ms. */
  d?: string;
  /** attempts.max asked for. */
  m?: string;
  /** Callback delivery, JSON of CallbackInfo. */
  cb?: string;
  /** Cancelled by request before it ran: the time, ms. */
  x?: string;
  /** Cancelled between attempts: how many had finished, when the latest began (ms, BullMQ's processedOn), and its error. */
  a?: string;
  p?: string;
  fr?: string;
  /** That error's stack trace, only its first line (`Name: message`), as BullMQ's JSON list of traces. */
  st?: string;
  /** A cancel was asked for while a worker held the job: the time, ms (cancel-request.ts in the API). */
  cr?: string;
}

/** The tombstone field that notes a cancel asked for while a worker held the job: its retries are cancelled too. */
export const CANCEL_REQUESTED_FIELD = 'cr' satisfies keyof Tombstone;

/**
 * The fields of BullMQ's job hash that a job's resource is made of, and all that read-job.lua
 * asks Redis for (test/read-job-fields.test.ts holds the two lists equal): a field read here
 * that the script does not fetch would be undefined without an error.
 */
export const JOB_HASH_FIELDS = [
  'timestamp',
  'processedOn',
  'finishedOn',
  'opts',
  'atm',
  'attemptsMade',
  'progress',
  'returnvalue',
  'failedReason',
  'stacktrace',
  'rjk',
  'parentKey',
] as const;

/** BullMQ's hash of a job, as far as it is read (JOB_HASH_FIELDS). */
export type JobHash = Partial<Record<(typeof JOB_HASH_FIELDS)[number], string>>;

/** The name of an error BullMQ stored: the first line of its newest stack trace reads `Name: message`. */
export function errorName(stacktrace: string | null | undefined): string {
  if (!stacktrace) return 'Error';
  try {
    const stacks = JSON.parse(stacktrace) as unknown;
    const last = Array.isArray(stacks) ? stacks.at(-1) : undefined;
    const m = typeof last === 'string' ? /^([A-Za-z_$][\w$]*)(?::|\n|$)/.exec(last) : null;
    return m ? m[1] : 'Error';
  } catch {
    return 'Error';
  }
}

/** BullMQ stores JSON; a worker in another language may have stored a plain string, which reads as itself. */
function jsonOrText(raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * `submittedAt` of a job another producer wrote with a timestamp no date can hold (text,
 * nanoseconds): the epoch, rather than null, which the resource's contract does not allow.
 */
const UNKNOWN_TIME = new Date(0).toISOString();

const MAX_MESSAGE = 2000;
/** An error message as a job shows it: never unbounded (the worker stores it so too). */
export const clipMessage = (s: string) => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s);

/**
 * The newest error in BullMQ's stack traces, from the first line (`Name: message`). BullMQ's
 * retry of a failed job deletes `failedReason` but keeps the traces, so a job queued again
 * by hand still shows the error it failed with.
 */
function newestStackError(stacktrace: string | undefined): ErrorInfo | null {
  try {
    const stacks = JSON.parse(stacktrace ?? '[]') as unknown;
    const last = Array.isArray(stacks) ? stacks.at(-1) : undefined;
    if (typeof last !== 'string' || last === '') return null;
    const m = /^([A-Za-z_$][\w$]*)(?:: ?(.*))?$/.exec(last.split('\n', 1)[0]);
    return m ? { name: m[1], message: clipMessage(m[2] ?? '') } : null;
  } catch {
    return null;
  }
}

export const CANCELLED_ERROR = 'CancelledError';
export const REMOVED_ERROR = 'RemovedError';
export const STALLED_ERROR = 'StalledError';

/**
 * BullMQ's reason for a job that stalled more than `maxStalledCount` times: the worker that
 * next takes it fails it unrun with an UnrecoverableError of that message (a BullMQ that
 * fails it in the stall check itself stores no stack). Neither name says what happened.
 */
const STALLED_REASON = 'job stalled more than allowable limit';

/** BullMQ's reason for a parent whose child failed, which names the child by its Redis key. */
const CHILD_FAILED = /^child (.+) failed$/;

/** The child a parent failed because of, from the reason BullMQ stored (which names it by its Redis key). */
export function failedChildOf(h: JobHash): JobRef | null {
  const childKey = h.failedReason ? CHILD_FAILED.exec(h.failedReason)?.[1] : undefined;
  return childKey ? jobRefOfKey(childKey) : null;
}

/** The error BullMQ stored, named as clients know it, a failed child by its type and id. */
function reasonOf(h: JobHash): ErrorInfo | null {
  if (!h.failedReason) return null;
  let name = errorName(h.stacktrace);
  if (h.failedReason === STALLED_REASON && (name === 'UnrecoverableError' || name === 'Error')) name = STALLED_ERROR;
  const child = failedChildOf(h);
  return { name, message: clipMessage(child ? `child ${child.type} job ${child.id} failed` : h.failedReason) };
}

/** A parent's error that names the child it failed because of, followed by that child's own message. */
export const withChildReason = (parent: ErrorInfo, child: ErrorInfo): ErrorInfo => ({
  name: parent.name,
  message: clipMessage(`${parent.message}: ${child.message}`),
});

/**
 * Whether a job in BullMQ's failed set reads `cancelled` (a running job that was cancelled
 * fails with a CancelledError), from its `failedReason` and `stacktrace` fields.
 */
export function failedByCancel(h: JobHash): boolean {
  return reasonOf(h)?.name === CANCELLED_ERROR;
}

function callbackOf(t: Tombstone): CallbackInfo | undefined {
  return t.cb ? (JSON.parse(t.cb) as CallbackInfo) : undefined;
}

/**
 * A count another writer may have stored as text, a fraction or below its floor, as the whole
 * number BullMQ acts on (`round`: ceil for a limit, 2.5 attempts allow 3; floor for a count);
 * `min` for what is no number at all. NaN would be sent as null, which the resource forbids.
 */
function wholeNumber(raw: unknown, min: number, round: (n: number) => number): number {
  const n = Number(raw ?? min);
  return Number.isFinite(n) ? Math.max(min, round(n)) : min;
}

/**
 * The resource of a job BullMQ holds. `attempts.made` counts started attempts, the
 * running one included: BullMQ's `atm` counts finished ones. A completed job whose
 * handler never reported an object reads progress 100.
 */
export function viewOfJob(id: string, type: string, bullState: JobState, h: JobHash, t: Tombstone): JobRecord {
  const opts = (jsonOrText(h.opts) ?? {}) as { attempts?: number };
  const finished = wholeNumber(h.atm ?? h.attemptsMade, 0, Math.floor);
  const reason = reasonOf(h);
  const state: JobState = bullState === 'failed' && reason?.name === CANCELLED_ERROR ? 'cancelled' : bullState;
  let progress = jsonOrText(h.progress) ?? 0;
  if (state === 'completed' && (typeof progress !== 'object' || progress === null)) progress = 100;
  const terminal = isTerminal(state);
  const record: JobRecord = {
    id,
    type,
    state,
    progress,
    attempts: { made: finished + (state === 'active' ? 1 : 0), max: wholeNumber(opts.attempts, 1, Math.ceil) },
    submittedAt: isoTime(h.timestamp) ?? UNKNOWN_TIME,
    startedAt: isoTime(h.processedOn),
    finishedAt: terminal ? isoTime(h.finishedOn) : null,
    result: state === 'completed' ? jsonOrText(h.returnvalue) : null,
    error: state === 'failed' || state === 'cancelled' ? reason : null,
    lastError: reason ?? newestStackError(h.stacktrace),
  };
  const callback = callbackOf(t);
  if (callback) record.callback = callback;
  // BullMQ's own mark of a job its job scheduler made (`repeatJobKey`).
  if (h.rjk) record.schedule = h.rjk;
  const parent = h.parentKey ? jobRefOfKey(h.parentKey) : null;
  if (parent) record.parent = parent;
  return record;
}

/**
 * The children of a flow's parent, without their states yet: those the flow listed in
 * `opts.asyncJobs.children`, in that order (a child cancelled before it ran is listed
 * there only), then any other child in BullMQ's dependency keys.
 */
export function childRefsOf(h: JobHash, childKeys: string[]): JobRef[] {
  const listed = asyncJobsOf(jsonOrText(h.opts)).children ?? [];
  const seen = new Set(listed.map((c) => `${c.type}\n${c.id}`));
  const more = childKeys.map(jobRefOfKey).filter((r): r is JobRef => r !== null && !seen.has(`${r.type}\n${r.id}`));
  return [...listed.map(({ id, type }) => ({ id, type })), ...more];
}

/**
 * The resource of a job BullMQ no longer holds, from its tombstone: cancelled by request
 * before it ran, or removed by an operator (Bull Board, BullMQ's API). Null when it can
 * only have expired: BullMQ's retention keeps a finished job RESULT_TTL_SECONDS, so a job
 * gone sooner after it could first have run was removed.
 */
export function viewOfGone(id: string, type: string, t: Tombstone, resultTtlSeconds: number, now = Date.now()): JobRecord | null {
  const submitted = Number(t.s ?? 0);
  const removed = t.x !== undefined || now < submitted + Number(t.d ?? 0) + resultTtlSeconds * 1000;
  if (!removed) return null;
  const made = Number(t.a ?? 0);
  const before = made > 0 ? 'while it waited to be retried' : 'before it ran';
  const record: JobRecord = {
    id,
    type,
    state: 'cancelled',
    progress: 0,
    attempts: { made, max: Math.max(1, Number(t.m ?? 1)) },
    submittedAt: isoTime(t.s) ?? UNKNOWN_TIME,
    startedAt: isoTime(t.p),
    finishedAt: isoTime(t.x),
    result: null,
    error:
      t.x !== undefined
        ? { name: CANCELLED_ERROR, message: `cancelled by request ${before}` }
        : { name: REMOVED_ERROR, message: 'removed from its queue by an operator' },
    lastError: made > 0 ? (reasonOf({ failedReason: t.fr ?? '', stacktrace: t.st ?? '' }) ?? newestStackError(t.st)) : null,
  };
  const callback = callbackOf(t);
  if (callback) record.callback = callback;
  return record;
}
