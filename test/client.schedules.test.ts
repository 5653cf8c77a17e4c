import { describe, expect, it } from 'vitest';
import { AsyncJobsError, createClient } from '../packages/client/src/index';
import { useApi } from './system-harness';

const sys = useApi();
const client = () => createClient({ baseUrl: sys.api.url });

describe('client: schedules', () => {
  it('creates, replaces, reads, lists and deletes a schedule', async () => {
    const startAt = new Date(Date.now() + 3600_000).toISOString();
    const made = await client().putSchedule('client-daily', { type: 'hash', data: { text: 'abc' }, cron: '30 6 * * *', tz: 'UTC' });
    expect(made.created).toBe(true);
    expect(made.schedule).toMatchObject({ name: 'client-daily', type: 'hash', cron: '30 6 * * *', tz: 'UTC', links: { self: '/schedules/client-daily' } });

    const replaced = await client().putSchedule('client-daily', { type: 'echo', data: { n: 1 }, every: 60_000, startAt });
    expect(replaced.created).toBe(false);
    expect(replaced.schedule).toMatchObject({ type: 'echo', every: 60_000, nextRunAt: startAt });
    expect(await client().getSchedule('client-daily')).toEqual(replaced.schedule);
    expect(await client().listSchedules()).toEqual([replaced.schedule]);

    await client().deleteSchedule('client-daily');
    const gone = await client()
      .getSchedule('client-daily')
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(AsyncJobsError);
    expect(gone).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('rejects a bad schedule with the validation error of the server', async () => {
    const err = await client()
      .putSchedule('client-bad', { type: 'echo', data: {}, every: 10 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(await client().listSchedules()).toEqual([]);
  });
});
