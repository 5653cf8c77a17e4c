import { assertRedisReady, notFound, SCHEDULE_NAME } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import type { HttpReply, HttpRequest } from '../route-handler';
import { findSchedule, listSchedules, type FoundSchedule } from '../schedules/find-schedule';
import { withScheduleLock } from '../schedules/name-lock';
import { putSchedule } from '../schedules/put-schedule';
import { runsOf } from '../schedules/recent-runs';
import { scheduleView } from '../schedules/schedule-view';
import { checkSchedule } from '../schedules/validate-schedule';

const views = async (ctx: AppContext, found: FoundSchedule[]) => {
  const runs = await runsOf(ctx, found);
  return found.map((f, i) => scheduleView(f, runs[i]));
};

/** Schedules are BullMQ's job schedulers, read through the queues, which would wait for Redis rather than fail. */
const assertQueuesReady = (ctx: AppContext) => assertRedisReady(ctx.redis, ctx.queueRedis);

/** The schedule of that name, or 404; a name PUT could not have made cannot exist. */
async function findOne(ctx: AppContext, name: string): Promise<FoundSchedule> {
  if (!SCHEDULE_NAME.test(name)) throw notFound('schedule');
  assertQueuesReady(ctx);
  const found = await findSchedule(ctx, name);
  if (found.length === 0) throw notFound('schedule');
  return found[0];
}

/** PUT, GET and DELETE /schedules/:name, and GET /schedules: BullMQ job schedulers, one per name across the type queues. */
export const scheduleRoutes = (ctx: AppContext) => ({
  /** 201 when created, 200 when it replaced the schedule of that name (in whichever type's queue it was). */
  async put(req: HttpRequest): Promise<HttpReply> {
    const request = checkSchedule(String(req.params.name), req.body, ctx.config);
    const { created, found } = await putSchedule(ctx, request);
    const [view] = await views(ctx, [found]);
    return created ? { status: 201, headers: { Location: view.links.self }, body: view } : { body: view };
  },

  async get(req: HttpRequest): Promise<HttpReply> {
    const [view] = await views(ctx, [await findOne(ctx, String(req.params.name))]);
    return { body: view };
  },

  async list(): Promise<HttpReply> {
    assertQueuesReady(ctx);
    return { body: { schedules: await views(ctx, await listSchedules(ctx)) } };
  },

  /** 204; BullMQ removes the scheduler and its pending run (a run already queued or running still ends). */
  async remove(req: HttpRequest): Promise<HttpReply> {
    const name = String(req.params.name);
    if (!SCHEDULE_NAME.test(name)) throw notFound('schedule');
    assertQueuesReady(ctx);
    await withScheduleLock(ctx, name, async () => {
      const found = await findSchedule(ctx, name);
      if (found.length === 0) throw notFound('schedule');
      for (const f of found) await f.queue.removeJobScheduler(name);
    });
    return { status: 204 };
  },
});
