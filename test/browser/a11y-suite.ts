// Accessibility as a tested property: axe-core on every page and state, in
// light and dark, on a desktop and on a phone. Serious and critical
// violations fail the test, each named with its targets. Two files run it,
// the reader's pages and the console's states, so each stays short.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, startServer, type TestServer } from '../support/server.ts';
import { axeFindings, describeFindings } from './axe.ts';
import { launchBrowser, newViewContext, waitForLiveIfConnected } from './browser.ts';
import { openFlashConfirmation, showFieldErrors } from './console-states.ts';
import { seedStory, seedWithCorrection } from './seed.ts';

/**
 * Light runs every rule. The dark scheme changes colours only (the same
 * markup and layout), so dark runs check what colours decide: contrast.
 */
const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];
const VIEWS = [
  { name: 'desktop-light', viewport: { width: 1280, height: 900 }, isMobile: false, colorScheme: 'light', rules: undefined },
  { name: 'desktop-dark', viewport: { width: 1280, height: 900 }, isMobile: false, colorScheme: 'dark', rules: COLOUR_RULES },
  { name: 'phone-light', viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'light', rules: undefined },
  { name: 'phone-dark', viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark', rules: COLOUR_RULES },
] as const;

export function accessibilitySuite(part: 'pages' | 'console'): void {
  describe(`accessibility of the ${part} (axe-core: no serious or critical violation)`, () => {
    let server: TestServer;
    let browser: Browser;
    const problems: string[] = [];

    beforeAll(async () => {
      [server, browser] = await Promise.all([startServer(), launchBrowser()]);
      await seedWithCorrection(server);
      await api(server, 'POST', '/api/v1/items', {
        id: 'a11y-flash',
        headline: 'Parliament dissolved; general election called for next month',
        topics: ['politics', 'national'],
        priority: 'flash',
        byline: 'Political desk',
        source: 'Newswire',
        image: { url: 'https://images.example.com/parliament.jpg', alt: 'The parliament building at dusk' },
        body: 'The prime minister announced the dissolution at noon.',
      });
      await api(server, 'POST', '/api/v1/items', { id: 'a11y-killed', headline: 'A story that was killed', topics: ['world'] });
      await api(server, 'DELETE', '/api/v1/items/a11y-killed', { reason: 'Legal: the report named a protected witness' });
    });

    afterAll(async () => {
      try {
        await browser?.close();
      } finally {
        await cleanup();
      }
    });

    async function check(page: Page, where: string, rules: readonly string[] | undefined): Promise<string[]> {
      const findings = await axeFindings(page, rules ? [...rules] : undefined);
      return describeFindings(where, findings);
    }

    /** Reader-side pages: front, topic, stories (plain, corrected, with image), withdrawn, refused, missing. */
    const READER_PAGES = [
      ['reader', '/'],
      ['topic', '/?topics=world'],
      ['story', '/items/wire-quake'],
      ['corrected story', `/items/${seedStory.publish.id}`],
      ['story with image', '/items/a11y-flash'],
      ['withdrawn story', '/items/a11y-killed'],
      ['refused topics', '/?topics=NOPE!!'],
      ['missing story', '/items/no-such-story'],
    ] as const;

    for (const view of VIEWS) {
      it(`${view.name}: ${part === 'pages' ? 'reader pages and stories' : 'the console in every state'}`, async () => {
        const context = await newViewContext(browser, view);
        const page = await context.newPage();
        page.on('pageerror', (error) => problems.push(`${view.name} pageerror: ${error.message}`));
        const failures: string[] = [];
        try {
          for (const [state, path] of part === 'pages' ? READER_PAGES : []) {
            await page.goto(`${server.url}${path}`);
            await waitForLiveIfConnected(page);
            failures.push(...(await check(page, `${view.name} ${state} (${path})`, view.rules)));
          }

          if (part === 'pages') return;
          await page.goto(`${server.url}/newsroom`);
          await page.locator('#recent-list > li').first().waitFor();
          failures.push(...(await check(page, `${view.name} console, no token, empty form`, view.rules)));

          await page.locator('#token').fill(server.token);
          await page.locator('#token').press('Enter');
          await page.locator('#token-panel').waitFor({ state: 'hidden' });
          await showFieldErrors(page, 'NOT A TOPIC');
          failures.push(...(await check(page, `${view.name} console with field errors`, view.rules)));

          await page.locator('#clear').click();
          await openFlashConfirmation(page, 'Central bank raises rates by half a point', 'business');
          failures.push(...(await check(page, `${view.name} flash confirmation`, view.rules)));
          await page.keyboard.press('Escape');
          await page.locator('#flash-dialog').waitFor({ state: 'hidden' });
          await page.locator('#kill-list > li').first().waitFor();
          failures.push(...(await check(page, `${view.name} console with the kill list and readers`, view.rules)));

          await page.locator('#recent-list button[data-action="withdraw"]').first().click();
          await page.locator('#withdraw-dialog[open]').waitFor();
          failures.push(...(await check(page, `${view.name} withdraw dialog`, view.rules)));
          await page.keyboard.press('Escape');
          await page.locator('#withdraw-dialog').waitFor({ state: 'hidden' });

          await page.locator('#recent-list button[data-action="history"]').first().click();
          await page.locator('#history-dialog[open] #history-list > li').first().waitFor();
          failures.push(...(await check(page, `${view.name} history dialog`, view.rules)));
          await page.keyboard.press('Escape');
          await page.locator('#history-dialog').waitFor({ state: 'hidden' });
        } finally {
          await context.close();
          expect(failures, failures.join('\n')).toEqual([]);
        }
        // A loaded machine runs axe many times slower than an idle one (about 1 s a page).
      }, 180_000);
    }

    it.runIf(part === 'pages')('answers a refused page as a page, not as data', async () => {
      const response = await fetch(`${server.url}/?topics=NOPE!!`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('text/html');
      const text = await response.text();
      expect(text).toContain('<h1>This page cannot be shown</h1>');
      expect(text).not.toContain('"error"');
    });

    it('left no script errors', () => {
      expect(problems).toEqual([]);
    });
  });
}
