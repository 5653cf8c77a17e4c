import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from './api-harness';
import { launchChromium } from './browser';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let api: RunningApi;
let browser: Browser;

beforeAll(async () => {
  api = await startApi(ctx);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await ctx.cleanup();
});

/**
 * A browser context in which every request to another host fails, as it would on a
 * machine without a network, and is written down.
 */
async function offlineContext(): Promise<{ context: BrowserContext; outside: string[] }> {
  const context = await browser.newContext();
  const ours = new URL(api.url).host;
  const outside: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.host === ours) return route.continue();
    outside.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  return { context, outside };
}

/** Each page of ours, and what shows that it has finished drawing itself. */
const pages: Array<[string, (page: Page) => Promise<unknown>]> = [
  ['/', (page) => page.waitForSelector('#type option[value="echo"]', { state: 'attached' })],
  ['/admin/queues', (page) => page.getByText('http.request', { exact: true }).first().waitFor({ timeout: 15000 })],
  ['/docs', (page) => page.locator('.opblock').first().waitFor({ timeout: 15000 })],
];

describe('our pages on a machine without a network', () => {
  it.each(pages)('%s asks nothing of any other host', async (path, drawn) => {
    const { context, outside } = await offlineContext();
    try {
      const page = await context.newPage();
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
      await page.goto(`${api.url}${path}`);
      await drawn(page);
      await page.waitForLoadState('networkidle');
      expect(outside).toEqual([]);
      expect(failed).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('draws Bull Board in its own fonts (IBM Plex), served from here', async () => {
    const { context, outside } = await offlineContext();
    try {
      const page = await context.newPage();
      const fontFiles: string[] = [];
      page.on('response', (r) => {
        if (/\.woff2?$/.test(r.url())) fontFiles.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
      await page.goto(`${api.url}/admin/queues`);
      await page.getByText('http.request', { exact: true }).first().waitFor({ timeout: 15000 });
      const loaded = (await page.evaluate(
        'document.fonts.ready.then((set) => [...set].filter((f) => f.status === "loaded").map((f) => f.family.replace(/"/g, "")))',
      )) as string[];
      expect(new Set(loaded)).toContain('IBM Plex Sans');
      expect(fontFiles.length).toBeGreaterThan(0);
      for (const f of fontFiles) expect(f).toMatch(/^200 \/admin\/queues\/fonts\/ibm-plex-(sans|mono)\/files\//);
      expect(outside).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
