import { randomUUID } from 'node:crypto';
import { HttpError, isTerminal, notFound, resultQuerySchema, toJobResource, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { submitWithKey } from '../jobs/idempotency';
import { checkSubmission } from '../jobs/validate-submission';
import { waitForTerminal, watchTerminal } from '../jobs/wait-terminal';
import { isUnavailable } from '../middleware/redis-errors';
import { parseOr400 } from '../middleware/validate';
import type { HttpReply, HttpRequest } from '../route-handler';

/**
 * Ids are opaque: ours are UUIDs, a schedule's runs BullMQ's `repeat:<name>:<ms>`, and another
 * producer's whatever string BullMQ took (spaces, slashes, any script). Only the length is
 * bounded, so that no key is built from a longer one.
 */
const MAX_ID_LENGTH = 1024;

/** The job, or 404 for an id never seen and 410 for one whose record expired; one round trip. */
export async function loadRecord(ctx: AppContext, id: string, typeHint?: string): Promise<JobRecord> {
  return (await lookupJob(ctx, id, typeHint)).record;
}

/** As loadRecord, with the newest event id of the job's queue at the time of the read (SSE starts after it). */
export async function lookupJob(ctx: AppContext, id: string, typeHint?: string): Promise<{ record: JobRecord; lastEventId: string }> {
  if (id.length === 0 || id.length > MAX_ID_LENGTH) throw notFound();
  const found = await ctx.store.lookup(id, typeHint);
  if (found.record) return { record: found.record, lastEventId: found.lastEventId };
  if (found.expired) throw new HttpError(410, 'expired', 'the job existed, but its record is past RESULT_TTL_SECONDS');
  throw notFound();
}

export const jobRoutes = (ctx: AppContext) => ({
  /**
   * 202 with the job; with `?wait=S` held until the job ends (200 with the terminal job)
   * or S seconds pass (202), so a caller that wants the result makes one round trip.
   */
  async submit(req: HttpRequest): Promise<HttpReply> {
    const { wait } = parseOr400(resultQuerySchema, req.query);
    const checked = checkSubmission(req.body, [], ctx.config);
    if (!checked.ok) throw checked.error;
    const id = randomUUID();
    // Watched before it is written: no event can come first, so the wait starts from the submit's own record, without a read.
    const watch = wait ? watchTerminal(ctx, id, checked.value.type, true) : undefined;
    let replayed: boolean;
    let record: JobRecord;
    try {
      ({ replayed, record } = await submitWithKey(ctx, checked.value, req.header('Idempotency-Key'), id));
      if (wait && !isTerminal(record.state)) {
        // An idempotent submit's job has an id of its own: watched from now, and read once first.
        const ours = record.id === id;
        const held = ours ? watch! : watchTerminal(ctx, record.id, record.type);
        const accepted = record;
        record = await held
          .until(wait * 1000, req, () => loadRecord(ctx, accepted.id, accepted.type), ours ? accepted : undefined)
          .catch((err) => {
            // The job is accepted: Redis going away during the wait must not turn that into a 503
            // that reads as "nothing was written" (a client would submit it again). 202, as it was last known.
            if (isUnavailable(err)) return accepted;
            throw err;
          });
      }
    } finally {
      watch?.end();
    }
    const resource = toJobResource(record);
    // A replay is 200, not 202: nothing new was accepted (docs/http-api.md "Idempotent submits").
    const headers: Record<string, string> = { Location: resource.links.self };
    if (replayed) headers['Idempotent-Replayed'] = 'true';
    return { status: replayed || isTerminal(record.state) ? 200 : 202, headers, body: resource };
  },

  async get(req: HttpRequest): Promise<HttpReply> {
    return { body: toJobResource(await loadRecord(ctx, String(req.params.id))) };
  },

  /**
   * 200 once terminal, otherwise 202 with a hint of when to ask again. With `?wait=S`
   * the request is held until the job ends or S seconds pass (long-poll).
   */
  async result(req: HttpRequest): Promise<HttpReply> {
    const { wait } = parseOr400(resultQuerySchema, req.query);
    const id = String(req.params.id);
    const load = () => loadRecord(ctx, id);
    // One read either way: with ?wait it happens once the watch is in place.
    const record = wait ? await waitForTerminal(ctx, id, wait * 1000, req, load) : await load();
    const body = toJobResource(record);
    return isTerminal(record.state) ? { body } : { status: 202, headers: { 'Retry-After': '1' }, body };
  },
});
