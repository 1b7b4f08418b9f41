// The reader page across server restarts, a network partition and a new log.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../client/proxy.ts';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, screenshot, waitForState } from './browser.ts';

describe('reader page reconnects', () => {
  let server: TestServer;
  let browser: Browser;
  let proxy: TcpProxy;

  const publish = async (fields: Record<string, unknown> = {}) => (await publishOk(server, fields)).item;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    proxy = await TcpProxy.start(server.port);
  });

  afterAll(async () => {
    try {
      await browser?.close();
      await proxy?.close();
    } finally {
      await cleanup();
    }
  });

  it('shows "reconnecting" while the server restarts, then catches up with what was published meanwhile, once', async () => {
    const first = await publish({ headline: 'Before the restart' });
    const doomed = await publish({ headline: 'Will be withdrawn while the page is away' });
    // The page reaches the server through a TCP proxy, so the test can hold it
    // off after the restart while the newsroom keeps publishing.
    const reader = await openPage(browser, `${proxy.url}/`, {
      // Failed reconnect attempts are logged by the browser; they are the point here.
      allow: ['WebSocket connection to', 'ERR_CONNECTION'],
    });
    const { page } = reader;
    await waitForState(page, 'live');

    const stopping = server.stop();
    await waitForState(page, 'reconnecting');
    expect(await page.locator('#connection').textContent()).toBe('Reconnecting…');
    await stopping;
    proxy.cut();
    server = await server.restart();

    const meanwhile = [await publish({ headline: 'Published while away 1' }), await publish({ headline: 'Published while away 2' })];
    await api(server, 'PUT', `/api/v1/items/${first.id}`, { ...newItem({ id: first.id }), headline: 'Before the restart, corrected', changeNote: 'Corrected while away' });
    await api(server, 'DELETE', `/api/v1/items/${doomed.id}`, { reason: 'Withdrawn while away' });
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('reconnecting');
    await screenshot(page, 'reader-reconnecting');

    proxy.heal();
    await waitForState(page, 'live', 15_000);
    for (const item of meanwhile) await page.locator(`#item-${item.id}`).waitFor();
    await page.locator(`#item-${doomed.id}`).waitFor({ state: 'detached' });
    await page.waitForTimeout(300);
    const ids = await page.locator('#stories > article').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.id));
    expect(ids).toEqual([meanwhile[1]?.id, meanwhile[0]?.id, first.id]);
    const corrected = page.locator(`#item-${first.id}`);
    expect(await corrected.locator('.story-headline').textContent()).toBe('Before the restart, corrected');
    expect(await corrected.locator('.change-note').textContent()).toBe('Corrected while away');

    // And live again: a new story arrives as usual.
    const after = await publish({ headline: 'After the reconnect' });
    await page.locator(`#item-${after.id}`).waitFor({ timeout: 1_000 });
    expect(await page.locator(`[data-id="${after.id}"]`).count()).toBe(1);
    expect(reader.problems.filter((p) => !p.includes('WebSocket'))).toEqual([]);
    expect(reader.dialogs).toEqual([]);
    await reader.close();
  });

  it('replaces the whole list when the server says reset (the log was replaced)', async () => {
    const old = await publish({ headline: 'From the old log' });
    const reader = await openPage(browser, `${server.url}/`, { allow: ['WebSocket connection to', 'ERR_CONNECTION'] });
    const { page } = reader;
    await waitForState(page, 'live');
    await page.locator(`#item-${old.id}`).waitFor();

    await server.stop();
    for (const entry of readdirSync(server.dataDir)) rmSync(join(server.dataDir, entry), { recursive: true, force: true });
    server = await server.restart();
    const fresh = await publish({ headline: 'From the new log' });

    await page.locator(`#item-${fresh.id}`).waitFor({ timeout: 15_000 });
    await page.locator(`#item-${old.id}`).waitFor({ state: 'detached' });
    const ids = await page.locator('#stories > article').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.id));
    expect(ids).toEqual([fresh.id]);
    await waitForState(page, 'live');
    // The stored cursor now belongs to the new log: a reload resumes from it without another reset.
    const stored = await page.evaluate(() => sessionStorage.getItem('newswire:cursor:all'));
    expect(stored).toMatch(/^[A-Za-z0-9]+-\d+$/);
    await reader.close();
  });
});
