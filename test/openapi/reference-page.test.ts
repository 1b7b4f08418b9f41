// The API reference page in a real Chromium, light and dark: it loads with
// no CSP violation or script error, and axe finds nothing to fix.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, screenshot } from '../browser/browser.ts';
import { cleanup, startServer, type TestServer } from '../support/server.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await cleanup();
});

interface AxeResult {
  violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
}

const axeRun = async (page: Page, run: string) => {
  const result = (await page.evaluate(run)) as AxeResult;
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
};

describe('/docs/api in a browser', () => {
  // axe reads a long page: tens of seconds on a busy machine.
  it('reads without errors and passes axe, light and dark', async () => {
    const watched = await openPage(browser, `${server.url}/docs/api`, { colorScheme: 'light' });
    try {
      const { page } = watched;
      await expect.poll(() => page.locator('h1').textContent()).toBe('API reference');
      // Stylesheets from /assets applied: the method badges are filled.
      const badge = await page.locator('.api-method-post').first().evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(badge).toBe('rgb(10, 107, 43)');
      // Evaluated over the DevTools protocol, not as a page script: the CSP stays as served.
      await page.evaluate(AXE_SOURCE);
      // Every rule on the whole page, light.
      expect(await axeRun(page, 'axe.run(document, { resultTypes: ["violations"] })')).toEqual([]);
      await screenshot(page, 'api-reference-light');
      // Dark: only what the scheme changes, contrast, on parts that hold
      // every kind of element (the page repeats them).
      await page.emulateMedia({ colorScheme: 'dark' });
      const paper = await page.locator('body').evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(paper).toBe('rgb(18, 18, 18)');
      expect(
        await axeRun(
          page,
          'axe.run({ include: [[".masthead"], [".api-toc"], ["#tag-items"], ["#tag-feeds"], ["#tag-live"], [".site-footer"]] }, { resultTypes: ["violations"], runOnly: ["color-contrast"] })',
        ),
      ).toEqual([]);
      await screenshot(page, 'api-reference-dark');
      expect(watched.problems).toEqual([]);
    } finally {
      await watched.close();
    }
  }, 120_000);
});
