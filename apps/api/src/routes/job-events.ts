import { isTerminal, toJobResource, type JobEvent } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import type { Notice } from '../notifier';
import { loadRecord } from './jobs';

const HEARTBEAT_MS = 15000;
/** Event ids are a job's own event positions, 1, 2, 3… */
const EVENT_ID = /^\d{1,15}$/;

const after = (a: string, b: string) => Number(a) > Number(b);

function sseName(e: JobEvent): string {
  if (isTerminal(e.state)) return e.state;
  return e.event === 'progress' ? 'progress' : 'state';
}

/**
 * Server-sent events of one job: its current state first, then every change, each
 * with the id of its place in the job's event log, so a client that reconnects with
 * Last-Event-ID is sent exactly what it missed. Ends after the terminal event.
 */
export const jobEventsRoute = (ctx: AppContext) =>
  async function events(req: Request, res: Response) {
    const id = String(req.params.id);
    const initial = await loadRecord(ctx, id);
    const resume = req.get('last-event-id');
    let lastSent = resume && EVENT_ID.test(resume) ? resume : null;

    let buffer: JobEvent[] | null = [];
    let catchingUp = false;
    let ended = false;
    const unwatch = ctx.notifier.watch(id, 'stream', (n: Notice) => {
      if (n.kind === 'closing') return finish();
      if (n.kind === 'resync') return void catchUp();
      if (buffer) buffer.push(n.event);
      else void deliver(n.event);
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    req.once('close', finish);

    function finish() {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unwatch();
      res.end();
    }

    function write(seq: string, name: string, data: unknown) {
      if (ended) return;
      res.write(`id: ${seq}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      lastSent = seq;
    }

    async function deliver(e: JobEvent) {
      if (ended || !e.seq || (lastSent && !after(e.seq, lastSent))) return;
      if (!isTerminal(e.state)) {
        const { seq: _s, ...data } = e;
        return write(e.seq, sseName(e), data);
      }
      lastSent = e.seq;
      const record = ctx.store.fromEvent(e) ?? (await ctx.store.read(id));
      write(e.seq, sseName(e), record ? toJobResource(record) : e);
      finish();
    }

    /** Sends what the event log holds after the last event sent; used on resume and after a reconnect. */
    async function catchUp() {
      if (catchingUp || ended) return;
      catchingUp = true;
      try {
        const missed = await ctx.store.eventsSince(id, lastSent ?? '0');
        for (const e of missed) await deliver(e);
        if (!ended && missed.length === 0) {
          // The log may have expired before the record: the record alone says how it ended.
          const record = await ctx.store.read(id);
          if (record && isTerminal(record.state)) {
            write(lastSent ?? '0', record.state, toJobResource(record));
            finish();
          }
        }
      } catch (err) {
        ctx.logger.warn({ err: (err as Error).message, id }, 'event stream catch-up failed');
        finish();
      } finally {
        catchingUp = false;
      }
    }

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    try {
      if (!lastSent) {
        const seq = await ctx.store.lastEventSeq(id);
        const now = (await ctx.store.read(id)) ?? initial;
        write(seq, 'state', toJobResource(now));
        if (isTerminal(now.state)) {
          write(seq, now.state, toJobResource(now));
          return finish();
        }
      }
      await catchUp();
      const pending = buffer ?? [];
      buffer = null;
      for (const e of pending) await deliver(e);
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message, id }, 'event stream failed');
      finish();
    }
  };
