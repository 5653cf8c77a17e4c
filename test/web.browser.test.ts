import { once } from 'node:events';
import { closeRedis, createLogger, createRedis } from '@async-jobs/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type JobWorker } from '../apps/worker/src/worker';
import { startApi, type RunningApi } from './api-harness';
import { artifact, launchChromium } from './browser';
import { createTestContext, expectedQueueNames, testRedis } from './helpers';

const ctx = createTestContext();
const TOKEN = 'browser-test-token';
let api: RunningApi;
let guarded: RunningApi;
let worker: JobWorker;
let browser: Browser;
const connection = createRedis(ctx.config(), 'blocking');
const redis = createRedis(ctx.config(), 'blocking');

beforeAll(async () => {
  [api, guarded] = await Promise.all([startApi(ctx), startApi(ctx, { API_TOKENS: TOKEN })]);
  // No seed listeners: the test reads the list to see what a click pushed.
  const config = ctx.config({ LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' });
  worker = createWorker({ config, connection, redis, logger: createLogger('worker', 'silent') });
  await worker.ready();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([api?.close(), guarded?.close()]);
  await worker?.close({ graceMs: 2000 });
  await Promise.all([closeRedis(connection), closeRedis(redis)]);
  await ctx.cleanup();
});

async function openPage(base: RunningApi): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    // A 401 from the token-less /types is expected on the guarded page; anything else is a bug.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
  });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(`${base.url}/`);
  return page;
}
const problemsOf = (page: Page) => (page as Page & { problems: string[] }).problems;

async function submit(page: Page, type: string, data: unknown) {
  await page.selectOption('#type', type);
  await page.fill('#data', JSON.stringify(data));
  await page.click('#submit');
}

describe('the index page', () => {
  it('submits an echo job and shows its result when it completes', async () => {
    const page = await openPage(api);
    try {
      expect(await page.title()).toBe('Redis Message Queue');
      await page.waitForSelector('#type option[value="echo"]', { state: 'attached' });
      // Every registered type is offered, and choosing one prefills an example.
      const offered = await page.$$eval('#type option', (os) => os.map((o) => (o as unknown as { value: string }).value));
      expect(offered).toEqual(expect.arrayContaining(['echo', 'sleep', 'hash', 'http.request']));
      await page.selectOption('#type', 'hash');
      expect(JSON.parse(await page.inputValue('#data'))).toMatchObject({ text: expect.any(String) });

      await submit(page, 'echo', { greeting: 'hello from the browser' });
      const card = page.locator('.job').first();
      await card.locator('.state', { hasText: 'completed' }).waitFor({ timeout: 15000 });
      expect(JSON.parse(await card.locator('.job-output').innerText())).toEqual({ greeting: 'hello from the browser' });
      await page.screenshot({ path: artifact('web-echo-completed.png'), fullPage: true });
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('follows several slow jobs at once, with live progress, to their ends', async () => {
    const page = await openPage(api);
    try {
      await page.waitForSelector('#type option[value="sleep"]', { state: 'attached' });
      // More jobs than the page holds streams for: the rest are polled, and the form stays usable.
      for (let i = 1; i <= 5; i++) {
        await submit(page, 'sleep', { ms: 2000 });
        await page
          .locator('.job')
          .nth(i - 1)
          .waitFor();
      }
      await page.locator('.job[data-state="active"] progress').first().waitFor({ timeout: 15000 });
      await page.screenshot({ path: artifact('web-sleep-active.png'), fullPage: true });
      await expect.poll(() => page.locator('.job[data-state="completed"]').count(), { timeout: 20000 }).toBe(5);
      const outputs = await page.locator('.job .job-output').allInnerTexts();
      expect(outputs.map((o) => JSON.parse(o))).toEqual(Array(5).fill({ sleptMs: 2000 }));
      expect(problemsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the API error, with the path of each problem, for invalid data', async () => {
    const page = await openPage(api);
    try {
      await page.waitForSelector('#type option[value="sleep"]', { state: 'attached' });
      await submit(page, 'sleep', { ms: -5 });
      const error = page.locator('#form-error');
      await error.waitFor();
      expect(await error.innerText()).toMatch(/validation_failed[\s\S]*HTTP 400[\s\S]*data\.ms/);
      await page.screenshot({ path: artifact('web-validation-error.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('sends /prodcons and /pubsub in place: the job list and its live stream stay, and the page says what it sent', async () => {
    const page = await openPage(api);
    const sub = testRedis();
    try {
      await page.waitForSelector('#type option[value="sleep"]', { state: 'attached' });
      await submit(page, 'sleep', { ms: 1500 });
      const card = page.locator('.job').first();
      await card.waitFor();
      // Gone if the page were loaded anew.
      await page.evaluate('window.beforeClick = true');

      const before = await ctx.redis.llen(ctx.keys.prodconsList);
      await page.click('#prodcons-link');
      const status = page.locator('#seed-status.ok', { hasText: 'exactly one worker' });
      await status.waitFor();
      expect(await ctx.redis.llen(ctx.keys.prodconsList)).toBe(before + 1);
      const pushed = await ctx.redis.lindex(ctx.keys.prodconsList, 0);
      expect(await status.innerText()).toContain(`LPUSH ${ctx.keys.prodconsList} ${pushed}:`);

      await sub.subscribe(ctx.keys.pubsubChannel);
      const published = once(sub, 'message');
      await page.click('#pubsub-link');
      const [, message] = await published;
      const said = page.locator('#seed-status.ok', { hasText: 'every subscribed worker' });
      await said.waitFor();
      expect(await said.innerText()).toContain(`PUBLISH ${ctx.keys.pubsubChannel} ${message}:`);

      expect(page.url()).toBe(`${api.url}/`);
      expect(await page.evaluate('window.beforeClick')).toBe(true);
      // The job followed before the clicks is still followed to its end.
      await card.locator('.state', { hasText: 'completed' }).waitFor({ timeout: 15000 });
      expect(JSON.parse(await card.locator('.job-output').innerText())).toEqual({ sleptMs: 1500 });
      await page.screenshot({ path: artifact('web-after-prodcons.png'), fullPage: true });
      expect(problemsOf(page)).toEqual([]);
    } finally {
      sub.disconnect();
      await page.close();
    }
  });

  it('keeps the links working without JavaScript: through /prodcons (303) and back to /', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${api.url}/`);
      const before = await ctx.redis.llen(ctx.keys.prodconsList);
      const hops: string[] = [];
      page.on('response', (r) => hops.push(`${r.status()} ${new URL(r.url()).pathname}`));
      await Promise.all([page.waitForURL(`${api.url}/`, { waitUntil: 'load' }), page.click('#prodcons-link')]);
      expect(hops.slice(0, 2)).toEqual(['303 /prodcons', '200 /']);
      expect(await ctx.redis.llen(ctx.keys.prodconsList)).toBe(before + 1);
    } finally {
      await context.close();
    }
  });

  it('links to Bull Board, which lists a queue per job type (per shard of a sharded one)', async () => {
    const page = await openPage(api);
    try {
      await Promise.all([page.waitForURL(/\/admin\/queues/), page.click('#board-link')]);
      // One queue per type, or per shard of a sharded type (`sleep~1`, `sleep~2`).
      for (const name of expectedQueueNames(ctx)) {
        await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15000 });
      }
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: artifact('web-bull-board.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});

describe('the index page with API_TOKENS set', () => {
  it('asks for a token, then submits with it and sends the queue clicks with it', async () => {
    const page = await openPage(guarded);
    const sub = testRedis();
    try {
      // Without a token, /types answers 401 and the page says so.
      await page.locator('#form-error', { hasText: 'unauthorized' }).waitFor();
      expect(await page.isDisabled('#submit')).toBe(true);
      // A worker runs: the page could not ask, and says that, not that none runs.
      await page.locator('#ops-status', { hasText: '/workers' }).waitFor();
      expect(await page.isHidden('#no-workers')).toBe(true);
      await page.screenshot({ path: artifact('web-token-needed.png'), fullPage: true });

      await page.fill('#token', TOKEN);
      await page.press('#token', 'Tab');
      await page.waitForSelector('#type option[value="echo"]', { state: 'attached' });
      await page.locator('#workers-rows tr').first().waitFor();
      expect(await page.isHidden('#no-workers')).toBe(true);
      await submit(page, 'echo', { with: 'token' });
      const card = page.locator('.job').first();
      await card.locator('.state', { hasText: 'completed' }).waitFor({ timeout: 15000 });
      expect(JSON.parse(await card.locator('.job-output').innerText())).toEqual({ with: 'token' });

      // A link cannot carry the token; the page's fetch does.
      await sub.subscribe(ctx.keys.pubsubChannel);
      const published = once(sub, 'message');
      await page.click('#pubsub-link');
      const [, message] = await published;
      expect(message).toMatch(/^[0-9]$/);
      await page.locator('#seed-status.ok', { hasText: 'every subscribed worker' }).waitFor();
      expect(page.url()).toBe(`${guarded.url}/`);
      // The token stays for this tab only.
      expect(await page.evaluate('Object.values(sessionStorage)')).toContain(TOKEN);
      await page.screenshot({ path: artifact('web-with-token.png'), fullPage: true });
      expect(problemsOf(page)).toEqual([]);
    } finally {
      sub.disconnect();
      await page.close();
    }
  });
});
