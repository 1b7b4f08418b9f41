// The newsroom console in a real Chromium: token, publish, field errors,
// correct, withdraw, and what a reader's page shows meanwhile.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, screenshot, type WatchedPage, waitForState } from './browser.ts';
import { seedWithCorrection } from './seed.ts';

describe('newsroom console', () => {
  let server: TestServer;
  let browser: Browser;
  let console_: WatchedPage;
  let reader: WatchedPage;
  let page: Page;
  const writes: Request[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    await seedWithCorrection(server);
    // 4xx answers are expected here (field errors, a wrong token); the browser logs them.
    console_ = await openPage(browser, `${server.url}/newsroom`, {
      viewport: { width: 1600, height: 1000 },
      allow: ['status of 400', 'status of 403'],
    });
    page = console_.page;
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/items') && request.method() !== 'GET') writes.push(request);
    });
    reader = await openPage(browser, `${server.url}/`);
    await Promise.all([waitForState(page, 'live'), waitForState(reader.page, 'live')]);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
    // Checked after cleaning up, so a failure here leaves nothing running.
    expect(console_?.problems ?? []).toEqual([]);
    expect(reader?.problems ?? []).toEqual([]);
    expect([...(console_?.dialogs ?? []), ...(reader?.dialogs ?? [])]).toEqual([]);
  });

  const field = (name: string) => page.locator(`[data-field="${name}"]`);

  /** Embargo and expiry wait behind a disclosure (seven Tab stops each). */
  async function openDates() {
    if (!(await page.locator('#schedule-fields').evaluate((details) => (details as HTMLDetailsElement).open))) {
      await page.locator('#schedule-fields > summary').click();
    }
  }

  async function useToken(token: string) {
    await page.locator('#token').fill(token);
    await page.locator('#token-form button[type="submit"]').click();
  }

  it('asks for a token and keeps it in this tab only', async () => {
    await page.locator('#recent-list > li').first().waitFor();
    expect(await page.locator('#token-panel').isVisible()).toBe(true);
    await useToken(server.token);
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
    expect(await page.locator('#token-state').isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('newswire:publisher-token'))).toBe(server.token);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
  });

  it('publishes an item that a reader’s page shows, sending the token as a Bearer header and no cookie', async () => {
    // A cookie for this site exists: the console must still not send it with a write.
    await page.context().addCookies([{ name: 'session', value: 'should-not-be-sent', url: server.url }]);
    await field('headline').locator('textarea').fill('Rail strike called off after overnight talks');
    await field('topics').locator('input').fill('national, transport');
    await field('summary').locator('textarea').fill('Unions and operators agreed a two-year pay deal shortly before 4am; services run as normal today.');
    await field('source').locator('input').fill('Newswire');
    await page.locator('label.priority-option-bulletin').click();
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('Published: “Rail strike called off');

    const published = reader.page.locator('#stories > article', { hasText: 'Rail strike called off after overnight talks' });
    await published.waitFor({ timeout: 2_000 });
    expect(await published.getAttribute('class')).toContain('priority-bulletin');
    await reader.page.locator('#breaking', { hasText: 'Rail strike called off' }).waitFor();

    const write = writes.at(-1);
    expect(write?.method()).toBe('POST');
    const headers = await write!.allHeaders();
    expect(headers.authorization).toBe(`Bearer ${server.token}`);
    expect(headers.cookie).toBeUndefined();
    // The console made an id, so a retry of this form could never publish twice.
    expect(JSON.parse(write!.postData() ?? '{}').id).toMatch(/^nw-\d{8}-[a-z0-9]{8}$/);

    // The console's own views follow too.
    await page.locator('#recent-list > li', { hasText: 'Rail strike called off' }).waitFor();
    await page.locator('#preview > article', { hasText: 'Rail strike called off' }).waitFor();
    // The form is ready for the next item.
    expect(await field('headline').locator('textarea').inputValue()).toBe('');
  });

  it('shows the server’s field errors next to each field, and publishes nothing', async () => {
    const before = (await api(server, 'GET', '/api/v1/items?limit=100')).body.items.length;
    await field('headline').locator('textarea').fill('   ');
    await field('topics').locator('input').fill('World News, politics');
    await field('url').locator('input').fill('javascript:alert(1)');
    await field('image-url').locator('input').fill('not a url');
    await field('image-alt').locator('input').fill('A photo');
    await field('language').locator('input').fill('english!');
    await openDates();
    await field('expiresAt').locator('input').fill('2001-01-01T10:00');
    await page.locator('#submit').click();
    await page.locator('#error-summary').waitFor({ state: 'visible' });

    const errorOf = (name: string) => field(name).locator('.field-error');
    expect(await errorOf('headline').textContent()).toBe('must not be empty');
    expect(await errorOf('topics').textContent()).toContain('“World News” must be a lowercase slug');
    expect(await errorOf('url').textContent()).toBe('must be an absolute http or https URL');
    expect(await errorOf('image-url').textContent()).toBe('must be an absolute http or https URL');
    expect(await errorOf('language').textContent()).toContain('BCP 47');
    expect(await errorOf('expiresAt').textContent()).toBe('is already in the past');
    for (const name of ['headline', 'topics', 'url', 'image-url', 'language', 'expiresAt']) {
      expect(await errorOf(name).isVisible()).toBe(true);
      const control = field(name).locator('input, textarea');
      expect(await control.getAttribute('aria-invalid')).toBe('true');
      // The message is tied to its field for screen readers.
      const describedBy = (await control.getAttribute('aria-describedby')) ?? '';
      expect(describedBy.split(' ')).toContain(await errorOf(name).getAttribute('id'));
    }
    expect(await errorOf('summary').isVisible()).toBe(false);
    expect(await page.locator('#error-list li').count()).toBe(6);
    // The summary takes focus, and its links lead to the fields.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('error-summary');
    await page.locator('#error-list a', { hasText: 'Topics' }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-topics');
    await screenshot(page, 'newsroom-errors');
    expect((await api(server, 'GET', '/api/v1/items?limit=100')).body.items.length).toBe(before);
    await page.locator('#clear').click();
    expect(await page.locator('#error-summary').isVisible()).toBe(false);
  });

  it('corrects an item in place: loaded into the form, sent with PUT and a change note', async () => {
    const row = page.locator('#recent-list > li', { hasText: 'Storm warning lifted' });
    await row.getByRole('button', { name: /^Correct/ }).click();
    // The list shows cards: the console loads the whole item (its body too) before filling the form.
    await expect.poll(() => page.locator('#editor-title').textContent()).toBe('Correct an item');
    const headline = field('headline').locator('textarea');
    expect(await headline.inputValue()).toBe('Storm warning lifted for coastal areas as winds ease overnight');
    expect(await field('topics').locator('input').inputValue()).toBe('weather, national');
    expect(await field('byline').locator('input').inputValue()).toBe('Weather team');
    expect(await field('id').locator('input').isEditable()).toBe(false);
    const positionBefore = await reader.page.locator('#stories > article').evaluateAll((cards) =>
      cards.map((c) => (c as HTMLElement).dataset.id).indexOf('wire-storm-warning'),
    );

    await headline.fill('Storm warning lifted for coastal areas as winds ease below 50 km/h');
    await field('changeNote').locator('textarea').fill('Adds the wind speed');
    await page.getByLabel('Alert readers again').check();
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('is now version 2');
    expect(writes.at(-1)?.method()).toBe('PUT');
    expect(JSON.parse(writes.at(-1)?.postData() ?? '{}')).toMatchObject({ changeNote: 'Adds the wind speed', notify: true });
    expect(writes.at(-1)?.url()).toContain('/api/v1/items/wire-storm-warning');

    const card = reader.page.locator('#item-wire-storm-warning');
    await expect.poll(() => card.getAttribute('data-version')).toBe('2');
    expect(await card.locator('.story-headline').textContent()).toBe('Storm warning lifted for coastal areas as winds ease below 50 km/h');
    expect(await card.locator('.change-note').textContent()).toBe('Adds the wind speed');
    const positionAfter = await reader.page.locator('#stories > article').evaluateAll((cards) =>
      cards.map((c) => (c as HTMLElement).dataset.id).indexOf('wire-storm-warning'),
    );
    expect(positionAfter).toBe(positionBefore);
    expect(await page.locator('#editor-title').textContent()).toBe('New item');
  });

  it('withdraws an item with a reason, and the reader’s page drops it', async () => {
    const row = page.locator('#recent-list > li', { hasText: 'City council approves' });
    await row.getByRole('button', { name: /^Withdraw/ }).click();
    const dialog = page.locator('#withdraw-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await page.locator('#withdraw-headline').textContent()).toContain('City council approves');
    // No reason: the server's message appears next to the field.
    await page.locator('#withdraw-confirm').click();
    await page.locator('#withdraw-reason-error').waitFor({ state: 'visible' });
    expect(await page.locator('#withdraw-reason-error').textContent()).toBe('must not be empty');
    expect(await reader.page.locator('#item-wire-cycle-lanes').count()).toBe(1);

    await page.locator('#withdraw-reason').fill('Published in error');
    await page.locator('#withdraw-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    expect(writes.at(-1)?.method()).toBe('DELETE');
    expect((await writes.at(-1)!.allHeaders()).authorization).toBe(`Bearer ${server.token}`);
    await reader.page.locator('#item-wire-cycle-lanes').waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    const gone = await api(server, 'GET', '/api/v1/items/wire-cycle-lanes');
    expect(gone.status).toBe(410);
  });

  it('shows hostile text as text in its lists and dialogs', async () => {
    const hostile = `<img src=x onerror="alert('console')"><script>alert(1)</script>`;
    const res = await api(server, 'POST', '/api/v1/items', { id: 'hostile-headline', headline: hostile, summary: hostile, topics: ['world'] });
    expect(res.status).toBe(201);
    const row = page.locator('#recent-list > li[data-id="hostile-headline"]');
    await row.waitFor();
    expect(await row.locator('.recent-headline').textContent()).toBe(hostile);
    expect(await page.locator('#preview [data-id="hostile-headline"] .story-headline').textContent()).toBe(hostile);
    await row.getByRole('button', { name: /^Withdraw/ }).click();
    expect(await page.locator('#withdraw-headline').textContent()).toBe(hostile);
    await page.locator('#withdraw-cancel').click();
    await row.getByRole('button', { name: /^Correct/ }).click();
    await expect.poll(() => field('headline').locator('textarea').inputValue()).toBe(hostile);
    await page.locator('#cancel-correction').click();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await api(server, 'DELETE', '/api/v1/items/hostile-headline', { reason: 'test' });
    await row.waitFor({ state: 'detached' });
  });

  it('schedules an item with the embargo field, edits it and cancels it; readers never see it', async () => {
    // The browser runs in UTC, so the datetime-local value is the UTC minute.
    const local = new Date(Date.now() + 45 * 60_000).toISOString().slice(0, 16);
    const headline = 'Embargoed: regional election results';
    await field('headline').locator('textarea').fill(headline);
    await field('topics').locator('input').fill('politics');
    await openDates();
    await field('embargoUntil').locator('input').fill(local);
    expect(await page.locator('#submit').textContent()).toBe('Schedule');
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#form-status').textContent()).toContain(`Scheduled: “${headline}”`);
    expect(writes.at(-1)?.method()).toBe('POST');
    const sent = JSON.parse(writes.at(-1)!.postData() ?? '{}');
    expect(sent.embargoUntil).toBe(`${local}:00.000Z`);

    const row = page.locator('#recent-list > li.scheduled', { hasText: headline });
    await row.waitFor();
    expect(await row.locator('.label-scheduled').textContent()).toBe('Scheduled');
    expect(await row.locator('time.until').textContent()).toMatch(/^Goes out in (44|45) min \(/);
    expect(await page.locator('#preview', { hasText: headline }).count()).toBe(0);
    const own = await api(server, 'GET', `/api/v1/items/${sent.id}`);
    expect(own.body.item).toMatchObject({ status: 'scheduled', embargoUntil: sent.embargoUntil });

    await row.getByRole('button', { name: /^Edit/ }).click();
    expect(await page.locator('#editor-title').textContent()).toBe('Edit a scheduled item');
    expect(await field('embargoUntil').locator('input').inputValue()).toBe(local);
    expect(await page.locator('#change-note-field').isVisible()).toBe(false);
    expect(await page.locator('#submit').textContent()).toBe('Save scheduled item');
    await field('headline').locator('textarea').fill(`${headline}, with turnout`);
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#form-status').textContent()).toContain('Scheduled: “Embargoed: regional election results, with turnout”');
    expect(writes.at(-1)?.method()).toBe('PUT');
    const edited = await api(server, 'GET', `/api/v1/items/${sent.id}`);
    // Left as loaded, the embargo keeps its exact time.
    expect(edited.body.item).toMatchObject({ status: 'scheduled', headline: `${headline}, with turnout`, embargoUntil: sent.embargoUntil });
    await row.locator('.recent-headline', { hasText: 'with turnout' }).waitFor();
    expect(await reader.page.locator('#stories', { hasText: headline }).count()).toBe(0);

    await row.getByRole('button', { name: /^Cancel/ }).click();
    const dialog = page.locator('#withdraw-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await page.locator('#withdraw-title').textContent()).toBe('Cancel this scheduled item?');
    expect(await page.locator('#withdraw-reason').isVisible()).toBe(false);
    await page.locator('#withdraw-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    await row.waitFor({ state: 'detached' });
    expect(writes.at(-1)?.method()).toBe('DELETE');
    expect(await page.locator('#form-status').textContent()).toContain('will not be published');
    expect((await api(server, 'GET', `/api/v1/items/${sent.id}`)).status).toBe(404);
  });

  it('shows an item scheduled elsewhere after a refresh, and turns it into a published row when its embargo lifts', async () => {
    const body = { id: 'wire-embargo-lift', headline: 'Central bank holds rates, as expected', topics: ['business'], embargoUntil: new Date(Date.now() + 2_000).toISOString() };
    expect((await api(server, 'POST', '/api/v1/items', body)).status).toBe(202);
    await page.locator('#refresh').click();
    const row = page.locator('#recent-list > li[data-id="wire-embargo-lift"]');
    await row.and(page.locator('.scheduled')).waitFor();
    await expect.poll(() => row.getAttribute('class'), { timeout: 6_000 }).not.toContain('scheduled');
    expect(await row.locator('.recent-meta').textContent()).toContain('v1');
    await page.locator('#preview [data-id="wire-embargo-lift"]').waitFor();
    await reader.page.locator('#item-wire-embargo-lift').waitFor();
  });

  it('asks for the token again when the server refuses it', async () => {
    await page.locator('#token-forget').click();
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    await useToken('not-the-right-token-at-all');
    await field('headline').locator('textarea').fill('Should not be published');
    await field('topics').locator('input').fill('world');
    await page.locator('#submit').click();
    await page.locator('#token-error').waitFor({ state: 'visible' });
    expect(await page.locator('#token-error').textContent()).toContain('refused this token');
    expect(await page.evaluate(() => sessionStorage.getItem('newswire:publisher-token'))).toBeNull();
    // What the editor typed is still there.
    expect(await field('headline').locator('textarea').inputValue()).toBe('Should not be published');

    await useToken(server.token);
    await page.locator('#clear').click();
    await page.locator('#recent-list > li').first().waitFor();
    await screenshot(page, 'newsroom', { docs: true });
  });
});
