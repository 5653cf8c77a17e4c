import { ConfigError, describeRedis, execRouted, isCluster, keySlot, loadConfig, parseClusterSeeds } from '@async-jobs/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { call, startApi } from './api-harness';
import { createTestContext, onCluster } from './helpers';

const ctx = createTestContext();

afterAll(() => ctx.cleanup());

describe('REDIS_CLUSTER_NODES', () => {
  it('is empty by default: one Redis at REDIS_URL', () => {
    expect(loadConfig({}).REDIS_CLUSTER_NODES).toEqual([]);
  });

  it('takes host:port entries and URLs with credentials, and refuses anything else', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2:7001,rediss://app:s3cret@redis-3.example:6380' });
    expect(config.REDIS_CLUSTER_NODES).toEqual(['10.0.0.1:7000', 'redis-2:7001', 'rediss://app:s3cret@redis-3.example:6380']);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'http://redis-1:7000' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('gives every node the credentials and TLS of a URL entry', () => {
    const { nodes, auth } = parseClusterSeeds(['10.0.0.1:7000', 'rediss://app:s%40cret@redis-3.example:6380']);
    expect(nodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-3.example', port: 6380 },
    ]);
    expect(auth).toEqual({ username: 'app', password: 's@cret', tls: {} });
  });

  it('is what the logs name instead of REDIS_URL, without its password', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'a:1,redis://:hunter2@b:2' });
    expect(describeRedis(config)).toBe('cluster a:1,redis://:***@b:2');
    expect(describeRedis(loadConfig({ REDIS_URL: 'redis://:hunter2@c:3' }))).toBe('redis://:***@c:3');
  });
});

describe('key slots', () => {
  it('are those of the cluster spec, hashing only a non-empty {hash tag}', () => {
    // Values from CLUSTER KEYSLOT on Redis 7.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('{user1000}.following')).toBe(3443);
    // An empty tag does not count: the whole key is hashed.
    expect(keySlot('foo{}{bar}')).toBe(8363);
    expect(keySlot('foo{{bar}}zap')).toBe(4015);
    expect(keySlot('foo{bar}{zap}')).toBe(5061);
  });

  it.runIf(onCluster)('match CLUSTER KEYSLOT for our own key names', async () => {
    if (!isCluster(ctx.redis)) throw new Error('not on a cluster');
    const g = ctx.keys.groups[0];
    const names = [
      ctx.keys.tombstone('echo', 'a1'),
      ctx.keys.events('echo'),
      ctx.keys.typeIndex(g, 'echo'),
      ctx.keys.idempotency('k'),
      `${ctx.keys.prefixOf('echo')}:echo:wait`,
      'é{ü}x',
    ];
    const node = ctx.redis.nodes('master')[0];
    for (const n of names) expect(keySlot(n)).toBe(Number(await node.call('CLUSTER', 'KEYSLOT', n)));
  });

  it.runIf(onCluster)("put the test context's queue groups on different masters, as CLUSTER SLOTS serves them", async () => {
    // What the suite's grouped run (npm run test:cluster:groups) relies on to cross masters in every file.
    if (!isCluster(ctx.redis)) throw new Error('not on a cluster');
    const node = ctx.redis.nodes('master')[0];
    const ranges = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const masterOf = async (tag: string) => {
      const slot = Number(await node.call('CLUSTER', 'KEYSLOT', tag));
      return ranges.find(([start, end]) => slot >= start && slot <= end)![2][2];
    };
    const masters = await Promise.all(ctx.keys.groups.map((g) => masterOf(g.prefix)));
    const all = new Set(ranges.map((r) => r[2][2]));
    expect(new Set(masters).size).toBe(Math.min(ctx.keys.groups.length, all.size));
  });
});

describe('execRouted', () => {
  it('returns each reply where its command was, whatever node the key lives on', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `${ctx.namespace}:aj:route:{${i}}`);
    await execRouted(
      ctx.redis,
      keys.map((key, i) => ({ key, queue: (pipe) => void pipe.set(key, String(i)) })),
    );
    const replies = await execRouted(
      ctx.redis,
      keys.map((key) => ({ key, queue: (pipe) => void pipe.get(key) })),
    );
    expect(replies.map(([err, v]) => (err ? err.message : v))).toEqual(keys.map((_, i) => String(i)));
  });

  it('reports a failing command in its place and runs the others', async () => {
    const key = `${ctx.namespace}:aj:route:str`;
    const replies = await execRouted(ctx.redis, [
      { key, queue: (pipe) => void pipe.set(key, 'x') },
      { key, queue: (pipe) => void pipe.lpush(key, 'y') },
      { key, queue: (pipe) => void pipe.get(key) },
    ]);
    expect(replies[0]).toEqual([null, 'OK']);
    expect(replies[1][0]?.message).toMatch(/WRONGTYPE/);
    expect(replies[2]).toEqual([null, 'x']);
  });
});

describe('an API whose cluster does not answer', () => {
  it('answers 503 unavailable at once, with nothing written, and /readyz says so', async () => {
    // Both set: the cluster nodes win; REDIS_URL only tells the harness not to wait for Redis.
    const api = await startApi(ctx, { REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2', REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const started = Date.now();
      const submit = await call(api.url, 'POST', '/jobs', { type: 'echo', data: {} });
      expect(submit.status).toBe(503);
      expect(submit.body.error.code).toBe('unavailable');
      expect(submit.headers.get('retry-after')).toBeTruthy();
      expect((await call(api.url, 'GET', '/readyz')).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await api.close();
    }
  });
});
