import { spawnSync } from 'node:child_process';
import { insecureReason, loadConfig } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';

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
    expect(r.stdout + r.stderr).toMatch(/refusing to start.*API_TOKENS/);
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
