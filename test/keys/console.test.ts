// The newsroom console and the story page with scoped keys, in a real
// Chromium: a desk's key stays set when it is refused one thing and the
// console says what it lacks; the history dialog names who made each
// version; the story page lists the updates without naming any key.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type WatchedPage, waitForState } from '../browser/browser.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

describe('newsroom console with a scoped key', () => {
  let server: TestServer;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let deskToken: string;
  const story = newItem({ topics: ['sport'], headline: 'Cup final moved to Sunday' });

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    const made = await api(server, 'POST', '/api/v1/keys', { name: 'Sports desk', actions: ['publish', 'correct'], topics: ['sport'] });
    expect(made.status).toBe(201);
    deskToken = made.body.token;
    expect((await api(server, 'POST', '/api/v1/items', story)).status).toBe(201);
    const corrected = await api(server, 'PUT', `/api/v1/items/${story.id}`, { ...story, headline: 'Cup final moved to Monday', changeNote: 'Corrects the day' }, {
      token: deskToken,
    });
    expect(corrected.status).toBe(200);
    // 403s are expected here: the desk is refused what it may not do.
    watched = await openPage(browser, `${server.url}/newsroom`, { viewport: { width: 1600, height: 1000 }, allow: ['status of 403'] });
    page = watched.page;
    await waitForState(page, 'live');
    await page.locator('#token').fill(deskToken);
    await page.locator('#token-form button[type="submit"]').click();
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
    expect(watched?.problems ?? []).toEqual([]);
  });

  const keptToken = async () => {
    expect(await page.locator('#token-panel').isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('newswire:publisher-token'))).toBe(deskToken);
  };

  it('shows a topic the desk does not own as an error on the topics field, and keeps the key', async () => {
    await page.locator('[data-field="headline"] textarea').fill('Election results are in');
    await page.locator('[data-field="topics"] input').fill('politics');
    await page.locator('#submit').click();
    const error = page.locator('#f-topics-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toContain('"politics"');
    expect(await page.locator('#error-summary').textContent()).toContain('Sports desk');
    await keptToken();
  });

  it('refuses a flash into a topic the desk does not own beside the flash, and keeps the key', async () => {
    await page.locator('#flash-headline').fill('Parliament dissolved');
    await page.locator('#flash-topics').fill('politics');
    await page.locator('#flash-form button[type="submit"]').click();
    await page.locator('#flash-dialog[open]').waitFor();
    await page.locator('#flash-confirm-send').click();
    const error = page.locator('#flash-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/may not do this.*"politics"/);
    await keptToken();
  });

  it('says clearly that the key may not withdraw, and keeps the key', async () => {
    const row = page.locator(`#recent-list > li[data-id="${story.id}"]`);
    await row.locator('button[data-action="withdraw"]').click();
    await page.locator('#withdraw-reason').fill('Wrong day');
    await page.locator('#withdraw-confirm').click();
    const error = page.locator('#withdraw-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/may not do this.*"kill"/);
    await page.locator('#withdraw-cancel').click();
    await keptToken();
  });

  it('shows the item’s history: who made each version, when, with its change note', async () => {
    const row = page.locator(`#recent-list > li[data-id="${story.id}"]`);
    await row.locator('button[data-action="history"]').click();
    const dialog = page.locator('#history-dialog');
    await dialog.locator('.history-version').nth(1).waitFor();
    const versions = await dialog.locator('.history-version').allTextContents();
    expect(versions[0]).toMatch(/v2 Corrected.*by Sports desk key_[0-9a-f]{16}.*Change note: Corrects the day.*Request /);
    expect(versions[1]).toMatch(/v1 Published.*by token-1 token-1/);
    expect(await dialog.locator('time').first().getAttribute('datetime')).toMatch(/^\d{4}-/);
    await dialog.locator('button', { hasText: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('lists the updates on the story page, with no key names', async () => {
    const reader = await browser.newPage();
    await reader.goto(`${server.url}/items/${story.id}`);
    const history = reader.locator('.story-history');
    expect(await history.locator('h2').textContent()).toBe('Updated once');
    const items = await history.locator('li').allTextContents();
    expect(items[0]).toMatch(/^Updated .*UTC Corrects the day$/);
    expect(items[1]).toMatch(/^Published .*UTC$/);
    const html = await reader.content();
    expect(html).not.toContain('Sports desk');
    expect(html).not.toContain('token-1');
    await reader.close();
  });
});
