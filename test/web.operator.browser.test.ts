import { closeRedis, createLogger, createRedis } from '@async-jobs/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type JobWorker } from '../apps/worker/src/worker';
import { call, startApi, type RunningApi } from './api-harness';
import { artifact, launchChromium } from './browser';
import { createTestContext } from './helpers';

/** The index page's operator panels and flow form, driven in Chromium against a real API and worker. */
const ctx = createTestContext();
let api: RunningApi;
let worker: JobWorker;
let browser: Browser;
const connection = createRedis(ctx.config(), 'blocking');
const redis = createRedis(ctx.config(), 'blocking');

beforeAll(async () => {
  api = await startApi(ctx);
  const config = ctx.config({ LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' });
  worker = createWorker({ config, connection, redis, logger: createLogger('worker', 'silent') });
  await worker.ready();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await worker?.close({ graceMs: 2000 });
  await Promise.all([closeRedis(connection), closeRedis(redis)]);
  await ctx.cleanup();
});

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(`${api.url}/`);
  return { page, problems };
}

describe('the index page for an operator', () => {
  it('pauses a type with its button (its job waits), shows the count, and resumes it (the job runs)', async () => {
    const { page, problems } = await openPage();
    try {
      const row = page.locator('#types-rows tr[data-type="sleep"]');
      await row.locator('button', { hasText: 'Pause' }).click();
      await row.locator('td', { hasText: 'paused' }).waitFor();
      expect((await call(api.url, 'GET', '/types')).body.types.find((t: { name: string }) => t.name === 'sleep').paused).toBe(true);

      const submitted = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1 } });
      // The next refresh counts it as waiting, and it does not run while paused.
      await row.locator('td.count-waiting', { hasText: /^1$/ }).waitFor();
      expect((await call(api.url, 'GET', `/jobs/${submitted.body.id}`)).body.state).toBe('queued');

      await row.locator('button', { hasText: 'Resume' }).click();
      await row.locator('td', { hasText: 'running' }).waitFor();
      expect((await call(api.url, 'GET', `/jobs/${submitted.body.id}/result?wait=10`)).body.state).toBe('completed');
      expect(problems).toEqual([]);
    } finally {
      await call(api.url, 'POST', '/types/sleep/resume');
      await page.close();
    }
  });

  it('shows how many queues each type is spread over, as GET /types says (echo in 3 shards here)', async () => {
    // An API of its own with echo in three shards, whatever layout the suite runs with; its
    // page needs no worker, only /types.
    const sharded = createTestContext({ QUEUE_SHARDS: 'echo=3' });
    const shardedApi = await startApi(sharded);
    const page = await browser.newPage();
    try {
      const types = (await call(shardedApi.url, 'GET', '/types')).body.types as { name: string; shards: number }[];
      expect(types.find((t) => t.name === 'echo')?.shards).toBe(3);
      await page.goto(`${shardedApi.url}/`);
      const shown = async (type: string) => page.locator(`#types-rows tr[data-type="${type}"] td.shards`).innerText();
      await page.locator('#types-rows tr[data-type="echo"]').waitFor();
      expect(await shown('echo')).toBe('3');
      for (const t of types) expect(await shown(t.name), t.name).toBe(String(t.shards));
      expect(await page.locator('#types-table thead th').nth(2).innerText()).toBe('shards');
    } finally {
      await page.close();
      await shardedApi.close();
      await sharded.cleanup();
    }
  });

  it('lists the running worker and a schedule made through the API', async () => {
    const put = await call(api.url, 'PUT', '/schedules/page-test', { type: 'echo', data: { from: 'schedule' }, every: 3_600_000 });
    expect(put.status).toBe(201);
    const { page, problems } = await openPage();
    try {
      await page.locator('#schedules-rows tr', { hasText: 'page-test' }).waitFor();
      expect(await page.locator('#schedules-rows tr', { hasText: 'page-test' }).innerText()).toContain('every 3600000 ms');
      await page.locator('#workers-rows tr', { hasText: `:${process.pid}` }).waitFor();
      expect(await page.locator('#workers-rows tr', { hasText: `:${process.pid}` }).innerText()).toContain('echo');
      await page.screenshot({ path: artifact('web-operator-panels.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await call(api.url, 'DELETE', '/schedules/page-test');
      await page.close();
    }
  });

  it('submits a flow of three echo children and a collect parent, and shows the parent ending with their results', async () => {
    const { page, problems } = await openPage();
    try {
      await page.waitForSelector('#flow-child-type option[value="echo"]', { state: 'attached' });
      await page.fill('#flow-children', '3');
      await page.selectOption('#flow-child-type', 'echo');
      await page.fill('#flow-child-data', '{"n":7}');
      await page.click('#flow-submit');
      // The parent's card is on top once every card is in.
      await page.locator('.job').nth(3).waitFor();
      const parent = page.locator('.job').first();
      expect(await parent.locator('.job-type').innerText()).toBe('collect');
      await parent.locator('.state', { hasText: 'completed' }).waitFor({ timeout: 15000 });
      const result = JSON.parse(await parent.locator('.job-output').innerText());
      expect(result.results).toHaveLength(3);
      expect(result.results.map((r: { result: unknown }) => r.result)).toEqual([{ n: 7 }, { n: 7 }, { n: 7 }]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
