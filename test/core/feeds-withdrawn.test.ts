// Withdrawal notices stay in their feeds for FEED_WITHDRAWN_HOURS, then
// leave: the cached render goes stale when a notice's time is up, its
// validators change, and a reader revalidating with the old ones gets the
// feed without the notice. A short window (a few seconds) keeps this quick.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

/** 0.0015 h = 5.4 s. */
const WINDOW_HOURS = '0.0015';
const NOTICE_ID = 'urn:newswire:item:kill-window-doomed';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ env: { PUBLIC_URL: 'https://news.example.org', FEED_WITHDRAWN_HOURS: WINDOW_HOURS, FEED_ITEMS: '3' } });
});
afterAll(cleanup);

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });
const ids = async (path: string): Promise<string[]> => (await (await get(path)).json()).items.map((item: { id: string }) => item.id);

describe('withdrawal notices', () => {
  it('stay in place for the window, then leave the feed with new validators', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'kill-window-doomed', topics: ['kill-window'] }));
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'kill-window-kept', topics: ['kill-window'] }));
    // Renders cached before the kill must not outlive it.
    expect(await ids('/feeds/kill-window.json')).toEqual(['urn:newswire:item:kill-window-kept', NOTICE_ID]);
    await get('/feeds/kill-window.rss').then((res) => res.text());

    expect((await api(server, 'DELETE', '/api/v1/items/kill-window-doomed', { reason: 'Published in error' })).status).toBe(200);
    const withNotice = await get('/feeds/kill-window.rss');
    const noticeTag = withNotice.headers.get('etag') as string;
    const noticeDate = withNotice.headers.get('last-modified') as string;
    const rss = await withNotice.text();
    expect(rss).toContain(`<guid isPermaLink="false">${NOTICE_ID}</guid>`);
    expect(rss).toContain('<title><![CDATA[WITHDRAWN: Published in error]]></title>');
    expect(await ids('/feeds/kill-window.json')).toEqual(['urn:newswire:item:kill-window-kept', NOTICE_ID]);
    expect(await ids('/feeds/all.json')).toContain(NOTICE_ID);

    // No new event: only the passing of the window takes it out.
    await expect.poll(() => ids('/feeds/kill-window.json'), { timeout: 15_000, interval: 250 }).toEqual(['urn:newswire:item:kill-window-kept']);
    expect(await ids('/feeds/all.json')).not.toContain(NOTICE_ID);

    const byTag = await get('/feeds/kill-window.rss', { 'if-none-match': noticeTag });
    expect(byTag.status).toBe(200);
    expect(await byTag.text()).not.toContain(NOTICE_ID);
    expect(byTag.headers.get('etag')).not.toBe(noticeTag);
    // The feed changed when the notice left: a reader that revalidates by date learns it too.
    expect(Date.parse(byTag.headers.get('last-modified') as string)).toBeGreaterThan(Date.parse(noticeDate));
    expect((await get('/feeds/kill-window.rss', { 'if-modified-since': noticeDate })).status).toBe(200);
    const now = byTag.headers.get('last-modified') as string;
    expect((await get('/feeds/kill-window.rss', { 'if-modified-since': now })).status).toBe(304);
  });

  it('take the place of their item within FEED_ITEMS, not one more', async () => {
    for (const n of [1, 2, 3, 4]) await api(server, 'POST', '/api/v1/items', newItem({ id: `kill-cap-${n}`, topics: ['kill-cap'] }));
    expect(await ids('/feeds/kill-cap.json')).toEqual(['kill-cap-4', 'kill-cap-3', 'kill-cap-2'].map((id) => `urn:newswire:item:${id}`));
    await api(server, 'DELETE', '/api/v1/items/kill-cap-3', { reason: 'Duplicate' });
    // The oldest item, back in the feed's three, stays out: the notice holds the place.
    expect(await ids('/feeds/kill-cap.json')).toEqual(['kill-cap-4', 'kill-cap-3', 'kill-cap-2'].map((id) => `urn:newswire:item:${id}`));
    const notice = (await (await get('/feeds/kill-cap.json')).json()).items[1];
    expect(notice).toMatchObject({ title: 'WITHDRAWN: Duplicate', _newswire: { status: 'retracted', reason: 'Duplicate' } });
  });

  it('refuses a window that is not a number of hours', async () => {
    await expect(startServer({ env: { FEED_WITHDRAWN_HOURS: '-1' } })).rejects.toThrow(
      /FEED_WITHDRAWN_HOURS: must be a number of hours from 0 to 720/,
    );
  });
});
