import { CANCELLED_ERROR, clipMessage } from '@async-jobs/shared';
import { UnrecoverableError } from 'bullmq';

/*
 * Why a job attempt failed. The class name is what clients see as `error.name`,
 * so names are stable. Subclasses of BullMQ's UnrecoverableError are never
 * retried: retrying cannot fix them.
 */

/** The attempt ran past its `timeout` option; retryable, the next attempt may be faster. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/** The job's input does not match its type's schema (it bypassed the API's validation). */
export class InvalidInputError extends UnrecoverableError {
  override name = 'InvalidInputError';
}

/** The handler's result cannot be stored: not JSON, or too large. */
export class InvalidResultError extends UnrecoverableError {
  override name = 'InvalidResultError';
}

/** The job was cancelled while it ran (a cancel on the control channel, or one asked for just before it started). */
export class CancelledError extends UnrecoverableError {
  override name = CANCELLED_ERROR;
}

/**
 * This worker could not renew the job's lock: another worker may already run it (stall
 * recovery), so this attempt stops. BullMQ refuses what it would record for the job.
 */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

/** A handler threw something that is not an Error; kept retryable like any other failure. */
export class HandlerError extends Error {
  override name = 'HandlerError';
}

/** The `{ name, message }` stored in a record: never a stack, never unbounded. */
export function errorInfo(err: Error): { name: string; message: string } {
  return { name: err.name || 'Error', message: clipMessage(err.message) };
}

/** Whatever was thrown, as an Error (BullMQ reads `.message` and `.name`). */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let shown: string;
  try {
    shown = typeof thrown === 'string' ? JSON.stringify(thrown) : String(thrown);
  } catch {
    shown = Object.prototype.toString.call(thrown);
  }
  return new HandlerError(`handler threw a non-Error value: ${shown.slice(0, 200)}`);
}
