// The browser client module, run in Node against real server processes.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, cursorKey, type EventFrame, parseCursor, streamUrl } from '../../public/client.js';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { TcpProxy } from './proxy.ts';
import { Recorder } from './recorder.ts';

const FAST = { initialDelayMs: 50, maxDelayMs: 400 };

/** Every event cursor is new: nothing was delivered twice. */
function expectNoDuplicates(events: EventFrame[]): void {
  const cursors = events.map((e) => e.cursor);
  expect(new Set(cursors).size).toBe(cursors.length);
  const seqs = events.map((e) => parseCursor(e.cursor)?.seq ?? -1);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
}

class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

/**
 * A server for one describe block; recorders tracked and proxies made through
 * it are closed after each test, the servers after the block.
 */
function useServer() {
  const recorders: Recorder[] = [];
  const proxies: TcpProxy[] = [];
  const fixture = {
    server: undefined as unknown as TestServer,
    track(recorder: Recorder): Recorder {
      recorders.push(recorder);
      return recorder;
    },
    async proxy(options?: { dropUpgrades?: boolean }): Promise<TcpProxy> {
      const proxy = await TcpProxy.start(fixture.server.port, options);
      proxies.push(proxy);
      return proxy;
    },
    publish: (fields: Record<string, unknown> = {}) => publishOk(fixture.server, fields),
  };
  beforeAll(async () => {
    fixture.server = await startServer();
  });
  afterEach(async () => {
    for (const recorder of recorders.splice(0)) recorder.client.close();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });
  afterAll(cleanup);
  return fixture;
}

describe('backoff', () => {
  it('doubles up to the ceiling, with half of each delay random', () => {
    expect(backoffDelay(1, 1000, 30_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 30_000, () => 0)).toBe(4000);
    expect(backoffDelay(4, 1000, 30_000, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(30, 1000, 30_000, () => 0)).toBe(15_000);
  });

  it('finds the event stream beside the WebSocket', () => {
    expect(streamUrl('ws://127.0.0.1:3000/ws?topics=a')).toBe('http://127.0.0.1:3000/sse');
    expect(streamUrl('wss://news.example.com/live/ws')).toBe('https://news.example.com/live/sse');
  });

  it('keeps one cursor per topic set, whatever the order', () => {
    expect(cursorKey(['b', 'a'])).toBe(cursorKey(['a', 'b']));
    expect(cursorKey(null)).toBe(cursorKey(['all']));
    expect(cursorKey(['a'])).not.toBe(cursorKey(['a', 'b']));
  });
});

describe('NewsClient against a real server', () => {
  const fx = useServer();
  const { track, publish } = fx;

  it('starts at now, then delivers events in log order and follows the cursor', async () => {
    const before = await publish();
    const rec = track(new Recorder(fx.server.wsUrl, FAST).start());
    await rec.live();
    const published = [await publish(), await publish(), await publish()];
    await rec.eventCount(3);
    expect(rec.events.map((e) => e.item.id)).toEqual(published.map((p) => p.item.id));
    expect(rec.events.some((e) => e.item.id === before.item.id)).toBe(false);
    expect(rec.client.cursor).toBe(published[2]?.cursor);
    expect(rec.states.map((s) => s.state)).toEqual(['connecting', 'live']);
  });

  it('resumes from a cursor it is given', async () => {
    const first = await publish();
    const second = await publish();
    const third = await publish();
    const rec = track(new Recorder(fx.server.wsUrl, { ...FAST, cursor: first.cursor }).start());
    await rec.eventCount(2);
    expect(rec.events.map((e) => e.item.id)).toEqual([second.item.id, third.item.id]);
  });

  it('after a restart and a partition, catches up with what was published meanwhile: nothing lost, nothing twice', async () => {
    const proxy = await fx.proxy();
    const rec = track(new Recorder(proxy.wsUrl, FAST).start());
    await rec.live();
    const a = await publish({ topics: ['world'] });
    const b = await publish({ topics: ['sport'] });
    await rec.eventCount(2);

    // The server goes away (1001), and while the client is cut off the server
    // comes back and the newsroom keeps writing.
    const stopping = fx.server.stop();
    await rec.until(() => rec.client.state === 'reconnecting', 'reconnecting');
    await stopping;
    proxy.cut();
    fx.server = await fx.server.restart();
    const c = await publish({ topics: ['world'] });
    const updated = await api(fx.server, 'PUT', `/api/v1/items/${a.item.id}`, { ...newItem({ id: a.item.id, topics: ['world'] }), headline: 'Corrected', changeNote: 'fixes the headline' });
    expect(updated.status).toBe(200);
    expect((await api(fx.server, 'DELETE', `/api/v1/items/${b.item.id}`, { reason: 'duplicate' })).status).toBe(200);
    const d = await publish({ topics: ['world'] });
    expect(rec.client.state).toBe('reconnecting');
    expect(rec.events).toHaveLength(2);

    proxy.heal();
    await rec.eventCount(6);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rec.seen).toEqual([
      `published ${a.item.id}@1`,
      `published ${b.item.id}@1`,
      `published ${c.item.id}@1`,
      `updated ${a.item.id}@2`,
      `retracted ${b.item.id}@2`,
      `published ${d.item.id}@1`,
    ]);
    expectNoDuplicates(rec.events);
    expect(rec.resets).toHaveLength(0);
    expect(rec.client.cursor).toBe(d.cursor);
    expect(rec.client.state).toBe('live');
  });

  it('after a plain restart, events published at once are delivered exactly once', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, FAST).start());
    await rec.live();
    await publish();
    await rec.eventCount(1);
    fx.server = await fx.server.restart();
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await publish());
    await rec.eventCount(6);
    await rec.live();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rec.events.slice(1).map((e) => e.item.id)).toEqual(burst.map((p) => p.item.id));
    expectNoDuplicates(rec.events);
    expect(rec.states.map((s) => s.state)).toContain('reconnecting');
  });

  it('drops a frame at or below its cursor', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, FAST).start());
    await rec.live();
    await publish();
    await publish();
    const [first, second] = await rec.eventCount(2);
    // Feed the same frames again, as a buggy or replaying server would.
    const receive = (rec.client as unknown as { receive(data: string): void }).receive.bind(rec.client);
    receive(JSON.stringify(first));
    receive(JSON.stringify(second));
    expect(rec.events).toHaveLength(2);
  });

  it('on a new epoch (the log was replaced) gets a reset with a fresh snapshot', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, FAST).start());
    await rec.live();
    await publish();
    await rec.eventCount(1);
    const oldCursor = rec.client.cursor;
    await fx.server.stop();
    for (const entry of readdirSync(fx.server.dataDir)) rmSync(join(fx.server.dataDir, entry), { recursive: true, force: true });
    fx.server = await fx.server.restart();
    const fresh = await publish();
    const reset = await rec.until(() => rec.resets[0], 'a reset');
    expect(reset.reason).toBe('epoch-changed');
    // Published before or after the reconnect: either in the snapshot or as an event after it.
    const shown = [...reset.items.map((i) => i.id), ...rec.events.slice(1).map((e) => e.item.id)];
    expect(shown).toContain(fresh.item.id);
    expect(parseCursor(rec.client.cursor)?.epoch).not.toBe(parseCursor(oldCursor)?.epoch);
  });

  it('subscribes and unsubscribes, and keeps its topics across reconnects', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, { ...FAST, topics: ['sport'] }).start());
    await rec.live();
    await publish({ topics: ['world'] });
    await rec.client.subscribe(['world']);
    const world = await publish({ topics: ['world'] });
    await rec.until(() => rec.events.find((e) => e.item.id === world.item.id), 'the world item');
    await rec.client.unsubscribe(['sport']);
    expect(rec.client.topics).toEqual(['world']);
    await publish({ topics: ['sport'] });
    const barrier = await publish({ topics: ['world'] });
    await rec.until(() => rec.events.find((e) => e.item.id === barrier.item.id), 'the barrier');
    expect(rec.events.map((e) => e.item.id)).toEqual([world.item.id, barrier.item.id]);

    fx.server = await fx.server.restart();
    await rec.until(() => rec.client.state === 'live' && rec.states.some((s) => s.state === 'reconnecting'), 'live again');
    await publish({ topics: ['sport'] });
    const after = await publish({ topics: ['world'] });
    await rec.until(() => rec.events.find((e) => e.item.id === after.item.id), 'the item after the restart');
    expect(rec.events.map((e) => e.item.id)).toEqual([world.item.id, barrier.item.id, after.item.id]);
  });

  it('rejects a subscription the server refuses', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, { ...FAST, topics: ['sport'] }).start());
    await rec.live();
    await expect(rec.client.subscribe(['Not A Slug'])).rejects.toThrow();
    const item = await publish({ topics: ['sport'] });
    await rec.until(() => rec.events.find((e) => e.item.id === item.item.id), 'the connection to keep working');
  });

  it('backs off exponentially with jitter while the server is down, and comes back', async () => {
    const proxy = await fx.proxy();
    const rec = track(new Recorder(proxy.wsUrl, { initialDelayMs: 40, maxDelayMs: 320 }).start());
    await rec.live();
    proxy.cut();
    await rec.until(() => rec.states.filter((s) => s.state === 'reconnecting').length >= 6, '6 attempts');
    const delays = rec.states.filter((s) => s.state === 'reconnecting').map((s) => s.info);
    for (const { attempt, delayMs } of delays.slice(0, 6)) {
      const ceiling = Math.min(320, 40 * 2 ** (attempt - 1));
      expect(delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delayMs).toBeLessThanOrEqual(ceiling);
    }
    expect(delays.slice(0, 6).map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    proxy.heal();
    await rec.live();
    // A working connection starts the count again.
    expect(rec.client.attempt).toBe(0);
  });

  it('does not retry a request the server calls bad', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, { ...FAST, topics: ['Bad Topic'] }).start());
    await rec.until(() => rec.client.state === 'offline', 'offline');
    expect(rec.errors[0]?.code).toBe('bad-request');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rec.states.map((s) => s.state)).toEqual(['connecting', 'offline']);
  });

  it('keeps its cursor in storage per topic set, so a new page resumes where the last one stopped', async () => {
    const storage = new MemoryStorage();
    const first = track(new Recorder(fx.server.wsUrl, { ...FAST, topics: ['world'], storage }).start());
    await first.live();
    await publish({ topics: ['world'] });
    await first.eventCount(1);
    first.client.close();
    expect(storage.getItem(cursorKey(['world']))).toBe(first.client.cursor);

    const missed = await publish({ topics: ['world'] });
    const second = track(new Recorder(fx.server.wsUrl, { ...FAST, topics: ['world'], storage }).start());
    await second.eventCount(1);
    expect(second.events.map((e) => e.item.id)).toEqual([missed.item.id]);

    // Another topic set has its own position: it starts at now.
    const other = track(new Recorder(fx.server.wsUrl, { ...FAST, topics: ['sport'], storage }).start());
    await other.live();
    expect(other.events).toHaveLength(0);
  });

  it('stops for good on close()', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, FAST).start());
    await rec.live();
    rec.client.close();
    expect(rec.client.state).toBe('closed');
    await publish();
    fx.server = await fx.server.restart();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rec.states.map((s) => s.state)).toEqual(['connecting', 'live', 'closed']);
    expect(rec.events).toHaveLength(0);
  });
});

describe('NewsClient over an event stream', () => {
  const fx = useServer();
  const { track, publish } = fx;
  const SSE = { ...FAST, transport: 'sse' as const, EventSource };

  it('starts at now, delivers events in log order and follows the cursor', async () => {
    await publish();
    const rec = track(new Recorder(fx.server.wsUrl, SSE).start());
    await rec.live();
    const published = [await publish(), await publish(), await publish()];
    await rec.eventCount(3);
    expect(rec.events.map((e) => e.item.id)).toEqual(published.map((p) => p.item.id));
    expect(rec.client.cursor).toBe(published[2]?.cursor);
    expect(rec.client.using).toBe('sse');
    expect(rec.states.map((s) => s.state)).toEqual(['connecting', 'live']);
  });

  it('after a restart and a partition, catches up with its own cursor: nothing lost, nothing twice', async () => {
    const proxy = await fx.proxy();
    const rec = track(new Recorder(proxy.wsUrl, SSE).start());
    await rec.live();
    const a = await publish({ topics: ['world'] });
    await rec.eventCount(1);
    const stopping = fx.server.stop();
    await rec.until(() => rec.client.state === 'reconnecting', 'reconnecting');
    await stopping;
    proxy.cut();
    fx.server = await fx.server.restart();
    const b = await publish({ topics: ['world'] });
    expect((await api(fx.server, 'DELETE', `/api/v1/items/${a.item.id}`, { reason: 'duplicate' })).status).toBe(200);
    const c = await publish({ topics: ['sport'] });
    proxy.heal();
    await rec.eventCount(4);
    await rec.live();
    expect(rec.seen).toEqual([`published ${a.item.id}@1`, `published ${b.item.id}@1`, `retracted ${a.item.id}@2`, `published ${c.item.id}@1`]);
    expectNoDuplicates(rec.events);
    expect(rec.resets).toHaveLength(0);
  });

  it('changes topics by reopening the stream from its cursor, and keeps the old ones when the server refuses the new', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, { ...SSE, topics: ['sport'] }).start());
    await rec.live();
    await rec.client.subscribe(['world']);
    expect(rec.client.topics).toEqual(['sport', 'world']);
    const world = await publish({ topics: ['world'] });
    await rec.until(() => rec.events.find((e) => e.item.id === world.item.id), 'the world item');
    await rec.client.unsubscribe(['world']);
    await publish({ topics: ['world'] });
    await expect(rec.client.subscribe(['Not A Slug'])).rejects.toMatchObject({ code: 'bad-request' });
    expect(rec.client.topics).toEqual(['sport']);
    const sport = await publish({ topics: ['sport'] });
    await rec.until(() => rec.events.find((e) => e.item.id === sport.item.id), 'the sport item');
    expect(rec.events.map((e) => e.item.id)).toEqual([world.item.id, sport.item.id]);
    expectNoDuplicates(rec.events);
  });

  it('does not retry a stream the server calls bad, and says why', async () => {
    const rec = track(new Recorder(fx.server.wsUrl, { ...SSE, topics: ['Bad Topic'] }).start());
    await rec.until(() => rec.client.state === 'offline', 'offline');
    expect(rec.errors[0]?.code).toBe('bad-request');
    expect(rec.states.map((s) => s.state)).toEqual(['connecting', 'offline']);
    expect(rec.states[1]?.info.code).toBe(400);
  });

  it("'auto' falls back to the event stream after WebSocket attempts that never opened, and loses nothing", async () => {
    const blocker = await fx.proxy({ dropUpgrades: true });
    const before = await publish();
    const rec = track(new Recorder(blocker.wsUrl, { ...FAST, transport: 'auto', EventSource, cursor: before.cursor }).start());
    const missed = await publish();
    await rec.live();
    expect(rec.client.using).toBe('sse');
    expect(blocker.dropped).toBe(3);
    expect(rec.states.map((s) => s.state)).toEqual(['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'live']);
    const live = await publish();
    await rec.eventCount(2);
    expect(rec.events.map((e) => e.item.id)).toEqual([missed.item.id, live.item.id]);
  });

  it("'auto' stays on WebSocket where it works", async () => {
    const rec = track(new Recorder(fx.server.wsUrl, { ...FAST, transport: 'auto', EventSource }).start());
    await rec.live();
    const item = await publish();
    await rec.eventCount(1);
    expect(rec.events[0]?.item.id).toBe(item.item.id);
    expect(rec.client.using).toBe('websocket');
  });
});
