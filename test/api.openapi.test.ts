import { get } from 'node:http';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultsInWords } from '../apps/api/src/openapi/defaults-in-words';
import { routeTable } from '../apps/api/src/routes';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped once more.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;

const ctx = createTestContext();
let api: RunningApi;
let guarded: RunningApi;
let doc: any;
const TOKEN = 'docs-token';

beforeAll(async () => {
  // The host the http.request example calls, as a deployment that uses it would list it.
  api = await startApi(ctx, { HTTP_ALLOWED_HOSTS: '127.0.0.1:8080' });
  guarded = await startApi(ctx, { API_TOKENS: TOKEN });
  doc = (await call(api.url, 'GET', '/openapi.json')).body;
});
afterAll(async () => {
  await guarded?.close();
  await api?.close();
  await ctx.cleanup();
});

/** The routes of docs/http-api.md, method and path. */
const contractRoutes = [
  'post /jobs',
  'post /jobs/batch',
  'post /flows',
  'get /jobs/{id}',
  'get /jobs/{id}/result',
  'get /jobs/{id}/events',
  'delete /jobs/{id}',
  'post /jobs/{id}/retry',
  'get /jobs',
  'put /schedules/{name}',
  'get /schedules/{name}',
  'delete /schedules/{name}',
  'get /schedules',
  'get /types',
  'get /healthz',
  'get /readyz',
  'get /metrics',
  'get /openapi.json',
  'get /',
  'get /prodcons',
  'post /prodcons',
  'get /pubsub',
  'post /pubsub',
  'get /admin/queues',
];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ key: `${m} ${path}`, op: item[m] })),
  );

/** Ajv on the document's own schemas, so `#/components/...` references resolve as they do in the document. */
function compile(component: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile({ components: doc.components, $ref: `#/components/schemas/${component}` });
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const r = await call(api.url, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('would be caught by the validator if it were broken', async () => {
    const broken = structuredClone(doc);
    broken.paths['/jobs'].post.responses = { '202': { content: {} } }; // a response without its description
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('lists every route of the contract', () => {
    const documented = operations().map((o) => o.key);
    for (const route of contractRoutes) expect(documented, route).toContain(route);
  });

  it('documents every served route with the guard it really has', () => {
    const ops = new Map(operations().map((o) => [o.key, o.op]));
    // The page's and the reference's static files are not part of the API.
    const served = routeTable(api.context).filter((r) => !/assets/.test(r.path));
    for (const r of served) {
      const key = `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`;
      const op = ops.get(key);
      expect(op, key).toBeDefined();
      const security = op.security ?? doc.security;
      if (r.auth) expect(security, key).toEqual([{ bearerAuth: [] }]);
      else expect(security, key).toEqual([]);
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(ops.get('get /admin/queues').security).toEqual([{ adminBasic: [] }]);
  });

  it('lists 400 for every operation that refuses a query parameter it does not take, and asks one to show it', async () => {
    const ops = new Map(operations().map((o) => [o.key, o.op]));
    for (const r of routeTable(api.context).filter((r) => r.doc && !r.anyQuery)) {
      const key = `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`;
      expect(Object.keys(ops.get(key).responses), key).toContain('400');
    }
    const refused = await call(api.url, 'GET', '/jobs/no-such-job?verbose=1');
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('validation_failed');
    expect(Object.keys(ops.get('get /jobs/{id}/events').responses)).toContain('204');
  });

  it('describes the data of every job type served by GET /types', async () => {
    const types = (await call(api.url, 'GET', '/types')).body.types as { name: string; input: object }[];
    const mapping = doc.components.schemas.SubmitJobRequest.discriminator.mapping as Record<string, string>;
    expect(Object.keys(mapping).sort()).toEqual(types.map((t) => t.name).sort());
    for (const t of types) {
      const variant = doc.components.schemas[mapping[t.name].split('/').pop()!];
      const data = doc.components.schemas[variant.properties.data.$ref.split('/').pop()];
      const { $schema: _, ...input } = structuredClone(t.input) as Record<string, unknown>;
      // The same schema, but for the defaults, which the document states in words (see defaults-in-words.ts).
      defaultsInWords(input);
      expect(data, t.name).toEqual(input);
    }
  });

  it('accepts and rejects POST /jobs bodies as the API does', async () => {
    const validate = compile('SubmitJobRequest');
    const samples = [
      { type: 'echo', data: { a: 1 } },
      { type: 'sleep', data: { ms: 10 }, options: { attempts: 2, delay: 60000 } },
      { type: 'hash', data: { text: 'x', algorithm: 'md5', rounds: 3 } },
      { type: 'sleep', data: { ms: -1 } },
      { type: 'sleep', data: { ms: 1, extra: true } },
      { type: 'hash', data: { text: 'x', rounds: 0 } },
      { type: 'echo', data: [1] },
      { type: 'echo' },
      { type: 'nope', data: {} },
      { type: 'echo', data: {}, options: { attempts: 51 } },
      { type: 'echo', data: {}, options: { bogus: 1 } },
      { data: {} },
    ];
    const verdicts = [];
    for (const body of samples) {
      const r = await call(api.url, 'POST', '/jobs', body);
      expect([202, 400], JSON.stringify(body)).toContain(r.status);
      verdicts.push({ body, api: r.status === 202, schema: validate(body) });
    }
    expect(verdicts.filter((v) => v.api).length).toBe(3);
    for (const v of verdicts) expect(v.schema, JSON.stringify(v.body)).toBe(v.api);
  });

  it('declares the answers of POST /jobs, an expired idempotent replay (410) included', () => {
    const responses = doc.paths['/jobs'].post.responses;
    expect(Object.keys(responses).sort()).toEqual(['200', '202', '400', '401', '409', '410', '413', '415', '429', '503']);
  });

  it('says where the API is: relative to the document it serves', () => {
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('gives POST /jobs examples that the API accepts', async () => {
    const examples = Object.values(doc.paths['/jobs'].post.requestBody.content['application/json'].examples) as { value: unknown }[];
    expect(examples.length).toBeGreaterThan(0);
    for (const { value } of examples) {
      const r = await call(api.url, 'POST', '/jobs', value);
      expect(r.status, JSON.stringify(value)).toBe(202);
    }
  });

  it('describes the job resource and the error body the API sends', async () => {
    const job = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { hi: 'there' } });
    const asJob = compile('JobResource');
    expect(asJob(job.body), JSON.stringify(asJob.errors)).toBe(true);
    expect(asJob({ ...job.body, state: 'sleeping' })).toBe(false);

    const asError = compile('Error');
    for (const bad of [
      await call(api.url, 'GET', '/jobs/no-such-job'),
      await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 'soon' } }),
      await call(api.url, 'POST', '/jobs', { type: 'nope', data: {} }),
    ]) {
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(asError(bad.body), JSON.stringify(bad.body)).toBe(true);
    }
  });
});

describe('the seed routes in the document', () => {
  it('describe the JSON that /prodcons and /pubsub send to a client that asks for it', async () => {
    const accept = { accept: 'application/json' };
    const pushed = await call(api.url, 'POST', '/prodcons', undefined, accept);
    const published = await call(api.url, 'POST', '/pubsub', undefined, accept);
    expect([pushed.status, published.status]).toEqual([200, 200]);
    expect(compile('SeedPushed')(pushed.body), JSON.stringify(pushed.body)).toBe(true);
    expect(compile('SeedPublished')(published.body), JSON.stringify(published.body)).toBe(true);
    expect(doc.paths['/prodcons'].post.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SeedPushed' });
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI from this server only, pointed at /openapi.json', async () => {
    const r = await call(api.url, 'GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = r.body as string;
    expect(html).not.toMatch(/https?:\/\//);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref, ref).toMatch(/^\/docs\//);
      const asset = await fetch(api.url + ref);
      expect(asset.status, ref).toBe(200);
      // Unversioned URLs: revalidated on each load, so an upgrade's page never runs last version's script.
      expect(asset.headers.get('cache-control'), ref).toBe('no-cache');
      const modified = asset.headers.get('last-modified');
      expect(modified, ref).not.toBeNull();
      await asset.arrayBuffer();
      // Not fetch: with a conditional header it asks caches not to answer (Pragma: no-cache), and so does the server.
      expect(await statusOf(api.url + ref, { 'if-modified-since': modified! }), ref).toBe(304);
    }
    const init = await (await fetch(`${api.url}/docs/assets/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect((await call(api.url, 'GET', '/docs/assets/package.json')).status).toBe(404);
  });
});

/** The status of a GET sent with exactly `headers`. */
function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject);
  });
}

describe('with API_TOKENS set', () => {
  it('answers 401 without a token for /openapi.json, /docs and /metrics, and 200 with one', async () => {
    for (const path of ['/openapi.json', '/docs', '/docs/assets/init.js', '/metrics']) {
      const r = await call(guarded.url, 'GET', path);
      expect(r.status, path).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
      const ok = await call(guarded.url, 'GET', path, undefined, { authorization: `Bearer ${TOKEN}` });
      expect(ok.status, path).toBe(200);
    }
  });
});
