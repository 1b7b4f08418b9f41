// The reader page in a real Chromium against a real server.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, screenshot, type WatchedPage, waitForState } from './browser.ts';
import { seedStory, seedWithCorrection } from './seed.ts';

const HOSTILE = `<script>window.__pwned = 'script'</script><img src=x onerror="window.__pwned='img';alert(1)"> & "quotes"`;

describe('reader page', () => {
  let server: TestServer;
  let browser: Browser;
  let reader: WatchedPage;
  let page: Page;

  const ids = () => page.locator('#stories > article').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.id));

  const publish = async (fields: Record<string, unknown> = {}) => (await publishOk(server, fields)).item;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    await seedWithCorrection(server);
    // One story carries an image on a host that does not resolve here: the page must hide it, not break.
    reader = await openPage(browser, `${server.url}/`, { allow: ['ERR_NAME_NOT_RESOLVED'] });
    page = reader.page;
    await waitForState(page, 'live');
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
    // Checked after cleaning up, so a failure here leaves nothing running.
    expect(reader?.problems ?? []).toEqual([]);
    expect(reader?.dialogs ?? []).toEqual([]);
  });

  it('paints the latest stories on the server, links its feeds and runs under a strict CSP', async () => {
    const response = await page.request.get(`${server.url}/`);
    const csp = response.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("connect-src 'self';");
    const html = await response.text();
    // First paint holds the stories and the cursor they match, without any script.
    expect(html).toContain(`id="item-${seedStory.publish.id}"`);
    expect(html).toMatch(/data-cursor="[A-Za-z0-9]+-\d+"/);
    expect(html).not.toMatch(/<script>|<style>| style="| on[a-z]+="/);
    const feeds = await page.locator('link[rel="alternate"]').evaluateAll((links) =>
      links.map((l) => `${l.getAttribute('type')} ${l.getAttribute('href')}`),
    );
    expect(feeds).toEqual([
      'application/rss+xml /feeds/all.rss',
      'application/atom+xml /feeds/all.atom',
      'application/feed+json /feeds/all.json',
    ]);
    expect(await ids()).toEqual([seedStory.publish.id, 'wire-quake', 'wire-cycle-lanes', 'wire-storm-warning', 'wire-markets-open']);
    // The seed story was corrected before the page loaded: the mark is server-rendered.
    const lead = page.locator(`#item-${seedStory.publish.id}`);
    await expect.poll(() => lead.locator('.updated-mark').textContent()).toBe('Updated');
    expect(await lead.locator('.change-note').textContent()).toBe(seedStory.update.changeNote);
    expect(await page.locator('#connection').textContent()).toBe('Live');
  });

  it('shows a story published through the API within a second, on top', async () => {
    const started = Date.now();
    const item = await publish({ headline: 'Parliament passes the budget after an all-night sitting', topics: ['politics'] });
    await page.locator(`#item-${item.id}`).waitFor({ timeout: 1_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await ids())[0]).toBe(item.id);
    expect(await page.locator(`#item-${item.id} .story-headline`).textContent()).toBe(item.headline);
    // Polite announcements are gathered for a moment, so a burst is read as one sentence.
    await expect.poll(() => page.locator('#announce-polite').textContent(), { timeout: 5_000 }).toContain(item.headline);
  });

  it('replaces a corrected story in place, with an "updated" mark and the change note', async () => {
    const a = await publish({ headline: 'Wildfire forces the evacuation of two hillside villages', topics: ['national'], source: 'Newswire' });
    const b = await publish({
      headline: 'Retail sales rose 0.4% in March',
      summary: 'Spending on food and fuel drove the increase, the statistics office said.',
      topics: ['business'],
      source: 'Newswire',
    });
    const c = await publish({ headline: 'Ferry services resume on the northern routes', topics: ['transport'], source: 'Newswire' });
    await page.locator(`#item-${c.id}`).waitFor();
    const before = await ids();
    const res = await api(server, 'PUT', `/api/v1/items/${b.id}`, {
      ...newItem({ id: b.id }),
      headline: 'Retail sales rose 0.3% in March',
      summary: 'Spending on food and fuel drove the increase, the statistics office said.',
      topics: ['business'],
      source: 'Newswire',
      changeNote: 'Corrects the figure in the headline',
    });
    expect(res.status).toBe(200);
    const card = page.locator(`#item-${b.id}`);
    await expect.poll(() => card.getAttribute('data-version')).toBe('2');
    expect(await card.locator('.story-headline').textContent()).toBe('Retail sales rose 0.3% in March');
    expect(await card.locator('.updated-mark').textContent()).toBe('Updated');
    expect(await card.locator('.change-note').textContent()).toBe('Corrects the figure in the headline');
    expect(await ids()).toEqual(before);
    expect(await page.locator(`[data-id="${a.id}"]`).count()).toBe(1);
    expect(await page.locator(`[data-id="${b.id}"]`).count()).toBe(1);
  });

  it('removes a withdrawn story', async () => {
    const item = await publish({ headline: 'A story that will be withdrawn' });
    await page.locator(`#item-${item.id}`).waitFor();
    const res = await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'Legal' });
    expect(res.status).toBe(200);
    await page.locator(`#item-${item.id}`).waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('#announce-polite').textContent(), { timeout: 5_000 }).toMatch(/withdrawn/i);
  });

  it('drops a story when it expires, without an event', async () => {
    const item = await publish({ headline: 'Road closed until noon', expiresAt: new Date(Date.now() + 2_500).toISOString() });
    const card = page.locator(`#item-${item.id}`);
    await card.waitFor();
    expect(await card.getAttribute('data-expires')).toBe(item.expiresAt);
    await card.waitFor({ state: 'detached', timeout: 5_000 });
  });

  it('makes a flash stand out: banner, colour, and an assertive announcement', async () => {
    const item = await publish({
      headline: 'Central bank raises its benchmark rate by half a point in a surprise move',
      summary: 'The increase, the largest in two decades, takes the main rate to 4.75%. Markets had expected a quarter point.',
      topics: ['business', 'world'],
      priority: 'flash',
      source: 'Newswire',
    });
    const card = page.locator(`#item-${item.id}`);
    await card.waitFor();
    expect(await card.getAttribute('class')).toContain('priority-flash');
    expect(await card.locator('.label-flash').textContent()).toBe('Flash');
    const border = await card.evaluate((el) => getComputedStyle(el).borderLeftColor);
    expect(border).toBe('rgb(179, 0, 27)');
    const banner = page.locator('#breaking');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.locator('.breaking-headline').textContent()).toBe(item.headline);
    const assertive = page.locator('[aria-live="assertive"]');
    expect(await assertive.count()).toBe(1);
    await expect.poll(() => assertive.textContent(), { timeout: 5_000 }).toBe(`Flash: ${item.headline}`);
    // Routine news never interrupts.
    expect(await page.locator('#announce-polite').getAttribute('aria-live')).toBe('polite');
    await page.waitForTimeout(400);
    await screenshot(page, 'reader', { docs: true });

    // The banner can be dismissed from the keyboard.
    await banner.locator('.breaking-close').focus();
    await page.keyboard.press('Enter');
    await banner.waitFor({ state: 'hidden' });
  });

  it('filters by topic, with that topic’s feeds, and stays readable on a phone', async () => {
    const phone = await openPage(browser, `${server.url}/?topics=world`, { viewport: { width: 390, height: 844 }, isMobile: true });
    await waitForState(phone.page, 'live');
    const feeds = await phone.page.locator('link[rel="alternate"]').evaluateAll((links) => links.map((l) => l.getAttribute('href')));
    expect(feeds).toEqual(['/feeds/world.rss', '/feeds/world.atom', '/feeds/world.json']);
    expect(await phone.page.locator('h1').textContent()).toBe('World');
    const sport = await publish({ topics: ['sport'], headline: 'Not on the world page' });
    const world = await publish({ topics: ['world'], headline: 'Magnitude 6.2 earthquake strikes off the northern coast' });
    await phone.page.locator(`#item-${world.id}`).waitFor();
    expect(await phone.page.locator(`#item-${sport.id}`).count()).toBe(0);
    // Nothing wider than the screen.
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone.page, 'reader-phone', { docs: true });
    expect(phone.problems).toEqual([]);
    await phone.close();
  });
  it('keeps a scrolled-down reader in place and offers to jump to new stories', async () => {
    const watched = await openPage(browser, `${server.url}/`, { viewport: { width: 1024, height: 400 } });
    const { page: p } = watched;
    await waitForState(p, 'live');
    await p.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const anchor = p.locator('#stories > article').last();
    const before = await anchor.evaluate((el) => el.getBoundingClientRect().top);
    const item = await publish({ headline: 'A story that arrives while the reader is further down' });
    await p.locator(`#item-${item.id}`).waitFor();
    const pill = p.locator('#new-stories');
    await pill.waitFor({ state: 'visible' });
    expect(await pill.textContent()).toBe('↑ 1 new story');
    // Scroll anchoring: what the reader was looking at did not move.
    const after = await anchor.evaluate((el) => el.getBoundingClientRect().top);
    expect(Math.abs(after - before)).toBeLessThan(2);
    await pill.click();
    await expect.poll(() => p.evaluate(() => window.scrollY)).toBe(0);
    expect(await p.evaluate(() => document.activeElement?.closest('article')?.dataset.id)).toBe(item.id);
    expect(await pill.isVisible()).toBe(false);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('offers desktop alerts for flash and bulletin, only after the reader opts in', async () => {
    const watched = await openPage(browser, `${server.url}/`);
    const { page: p, context } = watched;
    await context.grantPermissions(['notifications'], { origin: server.url });
    // Record the alerts the page raises, then let the real Notification do its work.
    await p.evaluate(() => {
      const Real = window.Notification;
      const shown: string[] = [];
      (window as unknown as { shown: string[] }).shown = shown;
      class Recorded extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push(title);
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recorded });
    });
    await waitForState(p, 'live');
    const toggle = p.locator('#alerts-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    const before = await publish({ priority: 'flash', headline: 'Not alerted: the reader has not opted in' });
    await p.locator(`#item-${before.id}`).waitFor();
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed')).toBe('true');
    const routine = await publish({ headline: 'Routine news raises no alert' });
    const bulletin = await publish({ priority: 'bulletin', headline: 'Bulletin raises an alert' });
    await p.locator(`#item-${bulletin.id}`).waitFor();
    await p.locator(`#item-${routine.id}`).waitFor();
    expect(await p.evaluate(() => (window as unknown as { shown: string[] }).shown)).toEqual(['Bulletin: Bulletin raises an alert']);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('a story corrected out of a topic, then killed: every open page follows it, and no page brings it back', async () => {
    const image = { url: `${server.url}/assets/favicon.svg`, alt: 'The delegations at the table' };
    const item = await publish({
      headline: 'Coalition talks stall over the budget',
      summary: 'Negotiators broke off after six hours without agreement on spending.',
      body: 'First paragraph of the talks.\n\nSecond paragraph, with the quotes.',
      topics: ['politics', 'business'],
      image,
    });
    const front = reader.page;
    const business = await openPage(browser, `${server.url}/?topics=business`);
    const story = await openPage(browser, `${server.url}/items/${item.id}`);
    const console = await openPage(browser, `${server.url}/newsroom`);
    await Promise.all([business, story, console].map((p) => waitForState(p.page, 'live')));
    const card = (p: Page) => p.locator(`#item-${item.id}`);
    await card(front).waitFor();
    expect(await card(business.page).count()).toBe(1);
    await console.page.locator(`#recent-list > li[data-id="${item.id}"]`).waitFor();
    expect(await story.page.locator('.article-body p').allTextContents()).toEqual([
      'First paragraph of the talks.',
      'Second paragraph, with the quotes.',
    ]);

    // A correction takes it out of business: that page drops it; the others show it corrected.
    const put = await api(server, 'PUT', `/api/v1/items/${item.id}`, {
      headline: 'Coalition talks stall over the budget and defence',
      summary: 'Negotiators broke off after six hours.',
      body: 'First paragraph, corrected.\n\nA new second paragraph.',
      topics: ['politics'],
      image,
      changeNote: 'Adds defence; moves the story to politics',
    });
    expect(put.status).toBe(200);
    await expect.poll(() => card(business.page).count()).toBe(0);
    await expect.poll(() => card(front).getAttribute('data-version')).toBe('2');
    expect(await card(front).locator('.change-note').textContent()).toBe('Adds defence; moves the story to politics');
    const article = story.page.locator('#main article');
    await expect.poll(() => article.locator('h1').textContent()).toBe('Coalition talks stall over the budget and defence');
    expect(await article.locator('.article-body p').allTextContents()).toEqual(['First paragraph, corrected.', 'A new second paragraph.']);
    expect(await article.locator('.change-note').textContent()).toBe('Adds defence; moves the story to politics');
    expect(await article.locator('.story-kicker .topic').allTextContents()).toEqual(['politics']);
    expect(await story.page.locator('#article-notice').textContent()).toBe('This story was updated: Adds defence; moves the story to politics');
    expect(await story.page.title()).toContain('Coalition talks stall over the budget and defence');

    // A kill: gone from every list; the story page keeps only the notice and the reason.
    expect((await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'Legal hold on the negotiation papers' })).status).toBe(200);
    await expect.poll(() => card(front).count()).toBe(0);
    await expect.poll(() => console.page.locator(`#recent-list > li[data-id="${item.id}"]`).count()).toBe(0);
    await expect.poll(() => story.page.locator('#article-notice').textContent()).toBe(
      'This story was withdrawn: Legal hold on the negotiation papers',
    );
    const text = (await story.page.locator('#main').textContent()) ?? '';
    for (const gone of ['Coalition talks', 'Negotiators', 'First paragraph', 'defence']) expect(text).not.toContain(gone);
    expect(await story.page.locator('#main img, #main .article-body, #main .article-standfirst').count()).toBe(0);
    expect(await story.page.title()).not.toContain('Coalition');
    await screenshot(story.page, 'story-withdrawn');

    // Nothing brings it back: first paints, the list, feeds and a stale cursor's reset all leave it out.
    await business.page.reload();
    await waitForState(business.page, 'live');
    expect(await card(business.page).count()).toBe(0);
    const gone = await story.page.request.get(`${server.url}/items/${item.id}`);
    expect(gone.status()).toBe(410);
    expect(await gone.text()).toContain('Legal hold on the negotiation papers');
    expect(await gone.text()).not.toContain('Coalition talks');
    const listed = await api(server, 'GET', '/api/v1/items?limit=100');
    expect(listed.body.items.map((i: { id: string }) => i.id)).not.toContain(item.id);
    // The feed keeps only a withdrawal notice in its place: the reason, none of the story.
    const feed = await (await fetch(`${server.url}/feeds/politics.json`)).json();
    const notice = feed.items.find((entry: { id: string }) => entry.id.endsWith(item.id));
    expect(notice.title).toBe('WITHDRAWN: Legal hold on the negotiation papers');
    expect(JSON.stringify(notice)).not.toMatch(/Coalition|Negotiators|paragraph|favicon/);
    for (const watched of [business, story, console]) {
      expect(watched.problems).toEqual([]);
      await watched.close();
    }
  });

  it('renders hostile text as text: no markup, no script, no dialog', async () => {
    await page.evaluate(() => {
      (window as unknown as { __pwned?: string }).__pwned = undefined;
    });
    const item = await publish({ headline: HOSTILE, summary: HOSTILE, source: HOSTILE, priority: 'bulletin' });
    const card = page.locator(`#item-${item.id}`);
    await card.waitFor();
    expect(await card.locator('.story-headline').textContent()).toBe(HOSTILE);
    expect(await card.locator('.story-summary').textContent()).toBe(HOSTILE);
    expect(await page.locator('#breaking .breaking-headline').textContent()).toBe(HOSTILE);
    expect(await page.locator('img[src="x"], #stories script').count()).toBe(0);

    // The server-rendered list and the story page escape it too.
    await page.reload();
    await waitForState(page, 'live');
    expect(await page.locator(`#item-${item.id} .story-headline`).textContent()).toBe(HOSTILE);
    const story = await openPage(browser, `${server.url}/items/${encodeURIComponent(item.id)}`);
    expect(await story.page.locator('h1').textContent()).toBe(HOSTILE);
    expect(await story.page.title()).toContain(HOSTILE);
    expect(await story.page.locator('img[src="x"]').count()).toBe(0);
    await page.waitForTimeout(200);
    for (const p of [page, story.page]) {
      expect(await p.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    }
    expect(story.dialogs).toEqual([]);
    expect(story.problems).toEqual([]);
    await story.close();
  });

  it('builds live cards with the same markup the server renders', async () => {
    const item = await publish({
      headline: 'Markup check',
      summary: 'Same on both sides',
      topics: ['world', 'science'],
      priority: 'urgent',
      source: 'Newswire',
      byline: 'A. Reporter',
      language: 'en',
      image: { url: 'https://images.example.com/a.jpg', alt: 'A picture' },
    });
    await api(server, 'PUT', `/api/v1/items/${item.id}`, { ...newItem({ id: item.id }), headline: 'Markup check', topics: ['world', 'science'], priority: 'urgent', changeNote: 'Note' });
    const card = page.locator(`#item-${item.id}`);
    await expect.poll(() => card.getAttribute('data-version')).toBe('2');
    // Times differ in wording (server: UTC, browser: its locale); structure must not.
    const normalise = (html: string) => html.replace(/<time([^>]*?) title="[^"]*"([^>]*)>[^<]*<\/time>/g, '<time$1$2></time>');
    const live = normalise(await card.evaluate((el) => el.outerHTML));
    await page.reload();
    await waitForState(page, 'live');
    const rendered = normalise(await page.locator(`#item-${item.id}`).evaluate((el) => el.outerHTML));
    expect(live.replace(' fresh', '')).toBe(rendered);
  });
});
