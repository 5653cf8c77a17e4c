import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { ConfigError, insecureReason, loadConfig, workerInsecureReason } from '@async-jobs/shared';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

/** One of our entry points run to its end through tsx, as the npm scripts run it. */
function runMain(script: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000 });
}

/** A line of a Node stack trace: what a person should not have to read to learn that a port is taken. */
const STACK_LINE = /^\s+at /m;

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      HOST: '127.0.0.1',
      PORT: 3000,
      API_TOKENS: [],
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: '',
      WORKER_CONCURRENCY: 10,
      RESULT_TTL_SECONDS: 86400,
      MAX_BODY_BYTES: 1048576,
      HTTP_ALLOWED_HOSTS: [],
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('splits comma-separated lists', () => {
    const c = loadConfig({ API_TOKENS: 'a, b,,c', HTTP_ALLOWED_HOSTS: 'example.org,127.0.0.1:8080' });
    expect(c.API_TOKENS).toEqual(['a', 'b', 'c']);
    expect(c.HTTP_ALLOWED_HOSTS).toEqual(['example.org', '127.0.0.1:8080']);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
  });

  it('refuses a REDIS_URL whose database is not a number, and takes one that is, or none', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://:pw@127.0.0.1:6379/abc' })).toThrow(/REDIS_URL: names a database that is not a number/);
    for (const url of ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379/', 'redis://127.0.0.1:6379/3'])
      expect(loadConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
  });

  it('refuses host lists holding a URL, a path or a wildcard, naming the entry, and takes hosts and host:port', () => {
    for (const name of ['HTTP_ALLOWED_HOSTS', 'CALLBACK_ALLOWED_HOSTS'])
      for (const bad of [
        'http://localhost:3105',
        '*',
        'api.example.com/',
        'https://hooks.example.com/x',
        '*.example.com',
        'user@host',
        'host:0',
        'host:70000',
        'cafe:0',
        'abc:99999',
        '[::1]:0',
        '[nothex]:80',
      ])
        expect(() => loadConfig({ [name]: `ok.example.org, ${bad}` }), `${name}=${bad}`).toThrow(
          `${name}.1: each entry must be a host or host:port (no scheme, path or wildcard), e.g. api.example.com or 10.0.0.5:8080; got "${bad}"`,
        );
    const good = ['localhost:3105', 'api.example.com', 'EXAMPLE.org:8080', '10.0.0.5', '[::1]:8080', 'fe80::1', 'svc_1.internal', 'cafe:8080', 'dead:beef::1'];
    expect(loadConfig({ HTTP_ALLOWED_HOSTS: good.join(',') }).HTTP_ALLOWED_HOSTS).toEqual(good);
  });

  it('takes numbers in plain decimal digits only, and says what a variable takes and what it got', () => {
    expect(() => loadConfig({ RESULT_TTL_SECONDS: 'abc' })).toThrow(
      'invalid configuration: RESULT_TTL_SECONDS: must be a whole number from 1 to 31536000, in decimal digits; got "abc"',
    );
    // Coercion read these as 1000, 16 and 2.5 (refused as not whole, but with no word of what was given).
    for (const odd of ['1e3', '0x10', '2.5', '-1'])
      expect(() => loadConfig({ PORT: odd }), odd).toThrow(`PORT: must be a whole number from 0 to 65535, in decimal digits; got "${odd}"`);
    expect(() => loadConfig({ WORKER_CONCURRENCY: '1001' })).toThrow(
      'WORKER_CONCURRENCY: must be a whole number from 1 to 1000, in decimal digits; got "1001"',
    );
    expect(loadConfig({ PORT: ' 8080 ', WORKER_CONCURRENCY: '7' })).toMatchObject({ PORT: 8080, WORKER_CONCURRENCY: 7 });
  });

  it('refuses an IDEMPOTENCY_TTL_SECONDS of 0, naming it: an idempotency key must live at least a second', () => {
    expect(() => loadConfig({ IDEMPOTENCY_TTL_SECONDS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ IDEMPOTENCY_TTL_SECONDS: '0' })).toThrow(
      'IDEMPOTENCY_TTL_SECONDS: must be a whole number from 1 to 31536000, in decimal digits; got "0"',
    );
    expect(loadConfig({ IDEMPOTENCY_TTL_SECONDS: '1' }).IDEMPOTENCY_TTL_SECONDS).toBe(1);
  });
});

describe('starting on a public address', () => {
  it('is refused without API_TOKENS and ADMIN_PASSWORD, and says why', () => {
    expect(insecureReason(loadConfig({ HOST: '0.0.0.0' }))).toMatch(/API_TOKENS and ADMIN_PASSWORD/);
    expect(insecureReason(loadConfig({ HOST: '0.0.0.0', API_TOKENS: 't' }))).toMatch(/ADMIN_PASSWORD/);
    expect(insecureReason(loadConfig({ HOST: '0.0.0.0', API_TOKENS: 't', ADMIN_PASSWORD: 'p' }))).toBeNull();
    expect(insecureReason(loadConfig({ HOST: '0.0.0.0', ALLOW_INSECURE: 'true' }))).toBeNull();
    expect(insecureReason(loadConfig({ HOST: '127.0.0.1' }))).toBeNull();
  });

  it('makes the API process exit 2 with that message', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts'], {
      env: { ...process.env, HOST: '0.0.0.0', PORT: '0', API_TOKENS: '', ADMIN_PASSWORD: '', ALLOW_INSECURE: '' },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^refusing to start: .*API_TOKENS/);
  });

  it('makes a worker serving its metrics on a public HOST without API_TOKENS exit 2, saying why', () => {
    const r = runMain('apps/worker/src/main.ts', { HOST: '0.0.0.0', WORKER_METRICS_PORT: '0', API_TOKENS: '', ALLOW_INSECURE: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^refusing to start: HOST=0\.0\.0\.0 is not a loopback address and API_TOKENS is empty, so WORKER_METRICS_PORT would serve \/metrics to anyone/,
    );
    // Without the endpoint there is nothing to guard.
    expect(workerInsecureReason(loadConfig({ HOST: '0.0.0.0' }))).toBeNull();
    expect(workerInsecureReason(loadConfig({ HOST: '0.0.0.0', WORKER_METRICS_PORT: '9100', API_TOKENS: 't' }))).toBeNull();
  });

  it('makes the API process exit 2 naming a malformed variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts'], {
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PORT/);
  });
});

describe('starting where the environment does not fit', () => {
  it('makes the API exit 1 naming the port that is taken and how to choose another, without a stack trace', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const r = runMain('apps/api/src/main.ts', { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent' });
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toMatch(/choose another port with PORT, e\.g\. PORT=\d+/);
      expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
      expect(r.status).toBe(1);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it.each(['apps/api/src/main.ts', 'apps/worker/src/main.ts'])('makes %s exit 2 naming a REDIS_URL that cannot be parsed, without echoing it', (script) => {
    const r = runMain(script, { REDIS_URL: 'redis://:hunter2@127.0.0.1:sixthree', REDIS_CLUSTER_NODES: '', PORT: '0' });
    expect(r.stderr).toMatch(/REDIS_URL: is not a valid URL/);
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
    expect(r.status).toBe(2);
  });

  it.each(['apps/api/src/main.ts', 'apps/worker/src/main.ts'])(
    'makes %s exit 2 when Redis has no database of the number REDIS_URL names, having written nothing to database 0',
    async (script) => {
      const base = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
      const redis = new Redis(base);
      try {
        const [, databases] = (await redis.config('GET', 'databases')) as [string, string];
        const namespace = `nodb-${process.pid}-${script.split('/')[1]}`;
        const r = runMain(script, { REDIS_URL: `${base}/${databases}`, REDIS_CLUSTER_NODES: '', PORT: '0', KEY_NAMESPACE: namespace });
        expect(r.stderr).toContain(`refusing to run: REDIS_URL names database ${databases}, which this Redis does not have`);
        expect(r.status).toBe(2);
        // ioredis went on with such a connection on database 0: the worker took jobs there and the API wrote them there.
        expect(await redis.keys(`${namespace}*`)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    },
  );
});
