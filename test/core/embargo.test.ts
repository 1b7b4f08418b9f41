// Embargoed items: held out of sight (WebSocket, feeds, lists, GET, pages)
// until the embargo lifts, then published once, by the server itself, even
// across a restart. Embargoes here are 1–2 s ahead; the scheduler polls every second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { seqOf, TestClient } from '../support/ws.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(cleanup);

let topicCount = 0;
/** A topic no other test publishes to, so lists and feeds show only this test's items. */
function freshTopic(): string {
  return `embargo-${process.pid}-${++topicCount}`;
}

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Event frames about one item. */
const eventsFor = (client: TestClient, id: string) => client.events.filter((e) => e.item?.id === id);

async function connect(target: TestServer, options: { topics?: string[]; cursor?: string } = {}): Promise<TestClient> {
  const client = await TestClient.connect(target.wsUrl, options);
  await client.waitForType('welcome');
  return client;
}

async function text(target: TestServer, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${target.url}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Every place a reader could find an item, as one record of what each shows (all read at once). */
async function readerViews(target: TestServer, id: string, topic: string): Promise<Record<string, boolean | number>> {
  const has = (items: { id: string }[]) => items.some((i) => i.id === id);
  const [get, list, all, page, rss, atom, json, reader] = await Promise.all([
    api(target, 'GET', `/api/v1/items/${id}`, undefined, { token: null }),
    api(target, 'GET', `/api/v1/items?topic=${topic}`, undefined, { token: null }),
    api(target, 'GET', '/api/v1/items?limit=100', undefined, { token: null }),
    text(target, `/items/${id}`),
    text(target, `/feeds/${topic}.rss`),
    text(target, '/feeds/all.atom'),
    text(target, `/feeds/${topic}.json`),
    text(target, `/?topics=${topic}`),
  ]);
  return {
    get: get.status,
    page: page.status,
    topicList: has(list.body.items),
    allList: has(all.body.items),
    rss: rss.body.includes(id),
    atom: atom.body.includes(id),
    json: json.body.includes(id),
    reader: reader.body.includes(id),
  };
}

const HIDDEN = { get: 404, page: 404, topicList: false, allList: false, rss: false, atom: false, json: false, reader: false };
const SHOWN = { get: 200, page: 200, topicList: true, allList: true, rss: true, atom: true, json: true, reader: true };

describe('an embargoed item', () => {
  it('is held out of sight, then published exactly once to every subscriber, list and feed when the embargo lifts', async () => {
    const topic = freshTopic();
    const [everything, onTopic, elsewhere] = await Promise.all([
      connect(server),
      connect(server, { topics: [topic] }),
      connect(server, { topics: ['not-this-one'] }),
    ]);
    const before = (await api(server, 'GET', '/api/v1/items?limit=1')).body.cursor as string;
    const body = newItem({ topics: [topic], embargoUntil: inMs(2_000) });

    const held = await api(server, 'POST', '/api/v1/items', body);
    expect(held.status).toBe(202);
    expect(held.headers.get('location')).toBe(`/api/v1/items/${body.id}`);
    expect(held.body.cursor).toBeUndefined();
    expect(held.body.item).toMatchObject({ id: body.id, headline: body.headline, status: 'scheduled', embargoUntil: body.embargoUntil });
    expect(held.body.item.version).toBeUndefined();
    expect(held.body.item.publishedAt).toBeUndefined();

    // Same rules as a publish: a retry is a retry, other content is a conflict.
    const retry = await api(server, 'POST', '/api/v1/items', body);
    expect(retry.status).toBe(200);
    expect(retry.body.item).toEqual(held.body.item);
    const other = await api(server, 'POST', '/api/v1/items', { ...body, headline: 'Another headline' });
    expect(other.status).toBe(409);
    expect(other.body.error.item.status).toBe('scheduled');

    // Readers see nothing anywhere; the newsroom sees it with its token.
    expect(await readerViews(server, body.id, topic)).toEqual(HIDDEN);
    const own = await api(server, 'GET', `/api/v1/items/${body.id}`);
    expect(own.status).toBe(200);
    expect(own.body.item).toEqual(held.body.item);
    expect((await api(server, 'GET', `/api/v1/items/${body.id}`, undefined, { token: 'x'.repeat(31) })).status).toBe(404);
    const scheduled = await api(server, 'GET', '/api/v1/items?status=scheduled');
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.items.map((i: { id: string }) => i.id)).toContain(body.id);
    expect((await api(server, 'GET', '/api/v1/items?status=scheduled', undefined, { token: null })).status).toBe(401);
    expect(everything.events.length + onTopic.events.length).toBe(0);
    // Nothing entered the log.
    expect((await api(server, 'GET', '/api/v1/items?limit=1')).body.cursor).toBe(before);

    const [live] = await onTopic.until((c) => eventsFor(c, body.id).length > 0 && eventsFor(c, body.id), 5_000, 'the release');
    expect(live?.event).toBe('published');
    expect(live?.item).toMatchObject({ id: body.id, headline: body.headline, status: 'published', version: 1 });
    expect(Date.parse(live?.item?.publishedAt)).toBeGreaterThanOrEqual(Date.parse(body.embargoUntil));
    expect(Date.parse(live?.item?.publishedAt)).toBeLessThan(Date.parse(body.embargoUntil) + 3_000);
    expect(seqOf(live?.cursor)).toBeGreaterThan(seqOf(before));
    await everything.until((c) => eventsFor(c, body.id).length > 0, 2_000, 'the release on the all-topics client');

    expect(await readerViews(server, body.id, topic)).toEqual(SHOWN);
    const after = await api(server, 'GET', '/api/v1/items?status=scheduled');
    expect(after.body.items.map((i: { id: string }) => i.id)).not.toContain(body.id);
    // A retry of the original request, now that it is out, is still a retry.
    const late = await api(server, 'POST', '/api/v1/items', body);
    expect(late.status).toBe(200);
    expect(late.body.item.status).toBe('published');

    // Once: another poll later, still one event each, with the same cursor; and once in the log.
    await sleep(1_300);
    expect(eventsFor(onTopic, body.id).map((e) => e.cursor)).toEqual([live?.cursor]);
    expect(eventsFor(everything, body.id).map((e) => e.cursor)).toEqual([live?.cursor]);
    expect(eventsFor(elsewhere, body.id)).toEqual([]);
    const replay = await connect(server, { cursor: before, topics: [topic] });
    await replay.until((c) => eventsFor(c, body.id).length > 0, 2_000, 'the replayed release');
    await sleep(200);
    expect(eventsFor(replay, body.id).map((e) => e.cursor)).toEqual([live?.cursor]);
    await Promise.all([everything, onTopic, elsewhere, replay].map((c) => c.close()));
  });

  it('is published at once when its embargo has already lifted', async () => {
    const topic = freshTopic();
    const client = await connect(server, { topics: [topic] });
    const body = newItem({ topics: [topic], embargoUntil: inMs(-60_000) });
    const res = await api(server, 'POST', '/api/v1/items', body);
    expect(res.status).toBe(201);
    expect(res.body.item).toMatchObject({ status: 'published', version: 1, embargoUntil: body.embargoUntil });
    const [event] = await client.waitForEvents(1);
    expect(event?.cursor).toBe(res.body.cursor);
    await client.close();
  });

  it('can be corrected while held: stays held (no event) or, without a future embargo, is published now as version 1', async () => {
    const topic = freshTopic();
    const client = await connect(server, { topics: [topic] });

    const first = newItem({ topics: [topic], embargoUntil: inMs(60_000) });
    expect((await api(server, 'POST', '/api/v1/items', first)).status).toBe(202);
    const moved = { ...first, headline: 'Moved forward', embargoUntil: inMs(1_500) };
    const put = await api(server, 'PUT', `/api/v1/items/${first.id}`, { ...moved, changeNote: 'Earlier release' });
    expect(put.status).toBe(200);
    expect(put.body.cursor).toBeUndefined();
    expect(put.body.item).toMatchObject({ status: 'scheduled', headline: 'Moved forward', embargoUntil: moved.embargoUntil });
    expect((await api(server, 'GET', `/api/v1/items/${first.id}`)).body.item.headline).toBe('Moved forward');
    expect(client.events).toEqual([]);
    const [released] = await client.waitForEvents(1, 5_000);
    expect(released?.event).toBe('published');
    expect(released?.item).toMatchObject({ id: first.id, headline: 'Moved forward', version: 1 });
    // Readers never saw an earlier version, so there is no change note to show.
    expect(released?.item?.changeNote).toBeUndefined();
    // Out is out: an embargo cannot take it back.
    const back = await api(server, 'PUT', `/api/v1/items/${first.id}`, { ...moved, embargoUntil: inMs(60_000) });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('already-published');

    const second = newItem({ topics: [topic], embargoUntil: inMs(60_000) });
    expect((await api(server, 'POST', '/api/v1/items', second)).status).toBe(202);
    const { embargoUntil: _lifted, ...now } = second;
    const published = await api(server, 'PUT', `/api/v1/items/${second.id}`, { ...now, headline: 'Out now' });
    expect(published.status).toBe(200);
    expect(published.body.item).toMatchObject({ status: 'published', version: 1, headline: 'Out now' });
    const events = await client.waitForEvents(2);
    expect(events[1]).toMatchObject({ event: 'published', cursor: published.body.cursor });
    expect(await readerViews(server, second.id, topic)).toMatchObject({ get: 200, topicList: true });
    await client.close();
  });

  it('can be cancelled: no event ever, gone for the newsroom too, and its id is free again', async () => {
    const topic = freshTopic();
    const client = await connect(server, { topics: [topic] });
    const head = (await api(server, 'GET', '/api/v1/items?limit=1')).body.cursor;
    const body = newItem({ topics: [topic], embargoUntil: inMs(1_500) });
    expect((await api(server, 'POST', '/api/v1/items', body)).status).toBe(202);

    const cancel = await api(server, 'DELETE', `/api/v1/items/${body.id}`, { reason: 'Story pulled' });
    expect(cancel.status).toBe(200);
    expect(cancel.body.cursor).toBe(head);
    expect(cancel.body.item).toMatchObject({ id: body.id, headline: body.headline, status: 'cancelled' });
    expect((await api(server, 'GET', `/api/v1/items/${body.id}`)).status).toBe(404);
    expect((await api(server, 'DELETE', `/api/v1/items/${body.id}`, { reason: 'again' })).status).toBe(404);
    const scheduled = await api(server, 'GET', '/api/v1/items?status=scheduled');
    expect(scheduled.body.items.map((i: { id: string }) => i.id)).not.toContain(body.id);

    // Well past its embargo and a poll or two: nothing went out.
    await sleep(2_200);
    expect(client.events).toEqual([]);
    expect(await readerViews(server, body.id, topic)).toEqual(HIDDEN);
    expect((await api(server, 'GET', '/api/v1/items?limit=1')).body.cursor).toBe(head);

    const reuse = await api(server, 'POST', '/api/v1/items', { ...body, embargoUntil: undefined, headline: 'A new story' });
    expect(reuse.status).toBe(201);
    await client.close();
  });

  it('is still released after the server restarts: the schedule is in the store', async () => {
    const own = await startServer();
    const topic = freshTopic();
    const before = (await api(own, 'GET', '/api/v1/items?limit=1')).body.cursor as string;
    const body = newItem({ topics: [topic], embargoUntil: inMs(1_200) });
    expect((await api(own, 'POST', '/api/v1/items', body)).status).toBe(202);
    await own.stop();
    // The embargo lifts while no process runs.
    await sleep(Math.max(0, Date.parse(body.embargoUntil) - Date.now() + 200));
    const again = await own.restart();
    const client = await connect(again, { cursor: before, topics: [topic] });
    const [event] = await client.waitForEvents(1, 5_000);
    expect(event?.event).toBe('published');
    expect(event?.item).toMatchObject({ id: body.id, version: 1, status: 'published' });
    expect(seqOf(event?.cursor)).toBe(seqOf(before) + 1);
    // Released by the process that started after the embargo lifted, from what the store kept.
    expect(own.output()).not.toContain('embargo lifted');
    // The log line travels through a pipe and may trail the WebSocket frame.
    for (let i = 0; i < 40 && !again.output().includes('embargo lifted'); i++) await sleep(50);
    expect(again.output()).toContain('embargo lifted');
    await sleep(1_300);
    expect(client.events).toHaveLength(1);
    expect((await api(again, 'GET', `/api/v1/items/${body.id}`, undefined, { token: null })).status).toBe(200);
    await client.close();
    await again.stop();
  });
});
