import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Config } from './config';
import { createHostAllowlist } from './host-allowlist';

/** The BullMQ queue that delivers completion callbacks, one job per delivery. */
export const CALLBACK_QUEUE = 'callbacks';

export interface CallbackInfo {
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
}

/** What a delivery job carries; the body is read from the record when it is sent. */
export interface CallbackPayload {
  id: string;
  /** The job's type (its queue), where its tombstone keeps the delivery state. */
  type: string;
  url: string;
}

/**
 * One delivery per terminal outcome (`outcome` is the id of its event in BullMQ's stream):
 * a job retried and ending again is delivered again, and a relay that repeats an event
 * after a crash adds nothing.
 */
export const callbackJobId = (id: string, outcome: string) => `cb-${id}-${outcome}`;

/** `Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as Stripe does it. */
export function signCallback(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * For receivers: true when `header` signs `body` with `secret` and its timestamp is
 * within `toleranceSeconds` of now (which stops replays of old deliveries). An empty
 * secret verifies nothing (anyone can sign with it), and `v1` must be hex and nothing
 * else: `Buffer.from(hex)` stops at the first character that is not, and would take a
 * signature with anything after it.
 */
export function verifyCallbackSignature(secret: string, header: string, body: string, toleranceSeconds = 300, now = Date.now()): boolean {
  const parts = new Map(header.split(',').map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!secret || !Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  if (!/^[0-9a-f]{64}$/i.test(v1)) return false;
  const expected = Buffer.from(signCallback(secret, body, t).split('v1=')[1], 'hex');
  return timingSafeEqual(Buffer.from(v1, 'hex'), expected);
}

/** Why `url` may not be called back under this configuration, or null when it may. */
export function callbackRefusal(config: Config, url: string): string | null {
  if (!config.CALLBACK_SECRET) return 'callbacks are not enabled on this server (CALLBACK_SECRET is not set)';
  if (!createHostAllowlist(config.CALLBACK_ALLOWED_HOSTS).allows(new URL(url))) {
    return `host ${new URL(url).host} is not in CALLBACK_ALLOWED_HOSTS`;
  }
  return null;
}

/**
 * Queues the delivery of job `id`'s final resource to `url`; a second enqueue of the same
 * outcome is a no-op while the delivery job is kept (RESULT_TTL_SECONDS after it ends, by
 * the retention our workers apply to every queue they serve).
 */
export async function enqueueCallback(queue: Queue, config: Config, job: { id: string; type: string }, url: string, outcome: string): Promise<void> {
  const { id } = job;
  const payload: CallbackPayload = { id, type: job.type, url };
  await queue.add('deliver', payload, {
    jobId: callbackJobId(id, outcome),
    attempts: config.CALLBACK_MAX_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.CALLBACK_BACKOFF_MS },
  });
}
