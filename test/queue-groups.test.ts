import { ConfigError, keySlot, loadConfig } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { waitFor, watchEvents } from './helpers';
import { readStream } from './sse-client';
import { useSystem } from './system-harness';

// hash and sleep in a group "io"; echo in 3 shards, each a group of its own; the rest (http.request, callbacks) in the default group.
const layout = { QUEUE_GROUPS: 'io=hash,sleep', QUEUE_SHARDS: 'echo=3' };
const sys = useSystem({}, layout);

const configError = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted it');
};

describe('QUEUE_GROUPS and QUEUE_SHARDS at start-up', () => {
  it('refuse a wrong layout naming the variable and the entry', () => {
    expect(configError({ QUEUE_GROUPS: 'hot=hsah' })).toMatch(
      /QUEUE_GROUPS: group "hot": unknown job type "hsah"; known types: echo, sleep, hash, http\.request/,
    );
    expect(configError({ QUEUE_GROUPS: 'hash,sleep' })).toMatch(/QUEUE_GROUPS: "hash,sleep" is not name=type,type/);
    expect(configError({ QUEUE_GROUPS: 'default=echo' })).toMatch(/"default" is the group of every type not named/);
    expect(configError({ QUEUE_GROUPS: 'a=echo;b=echo' })).toMatch(/QUEUE_GROUPS: echo is in two groups \("a" and "b"\)/);
    expect(configError({ QUEUE_GROUPS: 'a=echo', QUEUE_SHARDS: 'echo=3' })).toMatch(
      /echo is split into 3 shards \(QUEUE_SHARDS\); place its shards echo~1 \.\.\. echo~3 instead/,
    );
    expect(configError({ QUEUE_GROUPS: 'a=echo~4', QUEUE_SHARDS: 'echo=3' })).toMatch(/"echo~4" is no shard; echo has shards echo~1 \.\.\. echo~3/);
    expect(configError({ QUEUE_SHARDS: 'echo=0' })).toMatch(/QUEUE_SHARDS: echo=0: the number of shards must be 1 to 64/);
    expect(configError({ QUEUE_SHARDS: 'echo' })).toMatch(/QUEUE_SHARDS: "echo" is not type=N/);
    expect(() => loadConfig({ QUEUE_GROUPS: 'a=echo~2;b=hash', QUEUE_SHARDS: 'echo=2' })).not.toThrow();
  });

  it('map types to queues and groups as configured', () => {
    const { keys } = sys.ctx;
    expect(keys.groups.map((g) => g.name)).toEqual(['default', 'io', 'echo~1', 'echo~2', 'echo~3']);
    expect(keys.queuesOf('echo')).toEqual(['echo~1', 'echo~2', 'echo~3']);
    expect(keys.queuesOf('hash')).toEqual(['hash']);
    expect(keys.layout.groupsOf(['hash', 'sleep']).map((g) => g.name)).toEqual(['io']);
    expect(keys.layout.groupsOf(['hash', 'http.request']).map((g) => g.name)).toEqual(['default', 'io']);
    expect(keys.layout.groupsOf(['echo']).map((g) => g.name)).toEqual(['echo~1', 'echo~2', 'echo~3']);
    // Every group has a hash tag of its own.
    expect(new Set(keys.groups.map((g) => /^\{[^}]+\}$/.exec(g.prefix)?.[0])).size).toBe(keys.groups.length);
    // The shard is a function of the id: every process finds the same one.
    expect(keys.queueOf('echo', 'abc')).toBe(keys.queueOf('echo', 'abc'));
    expect(keys.queueOf('hash', 'abc')).toBe('hash');
  });
});

describe('a job system with groups and shards', () => {
  it('runs jobs of every group and shard, keeping each job and what we write with it in its group, and lists them as one', async () => {
    const { ctx, api } = sys;
    const watch = await watchEvents(ctx);
    try {
      const ids: string[] = [];
      const types: Record<string, string> = {};
      for (let i = 0; i < 24; i++) {
        const body = i % 3 === 2 ? { type: 'hash', data: { text: `t${i}` } } : { type: 'echo', data: { i } };
        const r = await call(api.url, 'POST', '/jobs', body);
        expect(r.status).toBe(202);
        ids.push(r.body.id);
        types[r.body.id] = body.type;
      }
      const batch = await call(api.url, 'POST', '/jobs/batch', {
        jobs: [
          { type: 'echo', data: { b: 1 } },
          { type: 'sleep', data: { ms: 1 } },
          { type: 'echo', data: { b: 2 } },
        ],
      });
      expect(batch.status).toBe(202);
      for (const j of batch.body.jobs as { id: string; type: string }[]) {
        ids.push(j.id);
        types[j.id] = j.type;
      }

      // Every job ends, and jobs:events says so once for each, whichever master its group is on.
      for (const id of ids) expect((await watch.terminal(id)).event).toBe('completed');
      for (const id of ids) expect(watch.of(id).filter((e) => e.event === 'completed')).toHaveLength(1);

      // In Redis: the job and its tombstone under its group's tag, in one slot; echo's jobs over all three shards.
      const used = new Set<string>();
      for (const id of ids) {
        const type = types[id];
        const queue = ctx.keys.queueOf(type, id);
        const prefix = ctx.keys.prefixOf(queue);
        expect(ctx.keys.job(type, id)).toBe(`${prefix}:${queue}:${id}`);
        expect(await ctx.redis.exists(ctx.keys.job(type, id), ctx.keys.tombstone(type, id))).toBe(2);
        expect(keySlot(ctx.keys.tombstone(type, id))).toBe(keySlot(`${prefix}:${queue}:wait`));
        used.add(queue);
      }
      expect([...used].sort()).toEqual(['echo~1', 'echo~2', 'echo~3', 'hash', 'sleep']);

      // Each job reads by id alone, as the type and state it has.
      for (const id of ids.slice(0, 6)) {
        const r = await call(api.url, 'GET', `/jobs/${id}`);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ id, type: types[id], state: 'completed' });
      }

      // GET /jobs merges the groups' indexes: newest first, pages of 5 that neither repeat nor skip.
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await call(api.url, 'GET', `/jobs?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status).toBe(200);
        seen.push(...(r.body.jobs as { id: string }[]).map((j) => j.id));
        cursor = r.body.nextCursor;
      } while (cursor);
      // Submitted one after another, so newest first is the reverse order (the batch in its input order).
      expect(seen).toEqual([...ids].reverse());
      // One type over its three shards is listed as one.
      const echo = await call(api.url, 'GET', '/jobs?type=echo&limit=100');
      expect(echo.body.jobs.map((j: { id: string }) => j.id)).toEqual([...ids].reverse().filter((id) => types[id] === 'echo'));
    } finally {
      await watch.close();
    }
  });

  it('follows a sharded job on its event stream, and cancels jobs in whichever shard holds them', async () => {
    const { api } = sys;
    const ids: string[] = [];
    const shardsMet = () => new Set(ids.map((id) => sys.ctx.keys.queueOf('echo', id))).size;
    // Ids are random: submitted until at least two shards are met (six land in one shard about once in 240 tries).
    for (let i = 0; ids.length < 6 || shardsMet() < 2; i++) {
      ids.push((await call(api.url, 'POST', '/jobs', { type: 'echo', data: { i }, options: { delay: 60000 } })).body.id);
    }
    for (const id of ids) {
      const r = await call(api.url, 'DELETE', `/jobs/${id}`);
      expect(r.status).toBe(200);
      expect(r.body.state).toBe('cancelled');
    }
    const live = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { watched: true } });
    const stream = await readStream(`${api.url}/jobs/${live.body.id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.events.at(-1)).toMatchObject({ event: 'completed' });
    await waitFor(async () => (await call(api.url, 'GET', `/jobs/${live.body.id}`)).body.state === 'completed');
  });
});
