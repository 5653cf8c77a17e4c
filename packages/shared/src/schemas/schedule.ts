import { getNextMillis } from 'bullmq';
import { z } from 'zod';
import { submitOptionsSchema } from '../jobs/options';

/**
 * A schedule's name: its BullMQ job scheduler id. Its runs' ids are
 * `repeat:<name>:<ms>` (BullMQ's), so the name keeps them within the 128 characters a
 * job id may have, and a colon, which BullMQ reads as a legacy repeat key, is not allowed.
 */
export const SCHEDULE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** What a run takes of the submit options; `delay` is the schedule's, the rest has no meaning for a run. */
export const scheduleOptionsSchema = submitOptionsSchema.omit({ delay: true, idempotencyKey: true, callbackUrl: true });

export type ScheduleOptions = z.infer<typeof scheduleOptionsSchema>;

const DAY_MS = 86400000;

/** Whether `tz` names a time zone this process knows (IANA, as `Intl` does; `UTC` included). */
function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why BullMQ's own cron parser (the one its job schedulers run on) refuses `cron`, or null when it takes it. */
function cronProblem(cron: string, tz: string, from: number, end: number | undefined): string | null {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); it has ${fields}`;
  }
  try {
    const next = getNextMillis(from, { pattern: cron, tz });
    if (next === undefined) return 'cron never fires';
    return end !== undefined && next > end ? `cron first fires at ${new Date(next).toISOString()}, after endAt` : null;
  } catch (err) {
    return `cron is not a valid cron expression: ${(err as Error).message}`;
  }
}

/** When a schedule runs: exactly one of `cron` and `every`, and an optional window and count. */
const timingFields = {
  cron: z.string().min(1).max(200).optional().meta({ description: 'A cron expression of 5 fields, or 6 with seconds first.' }),
  tz: z.string().min(1).max(100).optional().meta({ description: 'IANA time zone of `cron`; default UTC. Only with `cron`.' }),
  every: z
    .number()
    .int()
    .min(1000)
    .max(366 * DAY_MS)
    .optional()
    .meta({ description: 'Milliseconds between runs, at least 1000.' }),
  startAt: z.iso.datetime({ offset: true }).optional().meta({ description: 'No run before this time.' }),
  endAt: z.iso.datetime({ offset: true }).optional().meta({ description: 'No run is made once this time has passed; must be in the future.' }),
  limit: z.number().int().min(1).max(1000000000).optional().meta({ description: 'At most this many runs in all.' }),
};

/**
 * The timing of `PUT /schedules/:name`, with the checks that span fields. `type`, `data`
 * and `options` are checked as POST /jobs checks them (see the API's validate-schedule.ts).
 */
export const scheduleTimingSchema = z
  .strictObject({
    // Checked as POST /jobs checks them; listed so that they are not unknown fields here.
    type: z.unknown().optional(),
    data: z.unknown().optional(),
    options: z.unknown().optional(),
    ...timingFields,
  })
  .superRefine((b, ctx) => {
    if ((b.cron === undefined) === (b.every === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.cron === undefined ? 'cron' : 'every'], message: 'give exactly one of cron and every' });
    }
    if (b.tz !== undefined && b.every !== undefined) ctx.addIssue({ code: 'custom', path: ['tz'], message: 'tz applies only with cron' });
    const zoneOk = b.tz === undefined || knownZone(b.tz);
    if (!zoneOk) ctx.addIssue({ code: 'custom', path: ['tz'], message: `tz must be an IANA time zone such as UTC or Europe/Paris, not "${b.tz}"` });
    const start = b.startAt === undefined ? undefined : Date.parse(b.startAt);
    const end = b.endAt === undefined ? undefined : Date.parse(b.endAt);
    if (end !== undefined && end <= Date.now()) ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt must be in the future' });
    if (end !== undefined && start !== undefined && end <= start) ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt must be after startAt' });
    if (b.cron !== undefined && zoneOk) {
      const problem = cronProblem(b.cron, b.tz ?? 'UTC', Math.max(Date.now(), start ?? 0), end);
      if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
    }
  });

/** The body of `PUT /schedules/:name` as the OpenAPI document shows it (the API checks it with the schemas above). */
export const scheduleRequestSchema = z.strictObject({
  type: z.string().meta({ description: 'The job type of every run, one of GET /types.' }),
  data: z.unknown().meta({ description: "Every run's `data`: what the type takes (as in POST /jobs)." }),
  options: scheduleOptionsSchema.optional(),
  ...timingFields,
});

/** The schedule resource of docs/http-api.md ("Schedules"). */
export const scheduleResourceSchema = z.strictObject({
  name: z.string(),
  type: z.string().meta({ description: 'The job type of every run.' }),
  data: z.unknown().meta({ description: "Every run's `data`." }),
  options: scheduleOptionsSchema.partial().meta({ description: "Every run's options, defaults filled in." }),
  cron: z.string().optional().meta({ description: 'Present for a cron schedule.' }),
  every: z.number().int().optional().meta({ description: 'Present for an interval schedule: ms between runs.' }),
  tz: z.string().nullable().meta({ description: 'The time zone of `cron`; null for an `every` schedule.' }),
  startAt: z.iso.datetime().nullable(),
  endAt: z.iso.datetime().nullable(),
  limit: z.number().int().nullable(),
  nextRunAt: z.iso.datetime().nullable().meta({ description: 'When the next run is due; null when none will come (limit or endAt reached).' }),
  recentJobs: z.array(z.string()).meta({ description: 'Ids of the newest runs BullMQ still holds, newest first (at most 5), the pending next run included.' }),
  links: z.strictObject({ self: z.string() }),
});

export type ScheduleResource = z.infer<typeof scheduleResourceSchema>;

export const scheduleListSchema = z.strictObject({ schedules: z.array(scheduleResourceSchema) });
