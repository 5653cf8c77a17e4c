import { jobStates, jobTypeNames } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { useApi } from './system-harness';

const sys = useApi();

type Problem = { path: string; message: string; index?: number };
const typeWords = `the name of a job type (${jobTypeNames.join(', ')}; GET /types describes them)`;

/** Each case: a body that breaks one rule, and the problems the 400 must list, in order. */
const submitCases: Array<[string, unknown, Problem[]]> = [
  ['no data', { type: 'echo' }, [{ path: 'data', message: 'data is required' }]],
  ['no type', { data: {} }, [{ path: 'type', message: `type is required: ${typeWords}` }]],
  ['a type that is not a string', { type: 5, data: {} }, [{ path: 'type', message: `type must be ${typeWords}` }]],
  ['an empty type', { type: '', data: {} }, [{ path: 'type', message: `type must be ${typeWords}` }]],
  ['a body that is an array', [1, 2], [{ path: '(root)', message: 'the body must be an object' }]],
  [
    'a field the envelope does not have',
    { type: 'echo', data: {}, payload: 1 },
    [{ path: '(root)', message: 'the body has no field "payload" (its fields are type, data, options)' }],
  ],
  ['options that are not an object', { type: 'echo', data: {}, options: 'fast' }, [{ path: 'options', message: 'options must be an object' }]],
  [
    'an option that does not exist',
    { type: 'echo', data: {}, options: { dealy: 5 } },
    [{ path: 'options', message: 'options has no field "dealy" (its fields are delay, priority, attempts, backoff, timeout, idempotencyKey, callbackUrl)' }],
  ],
  [
    'a negative delay',
    { type: 'echo', data: {}, options: { delay: -1 } },
    [{ path: 'options.delay', message: 'options.delay must be a whole number from 0 to 2592000000' }],
  ],
  [
    'a fractional delay',
    { type: 'echo', data: {}, options: { delay: 1.5 } },
    [{ path: 'options.delay', message: 'options.delay must be a whole number from 0 to 2592000000' }],
  ],
  [
    'a delay as a string',
    { type: 'echo', data: {}, options: { delay: '5' } },
    [{ path: 'options.delay', message: 'options.delay must be a whole number from 0 to 2592000000' }],
  ],
  [
    'priority 0',
    { type: 'echo', data: {}, options: { priority: 0 } },
    [{ path: 'options.priority', message: 'options.priority must be a whole number from 1 to 2097151' }],
  ],
  [
    '51 attempts',
    { type: 'echo', data: {}, options: { attempts: 51 } },
    [{ path: 'options.attempts', message: 'options.attempts must be a whole number from 1 to 50' }],
  ],
  [
    'a backoff type that does not exist',
    { type: 'echo', data: {}, options: { backoff: { type: 'linear', delay: 10 } } },
    [{ path: 'options.backoff.type', message: 'options.backoff.type must be one of: fixed, exponential' }],
  ],
  [
    'a backoff without its delay',
    { type: 'echo', data: {}, options: { backoff: { type: 'fixed' } } },
    [{ path: 'options.backoff.delay', message: 'options.backoff.delay is required: a whole number from 0 to 86400000' }],
  ],
  [
    'a timeout of 0',
    { type: 'echo', data: {}, options: { timeout: 0 } },
    [{ path: 'options.timeout', message: 'options.timeout must be a whole number from 1 to 86400000' }],
  ],
  [
    'an empty idempotency key',
    { type: 'echo', data: {}, options: { idempotencyKey: '' } },
    [{ path: 'options.idempotencyKey', message: 'options.idempotencyKey must be a string of 1 to 255 characters' }],
  ],
  [
    'an ftp callback',
    { type: 'echo', data: {}, options: { callbackUrl: 'ftp://example.org/' } },
    [{ path: 'options.callbackUrl', message: 'options.callbackUrl must be an http or https URL' }],
  ],
  ['echo data that is not an object', { type: 'echo', data: 'hi' }, [{ path: 'data', message: 'data must be an object' }]],
  ['sleep without ms', { type: 'sleep', data: {} }, [{ path: 'data.ms', message: 'data.ms is required: a whole number from 0 to 600000' }]],
  [
    'sleep with a negative ms and a field it does not have',
    { type: 'sleep', data: { ms: -5, extra: true } },
    [
      { path: 'data.ms', message: 'data.ms must be a whole number from 0 to 600000' },
      { path: 'data', message: 'data has no field "extra" (its fields are ms)' },
    ],
  ],
  ['sleep with ms as a string', { type: 'sleep', data: { ms: '10' } }, [{ path: 'data.ms', message: 'data.ms must be a whole number from 0 to 600000' }]],
  ['sleep with data that is a number', { type: 'sleep', data: 10 }, [{ path: 'data', message: 'data must be an object' }]],
  ['hash without text', { type: 'hash', data: {} }, [{ path: 'data.text', message: 'data.text is required: a string' }]],
  ['hash with text that is a number', { type: 'hash', data: { text: 5 } }, [{ path: 'data.text', message: 'data.text must be a string' }]],
  [
    'hash with sha1',
    { type: 'hash', data: { text: 'a', algorithm: 'sha1' } },
    [{ path: 'data.algorithm', message: 'data.algorithm must be one of: sha256, sha512, md5' }],
  ],
  [
    'hash with 0 rounds',
    { type: 'hash', data: { text: 'a', rounds: 0 } },
    [{ path: 'data.rounds', message: 'data.rounds must be a whole number from 1 to 1000000' }],
  ],
  ['http.request without url', { type: 'http.request', data: {} }, [{ path: 'data.url', message: 'data.url is required: an http or https URL' }]],
  [
    'http.request to ftp',
    { type: 'http.request', data: { url: 'ftp://example.org/' } },
    [{ path: 'data.url', message: 'data.url must be an http or https URL' }],
  ],
  [
    'http.request to something that is no URL',
    { type: 'http.request', data: { url: 'example.org' } },
    [{ path: 'data.url', message: 'data.url must be an http or https URL' }],
  ],
  [
    'http.request with a lowercase method',
    { type: 'http.request', data: { url: 'http://example.org/', method: 'get' } },
    [{ path: 'data.method', message: 'data.method must be one of: GET, HEAD, POST, PUT, PATCH, DELETE' }],
  ],
  [
    'http.request with headers that are a string',
    { type: 'http.request', data: { url: 'http://example.org/', headers: 'x' } },
    [{ path: 'data.headers', message: 'data.headers must be an object whose every value is a string' }],
  ],
  [
    'http.request with a header that is a number',
    { type: 'http.request', data: { url: 'http://example.org/', headers: { 'X-N': 1 } } },
    [{ path: 'data.headers.X-N', message: 'data.headers.X-N must be a string' }],
  ],
];

/** zod's own wording, which names no field and says nothing of what is allowed. */
const ZOD_WORDING = /Invalid input|expected|received|Too small|Too big|Unrecognized key|Invalid option|Invalid URL|nonoptional/;

describe('POST /jobs validation messages', () => {
  it.each(submitCases)('names the field and what it takes for %s', async (_name, body, problems) => {
    const r = await call(sys.api.url, 'POST', '/jobs', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual(problems);
    // The message alone already says what to fix first.
    expect(r.body.error.message).toContain(problems[0].message);
    expect(JSON.stringify(r.body)).not.toMatch(ZOD_WORDING);
  });

  it('counts the further problems in the message', async () => {
    const r = await call(sys.api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: -5, extra: true } });
    expect(r.body.error.message).toBe('the request does not match the schema: data.ms must be a whole number from 0 to 600000 (and 1 more in details)');
  });
});

describe('POST /jobs/batch validation messages', () => {
  it('says that jobs is required, and how many it takes', async () => {
    const r = await call(sys.api.url, 'POST', '/jobs/batch', {});
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([{ path: 'jobs', message: 'jobs is required: a list of 1 to 1000 items' }]);
  });

  it('says that an empty list is too short, and that a list is what it takes', async () => {
    for (const jobs of [[], 'all of them']) {
      const r = await call(sys.api.url, 'POST', '/jobs/batch', { jobs });
      expect(r.status).toBe(400);
      expect(r.body.error.details).toEqual([{ path: 'jobs', message: 'jobs must be a list of 1 to 1000 items' }]);
    }
  });

  it('names each bad item by its full path and index', async () => {
    const jobs = [1, { type: 'echo' }, { type: 'sleep', data: { ms: 1.5 } }, { type: 'hash', data: { text: 'ok' } }];
    const r = await call(sys.api.url, 'POST', '/jobs/batch', { jobs });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual([
      { index: 0, path: 'jobs.0', message: 'jobs.0 must be an object' },
      { index: 1, path: 'jobs.1.data', message: 'jobs.1.data is required' },
      { index: 2, path: 'jobs.2.data.ms', message: 'jobs.2.data.ms must be a whole number from 0 to 600000' },
    ]);
    expect(JSON.stringify(r.body)).not.toMatch(ZOD_WORDING);
  });
});

describe('query validation messages', () => {
  it('reads a number in the query only when it is plain decimal digits', async () => {
    const id = '0b7e4a3e-0000-4000-8000-000000000000';
    const bad = ['0x1e', '%20', '1e1', '', 'Infinity', '-1', '31', '+5', '5%20', 'NaN'];
    for (const value of bad) {
      for (const [method, path, body] of [
        ['GET', `/jobs/${id}/result?wait=${value}`, undefined],
        ['POST', `/jobs?wait=${value}`, { type: 'echo', data: {} }],
      ] as const) {
        const r = await call(sys.api.url, method, path, body);
        expect(r.status, `${method} ${path}`).toBe(400);
        expect(r.body.error.code).toBe('validation_failed');
        expect(r.body.error.details).toEqual([{ path: 'wait', message: 'wait must be a number from 0 to 30' }]);
      }
    }
    for (const value of ['0x10', '%20', '1e1', '', '2.0e0', '5x']) {
      const list = await call(sys.api.url, 'GET', `/jobs?limit=${value}`);
      expect(list.status, `limit=${value}`).toBe(400);
      expect(list.body.error.details).toEqual([{ path: 'limit', message: 'limit must be a whole number from 1 to 100' }]);
      const logs = await call(sys.api.url, 'GET', `/jobs/${id}/logs?limit=${value}`);
      expect(logs.status, `logs limit=${value}`).toBe(400);
      expect(logs.body.error.details).toEqual([{ path: 'limit', message: 'limit must be a whole number from 1 to 1000' }]);
    }
    // Plain digits still read as the number they spell.
    expect((await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=0.5`)).status).toBe(404);
    expect((await call(sys.api.url, 'GET', '/jobs?limit=007')).status).toBe(200);
  });

  it('names the query parameter and what it takes', async () => {
    const r = await call(sys.api.url, 'GET', '/jobs?limit=lots&state=done');
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([
      { path: 'state', message: `state must be one of: ${jobStates.join(', ')}` },
      { path: 'limit', message: 'limit must be a whole number from 1 to 100' },
    ]);
  });
});
