// `npm run screenshots`: every page and state of the site, on a desktop and
// on a phone, in light and dark, written to docs/screenshots/. It starts its
// own server with sample stories on a free port and a temporary data folder,
// drives Debian's Chromium, and stops both when done (or on failure).
//
// Names: <state>-<desktop|phone>-<light|dark>.png, plus reader.png,
// reader-phone.png and newsroom.png (the README's) for the light versions.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newViewContext, waitForLiveIfConnected } from '../test/browser/browser.ts';
import { openFlashConfirmation, showFieldErrors } from '../test/browser/console-states.ts';
import { seedStory, seedWithCorrection } from '../test/browser/seed.ts';
import { api, cleanup, startServer, type TestServer } from '../test/support/server.ts';

const OUT = fileURLToPath(new URL('../docs/screenshots', import.meta.url));
const LIVE_TIMEOUT_MS = 15_000;

const VARIANTS = [
  { device: 'desktop', scheme: 'light', viewport: { width: 1280, height: 860 }, isMobile: false },
  { device: 'desktop', scheme: 'dark', viewport: { width: 1280, height: 860 }, isMobile: false },
  { device: 'phone', scheme: 'light', viewport: { width: 390, height: 844 }, isMobile: true },
  { device: 'phone', scheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true },
] as const;

/** The README's file names for some light screenshots. */
const ALIASES: Record<string, string> = {
  'reader-desktop-light': 'reader.png',
  'reader-phone-light': 'reader-phone.png',
  'newsroom-desktop-light': 'newsroom.png',
};

async function sampleStories(server: TestServer): Promise<void> {
  await seedWithCorrection(server);
  await api(server, 'POST', '/api/v1/items', {
    id: 'sample-killed',
    headline: 'Minister to resign over expenses claims, sources say',
    topics: ['politics'],
  });
  await api(server, 'DELETE', '/api/v1/items/sample-killed', { reason: 'The report could not be confirmed: the minister remains in office' });
  await api(server, 'POST', '/api/v1/items', {
    id: 'sample-flash',
    headline: 'Parliament dissolved; general election called for next month',
    summary: 'The prime minister announced the dissolution at noon after losing a confidence vote by three votes.',
    body: 'The prime minister announced the dissolution at noon after losing a confidence vote by three votes.\n\nThe election will be held on the first Thursday of next month.',
    topics: ['politics', 'national'],
    priority: 'flash',
    byline: 'Political desk',
    source: 'Newswire',
  });
}

async function shot(page: Page, name: string, written: string[]): Promise<void> {
  // Time for entrance animations to settle and images to fail or load.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const file = join(OUT, ALIASES[name] ?? `${name}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  written.push(file);
}

async function capture(browser: Browser, server: TestServer, written: string[]): Promise<void> {
  for (const variant of VARIANTS) {
    const suffix = `${variant.device}-${variant.scheme}`;
    const context = await newViewContext(browser, { viewport: variant.viewport, isMobile: variant.isMobile, colorScheme: variant.scheme, reducedMotion: 'reduce' });
    const page = await context.newPage();
    try {
      const pages: [string, string][] = [
        ['reader', '/'],
        ['topic', '/?topics=politics'],
        ['story', '/items/wire-storm-warning'],
        ['story-corrected', `/items/${seedStory.publish.id}`],
        ['story-withdrawn', '/items/sample-killed'],
        ['page-refused', '/?topics=NOPE!!'],
      ];
      for (const [state, path] of pages) {
        await page.goto(`${server.url}${path}`);
        await waitForLiveIfConnected(page, LIVE_TIMEOUT_MS);
        await shot(page, `${state}-${suffix}`, written);
      }

      await page.goto(`${server.url}/newsroom`);
      await waitForLiveIfConnected(page, LIVE_TIMEOUT_MS);
      await page.locator('#recent-list > li').first().waitFor();
      await shot(page, `newsroom-token-${suffix}`, written);
      await page.locator('#token').fill(server.token);
      await page.locator('#token').press('Enter');
      await page.locator('#kill-list > li').first().waitFor();
      await page.locator('#readers-list .readers-row').first().waitFor({ timeout: 10_000 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, `newsroom-${suffix}`, written);

      await showFieldErrors(page, 'Not A Topic');
      await shot(page, `newsroom-errors-${suffix}`, written);
      await page.locator('#clear').click();

      await openFlashConfirmation(page, 'Central bank raises interest rates by half a point', 'business, markets');
      await shot(page, `newsroom-flash-confirm-${suffix}`, written);
      await page.keyboard.press('Escape');

      await page.locator('#recent-list button[data-action="withdraw"]').first().click();
      await page.locator('#withdraw-dialog[open]').waitFor();
      await page.locator('#withdraw-reason').fill('Legal: the report named a protected witness');
      await shot(page, `newsroom-withdraw-${suffix}`, written);
      await page.keyboard.press('Escape');
    } finally {
      await context.close();
    }
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const written: string[] = [];
  let browser: Browser | undefined;
  try {
    const [server, launched] = await Promise.all([startServer(), launchBrowser()]);
    browser = launched;
    await sampleStories(server);
    await capture(browser, server, written);
  } finally {
    await browser?.close().catch(() => {});
    await cleanup();
  }
  const bytes = written.reduce((sum, file) => sum + statSync(file).size, 0);
  console.log(`${written.length} screenshots in docs/screenshots (${Math.round(bytes / 1024)} KiB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
