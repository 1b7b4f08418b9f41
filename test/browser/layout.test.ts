// What the pages show beyond their lists: section links on every page (and
// for a topic that has just appeared), feed lines, credits, images, and a
// phone layout that cuts nothing off.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, waitForState } from './browser.ts';
import { seed } from './seed.ts';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true };

describe('sections, credits and phones', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    await seed(server);
    await api(server, 'POST', '/api/v1/items', {
      id: 'layout-credits',
      headline: 'Harbour reopens after the storm',
      topics: ['weather'],
      byline: 'Jane Doe',
      source: 'Coastal Radio',
      image: { url: `${server.url}/assets/favicon.svg`, alt: 'Boats back at their moorings' },
    });
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
  });

  const sectionLinks = (html: string) => [...html.matchAll(/<a href="\/\?topics=([a-z0-9-]+)" data-topic/g)].map((match) => match[1]);

  it('a topic page links the other sections too, and names its topic once in the feed line', async () => {
    const html = await (await fetch(`${server.url}/?topics=weather`)).text();
    const links = sectionLinks(html);
    expect(links[0]).toBe('weather');
    expect(links).toEqual(expect.arrayContaining(['national', 'business', 'world']));
    const footer = /<footer[^>]*>(.*?)<\/footer>/s.exec(html)?.[1] ?? '';
    expect(footer).toContain('Follow Weather in a feed reader: <a href="/feeds/weather.rss">RSS</a>');
    expect(footer.match(/weather/gi)?.length).toBe(4);
  });

  it('a new topic gets a link: on the next first paint, and at once on an open front page', async () => {
    const front = await openPage(browser, `${server.url}/`);
    await waitForState(front.page, 'live');
    expect(await front.page.locator('nav.sections a[data-topic="elections"]').count()).toBe(0);
    await api(server, 'POST', '/api/v1/items', { headline: 'Polls open in the by-election', topics: ['elections'] });
    await front.page.locator('nav.sections a[data-topic="elections"]').waitFor();
    expect(await front.page.locator('nav.sections a[data-topic="elections"]').getAttribute('href')).toBe('/?topics=elections');
    expect(sectionLinks(await (await fetch(`${server.url}/`)).text())).toContain('elections');
    expect(front.problems).toEqual([]);
    await front.close();
  });

  it('tells byline from source, and shows no caption that repeats the alt text', async () => {
    const story = await openPage(browser, `${server.url}/items/layout-credits`);
    expect(await story.page.locator('.article-meta .byline').textContent()).toBe('By Jane Doe');
    expect(await story.page.locator('.article-meta .source').textContent()).toBe('Source: Coastal Radio');
    expect(await story.page.locator('figure img').getAttribute('alt')).toBe('Boats back at their moorings');
    expect(await story.page.locator('figcaption').count()).toBe(0);
    await story.close();
    const front = await (await fetch(`${server.url}/`)).text();
    expect(front).toContain('<span class="source">Source: Coastal Radio</span><span class="byline">By Jane Doe</span>');
  });

  it('the console’s live preview scrolls its last card fully into view', async () => {
    const desk = await openPage(browser, `${server.url}/newsroom`, { viewport: { width: 1600, height: 700 } });
    const stories = desk.page.locator('#preview');
    await stories.locator('.story').nth(4).waitFor();
    // Scrolled down the page (the panel stays in view) and to the end of the list.
    await desk.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const gap = await stories.evaluate((list) => {
      list.scrollTop = list.scrollHeight;
      const last = list.lastElementChild as HTMLElement;
      return Math.min(list.getBoundingClientRect().bottom, window.innerHeight) - last.getBoundingClientRect().bottom;
    });
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(desk.problems).toEqual([]);
    await desk.close();
  });

  it('on a phone: every section link in sight, no desktop-alerts button, console headlines given room', async () => {
    const phone = await openPage(browser, `${server.url}/`, PHONE);
    await waitForState(phone.page, 'live');
    const outside = await phone.page.locator('nav.sections a').evaluateAll((links) =>
      links.filter((link) => link.getBoundingClientRect().right > window.innerWidth).map((link) => link.textContent),
    );
    expect(outside).toEqual([]);
    expect(await phone.page.locator('#alerts-toggle').isVisible()).toBe(false);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);

    await phone.page.goto(`${server.url}/newsroom`);
    const row = phone.page.locator('#recent-list > li').first();
    await row.waitFor();
    // The buttons go under the headline: it keeps (nearly) the row's width.
    const [rowWidth, headlineWidth] = await row.evaluate((li) => [
      li.getBoundingClientRect().width,
      (li.querySelector('.recent-headline') as HTMLElement).getBoundingClientRect().width,
    ]);
    expect(headlineWidth / rowWidth).toBeGreaterThan(0.85);
    expect(phone.problems).toEqual([]);
    await phone.close();
  });
});
