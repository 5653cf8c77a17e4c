import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';
import { readStream } from './sse-client';
import { startWorker, type RunningWorker } from './worker-harness';

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped once more.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;

const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;
let target: http.Server;
let targetUrl: string;
let doc: any;

beforeAll(async () => {
  // What an http.request job calls: one small JSON answer.
  target = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"pong":true}'));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const host = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  targetUrl = `http://${host}/ping`;
  api = await startApi(ctx, { HTTP_ALLOWED_HOSTS: host });
  worker = await startWorker(ctx, { HTTP_ALLOWED_HOSTS: host });
  doc = (await call(api.url, 'GET', '/openapi.json')).body;
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
  await ctx.cleanup();
});

/** Ajv on the document's own schemas, so `#/components/...` references resolve as they do in the document. */
function compile(schema: object) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile({ components: doc.components, ...schema });
}
const named = (component: string) => compile({ $ref: `#/components/schemas/${component}` });

async function runToEnd(body: object) {
  const sub = await call(api.url, 'POST', '/jobs', body);
  expect(sub.status, JSON.stringify(sub.body)).toBe(202);
  const done = await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
  expect(done.body.state, JSON.stringify(done.body)).toBe('completed');
  return done.body;
}

describe('what the API sends matches its OpenAPI document', () => {
  it('types the result of a completed job of every built-in type', async () => {
    const asJob = named('JobResource');
    const jobs = {
      echo: await runToEnd({ type: 'echo', data: { a: [1, 2] } }),
      sleep: await runToEnd({ type: 'sleep', data: { ms: 1 } }),
      hash: await runToEnd({ type: 'hash', data: { text: 'abc' } }),
      'http.request': await runToEnd({ type: 'http.request', data: { url: targetUrl } }),
      collect: await runToEnd({ type: 'collect', data: {} }),
    };
    expect(Object.keys(jobs).sort()).toEqual(Object.keys(doc.components.schemas.JobResource.discriminator.mapping).sort());
    for (const [type, job] of Object.entries(jobs)) expect(asJob(job), `${type}: ${JSON.stringify(asJob.errors)}`).toBe(true);

    // The result is typed per type: another type's result, or a wrong shape, does not pass.
    expect(asJob({ ...jobs.hash, result: jobs.sleep.result })).toBe(false);
    expect(asJob({ ...jobs['http.request'], result: { status: 200 } })).toBe(false);
    expect(asJob({ ...jobs.echo, submittedAt: null })).toBe(false);
  });

  it('declares every event of a job stream with the data it carries', async () => {
    // A sleep reports progress. Read once it has ended, so that no event depends on timing:
    // a fresh stream (the current resource, then the terminal event) and a replay of all
    // that BullMQ's stream holds of it (Last-Event-ID 0-0: every change).
    const job = await runToEnd({ type: 'sleep', data: { ms: 300 } });
    const url = `${api.url}/jobs/${job.id}/events`;
    const fresh = await readStream(url);
    const replay = await readStream(url, { 'last-event-id': '0-0' });
    expect([fresh.status, replay.status]).toEqual([200, 200]);
    const events = [...fresh.events, ...replay.events];
    const stream = doc.paths['/jobs/{id}/events'].get.responses['200'].content['text/event-stream'].schema;
    const item = compile(doc.components.schemas[stream.$ref.split('/').pop()].items);
    const byEvent = doc.components.schemas.SseJobStream.items.discriminator.mapping as Record<string, string>;

    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['state', 'progress', 'completed']));
    // `state` carries the job resource, first and after each change; `progress` a JobEvent.
    expect(events.filter((e) => e.event === 'state').every((e) => 'links' in e.data)).toBe(true);
    expect(events.filter((e) => e.event === 'progress').every((e) => e.data.event === 'progress')).toBe(true);
    for (const e of events) {
      // On the wire `data:` is text; its JSON is described by the event's contentSchema.
      const wire = { id: e.id, event: e.event, data: JSON.stringify(e.data) };
      expect(item(wire), `${e.event}: ${JSON.stringify(item.errors)}`).toBe(true);
      const declared = doc.components.schemas[byEvent[e.event].split('/').pop()!];
      const data = compile(declared.properties.data.contentSchema);
      expect(data(e.data), `${e.event} data: ${JSON.stringify(data.errors)}`).toBe(true);
    }
    expect(item({ id: '1', event: 'finished', data: '{}' })).toBe(false);
  });
  it('describes GET /types, pause, resume and retry-failed as they answer', async () => {
    const list = await call(api.url, 'GET', '/types');
    expect(named('TypeList')(list.body), JSON.stringify(named('TypeList').errors)).toBe(true);
    const op = (path: string) => doc.paths[path].post.responses;
    const item = compile(op('/types/{type}/pause')['200'].content['application/json'].schema);
    const paused = await call(api.url, 'POST', '/types/sleep/pause');
    const resumed = await call(api.url, 'POST', '/types/sleep/resume');
    for (const r of [paused, resumed]) expect(item(r.body), JSON.stringify(item.errors)).toBe(true);
    expect(item({ ...paused.body, limits: { rate: { max: 1 } } })).toBe(false);
    const retried = await call(api.url, 'POST', '/types/sleep/retry-failed');
    expect(retried.status).toBe(202);
    expect(compile(op('/types/{type}/retry-failed')['202'].content['application/json'].schema)(retried.body)).toBe(true);
    expect(Object.keys(op('/types/{type}/resume'))).toContain('404');
  });

  it('describes the answers of GET /workers and GET /jobs/{id}/logs', async () => {
    const workers = (await call(api.url, 'GET', '/workers')).body;
    expect(workers.workers.length).toBeGreaterThan(0);
    expect(named('WorkerList')(workers), JSON.stringify(workers)).toBe(true);
    const job = await runToEnd({ type: 'sleep', data: { ms: 300 } });
    const page = (await call(api.url, 'GET', `/jobs/${job.id}/logs?limit=1`)).body;
    expect(page.logs).toHaveLength(1);
    expect(named('JobLogPage')(page), JSON.stringify(page)).toBe(true);
    expect(named('JobLogPage')({ logs: ['a line'], nextCursor: null })).toBe(false);
  });
});
