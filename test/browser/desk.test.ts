// The console as a breaking desk uses it, from the keyboard only: the flash
// path and its confirmation, publish, correct and withdraw with focus landing
// on what happened, the kill list, the readers count; and what screen readers
// are told on the reader and story pages, once each.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, type WatchedPage, waitForState } from './browser.ts';
import { seed } from './seed.ts';

/** Records what each live region of the page says, in order (cleared regions are not speech). */
async function listen(page: Page): Promise<void> {
  await page.evaluate(() => {
    const spoken: Record<string, string[]> = { polite: [], assertive: [] };
    (window as unknown as { spoken: typeof spoken }).spoken = spoken;
    for (const [kind, id] of [
      ['polite', 'announce-polite'],
      ['assertive', 'announce-assertive'],
    ] as const) {
      const region = document.getElementById(id);
      if (!region) continue;
      new MutationObserver(() => {
        const text = region.textContent?.replace(/\u00a0$/, '').trim();
        if (text) spoken[kind]?.push(text);
      }).observe(region, { childList: true, characterData: true, subtree: true });
    }
  });
}

const spoken = (page: Page) => page.evaluate(() => (window as unknown as { spoken: Record<string, string[]> }).spoken);
const focused = (page: Page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

describe('the console for a breaking desk, by keyboard', () => {
  let server: TestServer;
  let browser: Browser;
  let desk: WatchedPage;
  let reader: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    await seed(server);
    desk = await openPage(browser, `${server.url}/newsroom`, { viewport: { width: 1440, height: 1000 }, allow: ['status of 400'] });
    page = desk.page;
    reader = await openPage(browser, `${server.url}/`);
    await Promise.all([waitForState(page, 'live'), waitForState(reader.page, 'live')]);
    await listen(reader.page);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
    expect(desk?.problems ?? []).toEqual([]);
    expect(reader?.problems ?? []).toEqual([]);
    expect([...(desk?.dialogs ?? []), ...(reader?.dialogs ?? [])]).toEqual([]);
  });

  const count = async () => (await api(server, 'GET', '/api/v1/items?limit=100')).body.items.length as number;

  it('takes the token from the keyboard, then shows the readers connected per topic', async () => {
    await page.locator('#token').focus();
    await page.keyboard.type(server.token);
    await page.keyboard.press('Enter');
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
    expect(await focused(page)).toBe('f-headline');
    // The reader page and this console follow every topic.
    await expect.poll(() => page.locator('#readers-total').textContent(), { timeout: 10_000 }).toMatch(/^[2-9]\d* connected$/);
    expect(await page.locator('#readers-list').textContent()).toContain('every topic');
    expect(await page.locator('#kill-status').textContent()).toContain('Nothing killed since');
  });

  it('sends a flash in a few keys: F, the headline, Enter, then Enter to confirm (Escape cancels)', async () => {
    const before = await count();
    await page.locator('#form-status').focus();
    await page.keyboard.press('f');
    expect(await focused(page)).toBe('flash-headline');
    await page.keyboard.type('Earthquake of magnitude 7.1 strikes the capital');
    // No topics yet: said, and the topics field takes focus.
    await page.keyboard.press('Enter');
    expect(await page.locator('#flash-error').textContent()).toContain('at least one topic');
    expect(await focused(page)).toBe('flash-topics');
    await page.keyboard.type('world, national');
    // Alt+Shift+F reaches the headline even while typing.
    await page.keyboard.press('Alt+Shift+F');
    expect(await focused(page)).toBe('flash-headline');

    await page.keyboard.press('Enter');
    await page.locator('#flash-dialog[open]').waitFor();
    expect(await focused(page)).toBe('flash-confirm-send');
    expect(await page.locator('#flash-confirm-headline').textContent()).toBe('Earthquake of magnitude 7.1 strikes the capital');
    expect(await page.locator('#flash-confirm-reach').textContent()).toContain('world, national');
    await page.keyboard.press('Escape');
    await page.locator('#flash-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('cancelled');
    await expect.poll(() => focused(page)).toBe('flash-headline');
    expect(await count()).toBe(before);

    await page.keyboard.press('Enter');
    await page.locator('#flash-dialog[open]').waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('Flash sent: “Earthquake of magnitude 7.1 strikes the capital”');
    expect(await focused(page)).toBe('form-status');
    expect(await page.locator('#flash-headline').inputValue()).toBe('');
    expect(await count()).toBe(before + 1);
    const [sent] = (await api(server, 'GET', '/api/v1/items?limit=1')).body.items;
    expect(sent).toMatchObject({ priority: 'flash', topics: ['world', 'national'] });

    // Readers are interrupted once, assertively, and told nothing politely about it.
    await reader.page.locator('#breaking', { hasText: 'Earthquake of magnitude 7.1' }).waitFor();
    await expect.poll(async () => (await spoken(reader.page)).assertive).toEqual(['Flash: Earthquake of magnitude 7.1 strikes the capital']);
    expect((await spoken(reader.page)).polite).toEqual([]);

    // The desk's topics are remembered on this device.
    await page.reload();
    await waitForState(page, 'live');
    expect(await page.locator('#flash-topics').inputValue()).toBe('world, national');

    // The single-key shortcut can be turned off (and that is remembered); Alt+Shift+F stays.
    await page.locator('#flash-single-key').uncheck();
    await page.reload();
    await waitForState(page, 'live');
    expect(await page.locator('#flash-single-key').isChecked()).toBe(false);
    await page.locator('#refresh').focus();
    await page.keyboard.press('f');
    expect(await focused(page)).toBe('refresh');
    await page.keyboard.press('Alt+Shift+F');
    expect(await focused(page)).toBe('flash-headline');
    await page.locator('#flash-single-key').check();
  });

  it('asks before a flash from the full form too', async () => {
    const before = await count();
    await page.locator('#f-headline').focus();
    await page.keyboard.type('Flash from the full form');
    await page.locator('#f-topics').fill('world');
    await page.locator('input[name="priority"][value="flash"]').check();
    await page.locator('#submit').focus();
    await page.keyboard.press('Enter');
    await page.locator('#flash-dialog[open]').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('cancelled');
    expect(await count()).toBe(before);
    await page.locator('#clear').click();
  });

  it('keeps the date fields out of the Tab order until asked for', async () => {
    await page.locator('#f-headline').focus();
    const stops: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const id = await focused(page);
      stops.push(String(id));
      if (id === 'submit') break;
    }
    expect(stops.at(-1)).toBe('submit');
    expect(stops).not.toContain('f-embargoUntil');
    // headline → priority, topics, summary, body, source, byline, link, image url and alt, the dates' summary, language, id, submit.
    expect(stops.length).toBeLessThanOrEqual(13);
  });

  it('publishes from the keyboard; focus lands on the status message', async () => {
    await page.locator('#f-headline').focus();
    await page.keyboard.type('Ferry services resume after the storm');
    await page.keyboard.press('Tab'); // priority (routine)
    await page.keyboard.press('Tab');
    await page.keyboard.type('national, transport');
    await page.locator('#submit').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('Published: “Ferry services resume after the storm”');
    expect(await focused(page)).toBe('form-status');
    await reader.page.locator('#stories', { hasText: 'Ferry services resume after the storm' }).waitFor();
  });

  it('corrects from the keyboard: the body shows what the editor typed, not markup; focus lands on the status', async () => {
    await api(server, 'PUT', '/api/v1/items/wire-cycle-lanes', {
      id: 'wire-cycle-lanes',
      headline: 'City council approves new protected cycle lanes for the river district',
      topics: ['national', 'transport'],
      source: 'Newswire',
      body: 'The plan adds 14 km of lanes.\n\nWork starts in spring & ends in two years.',
    });
    const row = page.locator('#recent-list > li[data-id="wire-cycle-lanes"]');
    await expect.poll(() => row.getAttribute('data-version')).toBe('2');
    const before = (await api(server, 'GET', '/api/v1/items/wire-cycle-lanes')).body.item.body;
    expect(before).toContain('<p>Work starts in spring &amp; ends in two years.</p>');
    await row.getByRole('button', { name: /^Correct/ }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#editor-title').textContent()).toBe('Correct an item');
    expect(await focused(page)).toBe('f-headline');
    expect(await page.locator('#f-body').inputValue()).toBe('The plan adds 14 km of lanes.\n\nWork starts in spring & ends in two years.');
    await page.keyboard.press('End');
    await page.keyboard.type(', officials say');
    await page.locator('#f-changeNote').focus();
    await page.keyboard.type('Attributes the plan');
    await page.locator('#submit').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('is now version 3');
    expect(await focused(page)).toBe('form-status');
    // Sent back as plain text, the body is the same paragraphs as before.
    const item = (await api(server, 'GET', '/api/v1/items/wire-cycle-lanes')).body.item;
    expect(item.body).toBe(before);
  });

  it('withdraws from the keyboard; focus lands on the status, and the kill list keeps the record', async () => {
    const row = page.locator('#recent-list > li[data-id="wire-storm-warning"]');
    await row.getByRole('button', { name: /^Withdraw/ }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#withdraw-dialog[open]').waitFor();
    expect(await focused(page)).toBe('withdraw-reason');
    await page.keyboard.type('The warning was reissued: the story was wrong');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('withdraw-confirm');
    await page.keyboard.press('Enter');
    await page.locator('#withdraw-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('Withdrawn: “Storm warning lifted');
    expect(await focused(page)).toBe('form-status');

    const killed = page.locator('#kill-list > li[data-id="wire-storm-warning"]');
    await killed.waitFor();
    expect(await killed.locator('.kill-headline').textContent()).toBe('Storm warning lifted for coastal areas as winds ease overnight');
    expect(await killed.locator('.kill-reason').textContent()).toBe('The warning was reissued: the story was wrong');
    expect(await killed.locator('.kill-meta time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await page.locator('#kill-status').textContent()).toMatch(/^1 killed since/);
  });
});

describe('what screen readers hear on a story page', () => {
  let server: TestServer;
  let browser: Browser;
  let story: WatchedPage;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    await seed(server);
    story = await openPage(browser, `${server.url}/items/wire-markets-open`);
    await waitForState(story.page, 'live');
    await listen(story.page);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
    expect(story?.problems ?? []).toEqual([]);
  });

  const base = { id: 'wire-markets-open', headline: 'European shares open higher as energy stocks extend their rally', topics: ['business', 'markets'] };

  it('a correction once, politely; a story raised to flash, assertively', async () => {
    await api(server, 'PUT', '/api/v1/items/wire-markets-open', { ...base, summary: 'The index rose 0.8%.', changeNote: 'Corrects the rise' });
    await expect.poll(() => story.page.locator('#article-notice').textContent()).toBe('This story was updated: Corrects the rise');
    await expect.poll(async () => (await spoken(story.page)).polite).toEqual(['This story was updated: Corrects the rise']);
    expect((await spoken(story.page)).assertive).toEqual([]);
    // The visible notice is not a second live region.
    expect(await story.page.locator('#article-notice').getAttribute('role')).toBeNull();
    expect(await story.page.locator('#article-notice').getAttribute('aria-live')).toBeNull();

    await api(server, 'PUT', '/api/v1/items/wire-markets-open', { ...base, priority: 'flash', changeNote: 'Trading halted' });
    await expect.poll(async () => (await spoken(story.page)).assertive).toEqual([
      `Flash: ${base.headline}. This story was updated: Trading halted`,
    ]);
    expect((await spoken(story.page)).polite).toEqual(['This story was updated: Corrects the rise']);
    expect(await story.page.locator('main').getAttribute('class')).toContain('priority-flash');
  });
});
