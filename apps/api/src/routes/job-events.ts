import { isTerminal, toJobResource, type JobRecord } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { mayHaveEnded } from '../events/lifecycle';
import { progressMessage } from '../events/relay-messages';
import type { Notice, PeekRequest } from '../events/notifier';
import { compareIds, STREAM_ID, type StreamEntry } from '../events/streams';
import { loadRecord, lookupJob } from './jobs';

const HEARTBEAT_MS = 15000;

/** What the stream does next: a notice, or the current state it read on entry (sent first, without reading it again). */
type Step = Notice | { kind: 'resync'; found: Awaited<ReturnType<typeof lookupJob>> };

/**
 * Server-sent events of one job, with the ids of BullMQ's event stream of its queue: its
 * current state first, then every change, ending after the terminal event. A client that
 * reconnects with Last-Event-ID gets every change after it that the stream still holds
 * (BullMQ trims it to about 10,000 entries per queue), or, when that is gone, the current
 * state first. A resume at or after the terminal event gets 204, so an EventSource stops.
 */
export const jobEventsRoute = (ctx: AppContext) =>
  async function events(req: Request, res: Response) {
    const id = String(req.params.id);
    const header = req.get('last-event-id');
    let resume = header && STREAM_ID.test(header) ? header : null;

    let ended = false;
    let lastSent: string | null = resume;
    let buffer: Step[] | null = [];
    let chain: Promise<void> = Promise.resolve();
    const enqueue = (n: Step) => {
      chain = chain
        .then(() => handle(n))
        .catch((err: Error) => {
          ctx.logger.warn({ err: err.message, id }, 'event stream failed');
          finish();
        });
    };
    // Its type is learnt below: from then on, the stream read that brings a change may bring the job with it.
    const peek: PeekRequest = {};
    const unwatch = ctx.notifier.watch(
      id,
      'stream',
      (n) => {
        if (n.kind === 'closing') return finish();
        if (buffer) buffer.push(n);
        else enqueue(n);
      },
      peek,
    );
    let heartbeat: NodeJS.Timeout | undefined;
    req.on('close', finish);

    function finish() {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      req.off('close', finish);
      unwatch();
      if (res.headersSent) res.end();
    }

    function write(eventId: string, name: string, data: unknown) {
      if (ended) return;
      res.write(`id: ${eventId}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      lastSent = eventId;
    }

    /**
     * Sends the job as it is now, under `eventId`; ends the stream when it is terminal. The
     * first thing a stream sends is always a `state` event (docs/http-api.md "The event stream"), a terminal one too.
     */
    let first = true;
    /** The job as the last `state` event showed it: BullMQ logs some changes twice (`waiting` then `active`), the client hears it once. */
    let shown: string | undefined;
    function sendJob(eventId: string, job: JobRecord) {
      const resource = toJobResource(job);
      const text = JSON.stringify(resource);
      if (first) {
        write(eventId, 'state', resource);
        shown = text;
        first = false;
      }
      if (isTerminal(job.state)) {
        write(eventId, job.state, resource);
        finish();
      } else if (lastSent !== eventId && text !== shown) {
        write(eventId, 'state', resource);
        shown = text;
      }
    }

    async function handle(n: Step) {
      if (ended) return;
      if (n.kind === 'resync') {
        const now = 'found' in n ? n.found : await lookupJob(ctx, id, type);
        return sendJob(lastSent && compareIds(lastSent, now.lastEventId) > 0 ? lastSent : now.lastEventId, now.record);
      }
      if (n.kind === 'event') await deliver(n.entry, n.peeked);
    }

    /** `peeked`: the job as read right after the read that brought `e`, when it came with it. */
    async function deliver(e: StreamEntry, peeked?: JobRecord) {
      // Waiters are found by id, and BullMQ's ids are per queue: another queue's job may share this one's.
      if (e.queue !== queue) return;
      if (ended || (lastSent && compareIds(e.id, lastSent) <= 0)) return;
      if (e.event === 'progress') return write(e.id, 'progress', progressMessage(e));
      // Any other change: say what the job is now (read, unless it came with the change), terminal or not.
      const job = peeked ?? (await loadRecord(ctx, id, e.type).catch(() => null));
      if (!job) return finish();
      if (!mayHaveEnded(e) && isTerminal(job.state)) return; // its ending entry follows and carries it
      sendJob(e.id, job);
    }

    // Reads before any header goes out, so an unknown job is a 404 and an ended stream a 204.
    let type: string;
    let queue: string;
    let missed: StreamEntry[] = [];
    try {
      const found = await lookupJob(ctx, id);
      type = found.record.type;
      queue = ctx.keys.queueOf(type, id);
      peek.type = type;
      // An id past the stream's newest entry was never sent for this queue (another Redis, a
      // clock that went back): as no id at all, rather than waiting for the stream to reach it.
      if (resume && compareIds(resume, found.lastEventId) > 0) resume = null;
      if (resume) {
        const { oldest, after } = await ctx.resumes.read(ctx.keys.events(queue), queue, type, id, resume);
        // Held whole: the stream still reaches back to the id, or to the job's `added` entry
        // (BullMQ trims from the head only, so everything of the job after it is held too).
        const heldSince = (oldest !== null && compareIds(resume, oldest) >= 0) || after.some((e) => e.event === 'added');
        // At the stream's newest id a client has had everything up to now, a terminal job's end
        // included, even with the stream emptied (then every id sent was that one: without this, a
        // terminal job's stream would be sent again on every reconnect).
        const atNewest = compareIds(resume, found.lastEventId) === 0;
        if (isTerminal(found.record.state) && after.length === 0 && (heldSince || atNewest)) {
          finish();
          res.status(204).end();
          return;
        }
        if (heldSince) {
          first = false;
          missed = after;
        } else {
          // Some of what the client missed may be gone from the stream: a `state` event first, as
          // on a new stream, with what the job is now (a terminal one ends the stream).
          buffer.unshift({ kind: 'resync', found });
        }
      } else {
        lastSent = null;
        buffer.unshift({ kind: 'resync', found });
      }
    } catch (err) {
      finish();
      throw err;
    }

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    if (ended) return void res.end();
    heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const pending = [...missed.map((entry): Step => ({ kind: 'event', entry })), ...buffer];
    buffer = null;
    for (const n of pending) enqueue(n);
  };
