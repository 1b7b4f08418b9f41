// A story page's JSON-LD in a real Chromium under the server's
// Content-Security-Policy: the data block is neither executed nor reported
// as a violation, a hostile headline stays text, and the block reads back as
// the article. A control inline script shows that violations are seen. A kill
// with the page open takes the story out of the head too.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, publishOk, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser } from './browser.ts';

const HOSTILE = `Crisis "talks" </script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & more`;

describe('structured data in the browser', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
  });

  it('JSON-LD obeys the CSP: not executed, not flagged, and parses back to the article', async () => {
    const { item } = await publishOk(server, { headline: HOSTILE, summary: 'A <summary> "quoted"', byline: 'Ana Lima' });
    const context = await browser.newContext();
    try {
      // Before any of the page's own markup is parsed: every violation it causes is recorded.
      await context.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __violations: string[] }).__violations = seen;
        document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
      });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      const response = await page.goto(`${server.url}/items/${encodeURIComponent(item.id)}`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
      await page.waitForLoadState('load');

      const state = await page.evaluate(() => {
        const blocks = [...document.querySelectorAll('script[type="application/ld+json"]')];
        return {
          violations: (window as unknown as { __violations: string[] }).__violations.slice(),
          pwned: (window as unknown as { __pwned?: number }).__pwned,
          blocks: blocks.map((block) => block.textContent ?? ''),
          scripts: document.scripts.length,
          heading: document.querySelector('h1')?.textContent,
          ogTitle: document.querySelector('meta[property="og:title"]')?.getAttribute('content'),
          canonical: document.querySelector('link[rel="canonical"]')?.getAttribute('href'),
        };
      });
      expect(state.violations).toEqual([]);
      expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
      expect(state.pwned).toBeUndefined();
      expect(state.scripts).toBe(2);
      expect(state.blocks).toHaveLength(1);
      const article = JSON.parse(state.blocks[0] as string);
      expect(article['@type']).toBe('NewsArticle');
      expect(article.headline).toBe(HOSTILE);
      expect(article.description).toBe('A <summary> "quoted"');
      expect(state.heading).toBe(HOSTILE);
      expect(state.ogTitle).toBe(HOSTILE);
      expect(state.canonical).toMatch(/\/items\//);

      // The control: an inline script that would run is refused, and seen.
      await page.evaluate(() => {
        const inline = document.createElement('script');
        inline.textContent = 'window.__pwned = 3';
        document.head.append(inline);
      });
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.join('\n')))
        .toMatch(/script-src/);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

      // A kill while the page is open: the head keeps nothing of the story either.
      expect((await api(server, 'DELETE', `/api/v1/items/${encodeURIComponent(item.id)}`, { reason: 'Legal' })).status).toBe(200);
      await expect.poll(() => page.locator('#article-notice').textContent(), { timeout: 15_000 }).toBe('This story was withdrawn: Legal');
      expect(
        await page.evaluate(() =>
          document.head.querySelectorAll('script[type="application/ld+json"], meta[property^="og:"], meta[property^="article:"], meta[name^="twitter:"], meta[name="description"]').length,
        ),
      ).toBe(0);
      expect(await page.evaluate(() => document.head.innerHTML)).not.toContain('Crisis');
    } finally {
      await context.close();
    }
  });
});
