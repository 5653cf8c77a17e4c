import { createHash, randomUUID } from 'node:crypto';
import { assertRedisReady, deleteIfEqual, HttpError, defineScript, type JobRecord, type RedisClient } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { validationFailed } from '../middleware/validate';
import { canonicalJson } from './canonical-json';
import { submittedView } from './job-build';
import { submitJob } from './submit';
import type { Submission } from './validate-submission';

/** How long a repeat waits for the first request to write its record before answering without it. */
const WAIT_FOR_FIRST_MS = 2000;

type ScriptRedis = RedisClient & { ajIdempotencyClaim(key: string, claim: string, ttlSeconds: number): Promise<string | null> };

/** Claims `key` for `claim` unless it is held (idempotency-claim.lua): null when ours, else the claim that holds it. */
function claimKey(redis: RedisClient, key: string, claim: string, ttlSeconds: number): Promise<string | null> {
  const r = redis as ScriptRedis;
  defineScript(r, 'ajIdempotencyClaim', 'idempotency-claim', 1);
  return r.ajIdempotencyClaim(key, claim, ttlSeconds);
}

export interface Submitted {
  record: JobRecord;
  /** True when this answers a repeat: the job is the first request's and nothing was enqueued. */
  replayed: boolean;
}

/**
 * The idempotency key of a request: the `Idempotency-Key` header or `options.idempotencyKey`
 * (the same thing, docs/http-api.md "Idempotent submits"); 400 when both are given and differ, or the header is out of bounds.
 */
export function idempotencyKeyOf(header: string | undefined, option: string | undefined): string | undefined {
  if (header === undefined) return option;
  if (header.length < 1 || header.length > 255) {
    throw validationFailed([{ path: 'Idempotency-Key', message: 'the Idempotency-Key header must be 1 to 255 characters' }]);
  }
  if (option !== undefined && option !== header) {
    throw validationFailed([{ path: 'options.idempotencyKey', message: 'differs from the Idempotency-Key header; send one, or the same value in both' }]);
  }
  return header;
}

/**
 * What makes two requests "the same": the type and the validated data (defaults applied,
 * keys sorted). Options are deliberately not part of it (docs/http-api.md "Idempotent submits": same key, type and data);
 * a repeat with other options is a replay of the first job, as it was submitted.
 */
export function fingerprint(s: Submission): string {
  return createHash('sha256')
    .update(`${s.type}\n${canonicalJson(s.input)}`)
    .digest('hex');
}

/**
 * Submits `s` once per idempotency key. The claim is one atomic step (idempotency-claim.lua): set
 * `<fingerprint> <id> <ms>` with the TTL unless the key is set, else return what it holds. Of
 * any number of concurrent requests exactly one finds it unset and enqueues, with the id
 * it claimed; the others read the winner's value. If the enqueue fails, the claim is
 * released so that a retry can succeed.
 *
 * A repeat whose first request has not written its record yet waits for that record (the
 * notifier's "submitted" event, up to WAIT_FOR_FIRST_MS) and then answers with it; should
 * the first request still be in flight after that, the answer is the job's id with a minimal
 * `queued` resource, `submittedAt` the time of the claim. A first request whose process died between the claim and the enqueue
 * leaves the key pointing at a job that never existed until the key expires; the window is
 * one Redis round trip.
 */
export async function submitOnce(ctx: AppContext, s: Submission, clientKey: string): Promise<Submitted> {
  const key = ctx.keys.idempotency(clientKey);
  const fp = fingerprint(s);
  assertRedisReady(ctx.redis);
  // More than one round only when a first request failed and released the key meanwhile.
  for (let round = 0; round < 3; round++) {
    const id = randomUUID();
    // The claim's time stands in for the job's submit time while the first request is in flight.
    const claim = `${fp} ${id} ${Date.now()}`;
    const held = await claimKey(ctx.redis, key, claim, ctx.config.IDEMPOTENCY_TTL_SECONDS);
    if (held === null) {
      try {
        return { record: await submitJob(ctx, s, id), replayed: false };
      } catch (err) {
        await deleteIfEqual(ctx.redis, key, claim).catch(() => undefined);
        throw err;
      }
    }
    const [heldFp, heldId, heldMs] = held.split(' ');
    if (heldFp !== fp) {
      throw new HttpError(409, 'conflict', 'this idempotency key was already used with a different request (other type or data)');
    }
    const record = await waitForRecord(ctx, heldId, s.type, WAIT_FOR_FIRST_MS);
    if (record) return { record, replayed: true };
    if (await ctx.store.wasKnown(heldId)) {
      throw new HttpError(410, 'expired', 'the job this idempotency key created is past RESULT_TTL_SECONDS');
    }
    if ((await ctx.redis.get(key)) === held) {
      return { record: submittedView(heldId, s, Number(heldMs) || Date.now()), replayed: true };
    }
  }
  throw new HttpError(409, 'conflict', 'concurrent requests with this idempotency key keep failing; retry later');
}

/** The record of `id`, waiting up to `ms` for it to be written; woken by the notifier, not by polling. */
async function waitForRecord(ctx: AppContext, id: string, type: string, ms: number): Promise<JobRecord | null> {
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  // Counted as a held request ('poll'): it is one, briefly.
  const unwatch = ctx.notifier.watch(id, 'poll', () => wake());
  const timer = setTimeout(wake, ms);
  try {
    const now = await ctx.store.read(id, type);
    if (now) return now;
    await woken;
    return await ctx.store.read(id, type);
  } finally {
    clearTimeout(timer);
    unwatch();
  }
}

/** POST /jobs: with an idempotency key (header or option) at most once per key, otherwise plainly (as job `id`, if given). */
export async function submitWithKey(ctx: AppContext, s: Submission, header: string | undefined, id?: string): Promise<Submitted> {
  const key = idempotencyKeyOf(header, s.options.idempotencyKey);
  if (key === undefined) return { record: await submitJob(ctx, s, id), replayed: false };
  return submitOnce(ctx, s, key);
}
