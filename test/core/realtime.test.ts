// The WebSocket contract: welcome, topic routing, update/retract, resume by
// cursor without gap or duplicate, reset, bad frames and limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { metric } from '../support/metrics.ts';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { seqOf, TestClient } from '../support/ws.ts';

let server: TestServer;
beforeAll(async () => {
  // A small resume memory, so that long replays are read from the log.
  server = await startServer({
    env: { WS_MAX_TOPICS: '5', WS_MAX_PAYLOAD_BYTES: '512', WS_RATE_PER_10S: '40', RESUME_MEMORY_EVENTS: '16' },
  });
});
afterAll(cleanup);

const publish = (fields: Record<string, unknown> = {}) => publishOk(server, fields);

describe('live delivery', () => {
  it('welcomes with a cursor and the topics, then routes by topic', async () => {
    const sports = await TestClient.connect(server.wsUrl, { topics: ['sports-x'] });
    const both = await TestClient.connect(server.wsUrl, { topics: ['sports-x', 'markets-x'] });
    const all = await TestClient.connect(server.wsUrl);
    const welcome = await sports.waitForType('welcome');
    expect(welcome).toMatchObject({ type: 'welcome', resumed: false, topics: ['sports-x'] });
    expect(welcome.cursor).toMatch(/^[a-z0-9]+-\d+$/);
    expect((await all.waitForType('welcome')).topics).toEqual(['all']);

    const a = await publish({ topics: ['sports-x'] });
    const b = await publish({ topics: ['markets-x'] });
    const c = await publish({ topics: ['sports-x', 'markets-x'] });
    const d = await publish({ topics: ['weather-x'] });

    await all.waitForEvents(4);
    await both.waitForEvents(3);
    await sports.waitForEvents(2);
    await new Promise((r) => setTimeout(r, 150));
    const ids = (client: TestClient) => client.events.map((e) => e.item?.id);
    expect(ids(sports)).toEqual([a.item.id, c.item.id]);
    // An item in two subscribed topics arrives once.
    expect(ids(both)).toEqual([a.item.id, b.item.id, c.item.id]);
    expect(ids(all)).toEqual([a.item.id, b.item.id, c.item.id, d.item.id]);
    expect(all.events.map((e) => e.cursor)).toEqual([a.cursor, b.cursor, c.cursor, d.cursor]);
    await Promise.all([sports.close(), both.close(), all.close()]);
  });

  it('delivers corrections and retractions as events', async () => {
    const client = await TestClient.connect(server.wsUrl, { topics: ['dev-story'] });
    await client.waitForType('welcome');
    const { item } = await publish({ topics: ['dev-story'] });
    const put = await api(server, 'PUT', `/api/v1/items/${item.id}`, {
      headline: 'Corrected headline',
      topics: ['dev-story'],
      changeNote: 'Fixes the death toll',
    });
    expect(put.status).toBe(200);
    const del = await api(server, 'DELETE', `/api/v1/items/${item.id}?reason=Withdrawn`);
    expect(del.status).toBe(200);
    const events = await client.waitForEvents(3);
    expect(events.map((e) => e.event)).toEqual(['published', 'updated', 'retracted']);
    expect(events[1]?.item).toMatchObject({ headline: 'Corrected headline', version: 2, changeNote: 'Fixes the death toll' });
    expect(events[2]?.item).toMatchObject({ id: item.id, status: 'retracted', reason: 'Withdrawn', topics: ['dev-story'] });
    expect(events[2]?.item?.headline).toBeUndefined();
    await client.close();
  });

  it('changes topics with subscribe and unsubscribe frames', async () => {
    const client = await TestClient.connect(server.wsUrl, { topics: ['sub-a'] });
    await client.waitForType('welcome');
    client.send({ type: 'subscribe', topics: ['sub-b'] });
    await client.until((c) => c.frames.find((f) => f.type === 'subscribed'), 2_000, 'subscribed');
    expect(client.frames.find((f) => f.type === 'subscribed')?.topics).toEqual(['sub-a', 'sub-b']);
    const b = await publish({ topics: ['sub-b'] });
    await client.waitForEvents(1);
    client.send({ type: 'unsubscribe', topics: ['sub-b'] });
    await client.until((c) => c.frames.filter((f) => f.type === 'subscribed').length === 2, 2_000, 'second subscribed');
    await publish({ topics: ['sub-b'] });
    const a = await publish({ topics: ['sub-a'] });
    await client.waitForEvents(2);
    expect(client.events.map((e) => e.item?.id)).toEqual([b.item.id, a.item.id]);
    client.send({ type: 'ping' });
    expect((await client.waitForType('pong')).cursor).toBe(a.cursor);
    await client.close();
  });
});

describe('resume by cursor', () => {
  it('gets exactly the missed events, in order, then live ones', async () => {
    const client = await TestClient.connect(server.wsUrl, { topics: ['resume-a'] });
    await client.waitForType('welcome');
    await publish({ topics: ['resume-a'] });
    await client.waitForEvents(1);
    const cursor = client.cursor as string;
    await client.close();

    const missed: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { item } = await publish({ topics: [i % 3 === 0 ? 'resume-other' : 'resume-a'] });
      if (i % 3 !== 0) missed.push(item.id);
    }
    const back = await TestClient.connect(server.wsUrl, { topics: ['resume-a'], cursor });
    const welcome = await back.waitForType('welcome');
    expect(welcome).toMatchObject({ resumed: true, cursor });
    await back.waitForEvents(missed.length);
    const live = await publish({ topics: ['resume-a'] });
    await back.waitForEvents(missed.length + 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(back.events.map((e) => e.item?.id)).toEqual([...missed, live.item.id]);
    const seqs = back.events.map((e) => seqOf(e.cursor));
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    await back.close();
  });

  it('loses and doubles nothing while publishes keep arriving during the replay', async () => {
    const first = await publish({ topics: ['storm'] });
    // Old enough that the replay reaches past the in-memory window into the log.
    for (let i = 0; i < 60; i++) await publish({ topics: ['storm'] });
    const publishing = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) ids.push((await publish({ topics: ['storm'] })).item.id);
      return ids;
    })();
    const clients = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 15));
        return TestClient.connect(server.wsUrl, { topics: ['storm'], cursor: first.cursor });
      }),
    );
    await publishing;
    const list = await api(server, 'GET', '/api/v1/items?topic=storm&limit=100');
    const expected = (list.body.items as { id: string }[]).map((i) => i.id).reverse().filter((id) => id !== first.item.id);
    expect(expected).toHaveLength(100);
    for (const client of clients) {
      await client.waitForEvents(100, 10_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(client.events.map((e) => e.item?.id)).toEqual(expected);
      await client.close();
    }
  });

  it('answers a cursor of another epoch with reset and a fresh snapshot', async () => {
    const latest = await publish({ topics: ['reset-topic'] });
    const client = await TestClient.connect(server.wsUrl, { topics: ['reset-topic'], cursor: 'zzzzzzzzzzzzzzzz-3' });
    const reset = await client.waitForType('reset');
    expect(reset.reason).toBe('epoch-changed');
    expect(reset.items?.[0]?.id).toBe(latest.item.id);
    expect(seqOf(reset.cursor)).toBeGreaterThanOrEqual(seqOf(latest.cursor));
    const live = await publish({ topics: ['reset-topic'] });
    await client.waitForEvents(1);
    expect(client.events[0]?.item?.id).toBe(live.item.id);
    await client.close();
  });

  it('answers a cursor ahead of the log with reset', async () => {
    const { cursor } = await publish();
    const epoch = cursor.split('-')[0];
    const client = await TestClient.connect(server.wsUrl, { cursor: `${epoch}-999999` });
    expect((await client.waitForType('reset')).reason).toBe('cursor-unknown');
    await client.close();
  });
});

describe('bad input on the socket', () => {
  it('closes with 4400 after an error frame for a malformed cursor or topic', async () => {
    for (const options of [{ cursor: 'not a cursor' }, { topics: ['Bad Topic'] }, { topics: ['a', 'b', 'c', 'd', 'e', 'f'] }]) {
      const client = await TestClient.connect(server.wsUrl, options);
      const error = await client.waitForType('error');
      expect(error.code).toBe('bad-request');
      expect(await client.closed).toBe(4400);
    }
  });

  it('answers bad frames with error frames and keeps the connection', async () => {
    const client = await TestClient.connect(server.wsUrl, { topics: ['frames'] });
    await client.waitForType('welcome');
    client.send('not json');
    client.send({ type: 'subscribe' });
    client.send({ type: 'subscribe', topics: ['UPPER'] });
    client.send({ type: 'dance' });
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    client.send({ type: 'subscribe', topics: ['t1', 't2', 't3', 't4', 't5'] });
    await client.until((c) => c.frames.filter((f) => f.type === 'error').length >= 6, 3_000, '6 errors');
    const codes = client.frames.filter((f) => f.type === 'error').map((f) => f.code);
    expect(codes).toEqual(['bad-frame', 'bad-frame', 'bad-frame', 'bad-frame', 'bad-frame', 'too-many-topics']);
    const detailed = client.frames.filter((f) => f.type === 'error')[2] as unknown as { details: { path: string }[] };
    expect(detailed.details[0]?.path).toBe('topics.0');
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('closes with 1009 for a frame over the size limit', async () => {
    const client = await TestClient.connect(server.wsUrl);
    client.send({ type: 'subscribe', topics: ['x'.repeat(600)] });
    expect(await client.closed).toBe(1009);
  });

  it('closes with 4029 when a client floods frames', async () => {
    const client = await TestClient.connect(server.wsUrl);
    for (let i = 0; i < 60; i++) client.send({ type: 'ping' });
    expect(await client.closed).toBe(4029);
    expect(client.frames.some((f) => f.type === 'error' && f.code === 'rate-limited')).toBe(true);
  });

  it('refuses an upgrade from a foreign Origin with 403, and allows same-origin', async () => {
    await expect(TestClient.connect(server.wsUrl, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    const same = await TestClient.connect(server.wsUrl, { origin: server.url });
    await same.waitForType('welcome');
    await same.close();
  });

  it('answers 404 to an upgrade on another path', async () => {
    await expect(TestClient.connect(server.wsUrl.replace('/ws', '/other'))).rejects.toThrow(/404/);
  });
});

describe('slow consumers', () => {
  it('closes a reader that does not drain with 4008; it resumes by cursor and loses nothing', async () => {
    const slow = await startServer({ env: { WS_SEND_BUFFER_BYTES: '65536' } });
    // Whole items, bodies and all: cards alone would take long to fill a buffer.
    const client = await TestClient.connect(`${slow.wsUrl}?detail=full`, { topics: ['firehose'] });
    await client.waitForType('welcome');
    const start = client.cursor as string;
    // Stop reading: the kernel buffers fill, then the server's send buffer.
    (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const ids: string[] = [];
    const body = `<p>${'x'.repeat(150_000)}</p>`;
    const slowCloses = () => metric(slow, 'newswire_slow_consumer_closes_total', NaN);
    // Publish until the server gives up on the reader, and read again at once:
    // the server cuts a peer that does not take its close frame within 2 s.
    for (let i = 0; i < 80; i++) {
      const res = await api(slow, 'POST', '/api/v1/items', newItem({ topics: ['firehose'], body }));
      ids.push(res.body.item.id);
      if (i % 4 === 3 && (await slowCloses()) > 0) break;
    }
    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await client.closed).toBe(4008);
    // Published after the close: the resume must bring these too.
    for (let i = 0; i < 3; i++) ids.push((await api(slow, 'POST', '/api/v1/items', newItem({ topics: ['firehose'], body }))).body.item.id);
    const got = client.events.map((e) => e.item?.id);
    expect(got.length).toBeLessThan(ids.length);
    const back = await TestClient.connect(slow.wsUrl, { topics: ['firehose'], cursor: client.cursor ?? start });
    await back.waitForEvents(ids.length - got.length, 15_000);
    expect([...got, ...back.events.map((e) => e.item?.id)]).toEqual(ids);
    await back.close();
    await slow.stop();
  });
});

describe('heartbeats', () => {
  it('drops a peer that stops answering pings', async () => {
    const beating = await startServer({ env: { WS_HEARTBEAT_SECONDS: '1' } });
    const live = await TestClient.connect(beating.wsUrl);
    const dead = await TestClient.connect(beating.wsUrl);
    await Promise.all([live.waitForType('welcome'), dead.waitForType('welcome')]);
    // A peer that reads nothing never sees the pings, so never answers them.
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const connections = () => metric(beating, 'newswire_ws_connections', NaN);
    expect(await connections()).toBe(2);
    const deadline = Date.now() + 5_000;
    while ((await connections()) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await connections()).toBe(1);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    await live.close();
    await beating.stop();
  });
});

describe('corrections that change topics', () => {
  it('reach the readers of a topic the item left, live and on resume', async () => {
    const left = await TestClient.connect(server.wsUrl, { topics: ['moved-from'] });
    await left.waitForType('welcome');
    const start = left.cursor as string;
    const { item } = await publish({ topics: ['moved-from', 'kept'] });
    const cached = await (await fetch(`${server.url}/feeds/moved-from.json`)).json();
    expect(cached.items).toHaveLength(1);
    const put = await api(server, 'PUT', `/api/v1/items/${item.id}`, { headline: 'Moved', topics: ['kept', 'moved-to'] });
    expect(put.status).toBe(200);
    const events = await left.waitForEvents(2);
    expect(events.map((e) => e.event)).toEqual(['published', 'updated']);
    expect(events[1]?.item?.topics).toEqual(['kept', 'moved-to']);
    await left.close();
    // The same from the log, for a reader resuming from before both events.
    const back = await TestClient.connect(server.wsUrl, { topics: ['moved-from'], cursor: start });
    expect((await back.waitForEvents(2)).map((e) => e.event)).toEqual(['published', 'updated']);
    await back.close();
    // Its feed no longer lists it.
    const feed = await (await fetch(`${server.url}/feeds/moved-from.json`)).json();
    expect(feed.items).toEqual([]);
  });
});
