// The event-stream contract (GET /sse) against real server processes, read
// by the `eventsource` package (what a Node client uses) and by a raw HTTP
// reader where the bytes themselves matter: headers, retry, heartbeats, live
// events by topic, resume with Last-Event-ID across a restart, reset, a slow
// reader cut and resumed without loss, limits shared with WebSockets,
// timeouts that must not cut a stream, and shutdown.
import { readdirSync, rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TcpProxy } from '../client/proxy.ts';
import { metric } from '../support/metrics.ts';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { until as poll } from '../support/wait.ts';

afterAll(cleanup);

interface Received {
  type: string;
  /** The event's own id ('' when it has none). */
  id: string;
  data: Record<string, any>;
}

const NAMES = ['welcome', 'published', 'updated', 'retracted', 'reset', 'error'];

/** An EventSource that records every named event; closed after each test. */
class Listener {
  readonly received: Received[] = [];
  readonly es: EventSource;

  constructor(url: string) {
    this.es = new EventSource(url);
    for (const type of NAMES) {
      this.es.addEventListener(type, (event) => {
        // Connection errors come as `error` events too, without data.
        const data = (event as MessageEvent).data;
        if (typeof data === 'string') this.received.push({ type, id: (event as MessageEvent).lastEventId, data: JSON.parse(data) });
      });
    }
    listeners.push(this);
  }

  get events(): Received[] {
    return this.received.filter((r) => r.data.type === 'event');
  }

  ids(): string[] {
    return this.events.map((e) => e.data.item.id);
  }

  of(type: string): Received | undefined {
    return this.received.find((r) => r.type === type);
  }
}

const listeners: Listener[] = [];
const streams: RawStream[] = [];
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const listener of listeners.splice(0)) listener.es.close();
  for (const stream of streams.splice(0)) stream.response.destroy();
  for (const ws of sockets.splice(0)) ws.terminate();
});

/** support/wait.ts's `until`, polling every 20 ms. */
const until: typeof poll = (check, what, timeoutMs) => poll(check, what, timeoutMs, 20);

interface Block {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** A stream read as bytes: every block, comments included, as it arrives. */
interface RawStream {
  status: number;
  headers: IncomingMessage['headers'];
  response: IncomingMessage;
  blocks: Block[];
  /** The whole body, for error answers. */
  text(): string;
  ended: Promise<void>;
}

function openRaw(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      let text = '';
      let rest = '';
      const blocks: Block[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        rest += chunk;
        let end = rest.indexOf('\n\n');
        while (end >= 0) {
          blocks.push(parseBlock(rest.slice(0, end)));
          rest = rest.slice(end + 2);
          end = rest.indexOf('\n\n');
        }
      });
      const ended = new Promise<void>((done) => {
        response.once('end', done);
        response.once('close', done);
      });
      const stream = { status: response.statusCode ?? 0, headers: response.headers, response, blocks, text: () => text, ended };
      streams.push(stream);
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

function parseBlock(text: string): Block {
  const block: Block = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) block.comment = line.slice(1).trim();
    const colon = line.indexOf(': ');
    if (colon > 0) block[line.slice(0, colon) as 'id' | 'event' | 'data' | 'retry'] = line.slice(colon + 2);
  }
  return block;
}

const eventBlocks = (stream: RawStream) => stream.blocks.filter((b) => b.event && b.data && JSON.parse(b.data).type === 'event');

describe('event streams', () => {
  let server: TestServer;
  const publish = (fields: Record<string, unknown> = {}, on: TestServer = server) => publishOk(on, fields);

  beforeAll(async () => {
    server = await startServer({ env: { WS_HEARTBEAT_SECONDS: '1', RESUME_MEMORY_EVENTS: '16' } });
  });

  it('answers with the stream headers, a retry line first, then the welcome and heartbeat comments', async () => {
    const stream = await openRaw(`${server.url}/sse?topics=headers-x`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['cache-control']).toBe('no-cache');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    await until(() => stream.blocks.some((b) => b.comment === 'ping'), 'a heartbeat comment');
    const [retry, welcome] = stream.blocks;
    expect(Number(retry?.retry)).toBeGreaterThanOrEqual(1_000);
    expect(Object.keys(retry ?? {})).toEqual(['retry']);
    expect(welcome?.event).toBe('welcome');
    const frame = JSON.parse(welcome?.data ?? '{}');
    expect(frame).toMatchObject({ type: 'welcome', resumed: false, topics: ['headers-x'], detail: 'card' });
    // Without a cursor, the welcome's position is where the reader resumes from.
    expect(welcome?.id).toBe(frame.cursor);
  });

  it('delivers live events by topic, each once, named by its type, with its cursor as id', async () => {
    const sports = new Listener(`${server.url}/sse?topics=sse-sports`);
    const both = new Listener(`${server.url}/sse?topics=sse-sports,sse-markets`);
    const all = new Listener(`${server.url}/sse`);
    await until(() => [sports, both, all].every((l) => l.of('welcome')), 'three welcomes');
    expect(all.of('welcome')?.data.topics).toEqual(['all']);
    const a = await publish({ topics: ['sse-sports'] });
    const b = await publish({ topics: ['sse-markets'] });
    const c = await publish({ topics: ['sse-sports', 'sse-markets'] });
    const d = await publish({ topics: ['sse-weather'] });
    const put = await api(server, 'PUT', `/api/v1/items/${a.item.id}`, { headline: 'Corrected', topics: ['sse-sports'] });
    const del = await api(server, 'DELETE', `/api/v1/items/${c.item.id}?reason=Withdrawn`);
    await until(() => all.events.length >= 6 && both.events.length >= 5 && sports.events.length >= 4, 'every event');
    expect(sports.events.map((e) => `${e.type} ${e.data.item.id}`)).toEqual([
      `published ${a.item.id}`,
      `published ${c.item.id}`,
      `updated ${a.item.id}`,
      `retracted ${c.item.id}`,
    ]);
    // An item in two followed topics arrives once.
    expect(both.ids()).toEqual([a.item.id, b.item.id, c.item.id, a.item.id, c.item.id]);
    expect(all.events.map((e) => e.id)).toEqual([a.cursor, b.cursor, c.cursor, d.cursor, put.body.cursor, del.body.cursor]);
    // The data is the WebSocket's event frame.
    expect(sports.events[2]?.data).toMatchObject({ type: 'event', event: 'updated', cursor: put.body.cursor, item: { headline: 'Corrected', version: 2 } });
    expect(sports.events[3]?.data.item).toMatchObject({ status: 'retracted', reason: 'Withdrawn' });
  });

  it('answers a cursor of another epoch with a reset (its cursor as id), then live events', async () => {
    const latest = await publish({ topics: ['sse-reset'] });
    const listener = new Listener(`${server.url}/sse?topics=sse-reset&cursor=zzzzzzzzzzzzzzzz-3`);
    const reset = await until(() => listener.of('reset'), 'a reset');
    expect(reset.data.reason).toBe('epoch-changed');
    expect(reset.data.items[0].id).toBe(latest.item.id);
    expect(reset.id).toBe(reset.data.cursor);
    // The welcome before it does not move the reader: a drop between the two comes back for the reset.
    expect(listener.of('welcome')?.id).toBe('');
    const live = await publish({ topics: ['sse-reset'] });
    await until(() => listener.events.length === 1, 'the live event');
    expect(listener.ids()).toEqual([live.item.id]);
  });

  it('takes Last-Event-ID over ?cursor=, and refuses a bad query or method with JSON', async () => {
    const first = await publish({ topics: ['sse-header'] });
    const second = await publish({ topics: ['sse-header'] });
    const third = await publish({ topics: ['sse-header'] });
    const stream = await openRaw(`${server.url}/sse?topics=sse-header&cursor=${first.cursor}`, { 'last-event-id': second.cursor });
    await until(() => eventBlocks(stream).length >= 1, 'the replay');
    expect(JSON.parse(stream.blocks[1]?.data ?? '{}')).toMatchObject({ type: 'welcome', resumed: true, cursor: second.cursor });
    expect(eventBlocks(stream).map((b) => b.id)).toEqual([third.cursor]);

    for (const query of ['topics=Bad%20Topic', 'cursor=not-a-cursor', 'detail=huge']) {
      const bad = await openRaw(`${server.url}/sse?${query}`);
      await bad.ended;
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text())).toMatchObject({ error: { code: 'bad-request' } });
    }
    const post = await fetch(`${server.url}/sse`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('applies the WebSocket Origin rule, with CORS for the origins it allows', async () => {
    const foreign = await openRaw(`${server.url}/sse`, { origin: 'https://evil.example' });
    await foreign.ended;
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const same = await openRaw(`${server.url}/sse`, { origin: server.url });
    expect(same.status).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBe(server.url);
    // EventSource on the same origin sends no Origin at all.
    const plain = await openRaw(`${server.url}/sse`);
    expect(plain.status).toBe(200);
  });
});

describe('resume across a restart', () => {
  it('comes back with Last-Event-ID and gets exactly what was published meanwhile, in order', async () => {
    let server = await startServer();
    const proxy = await TcpProxy.start(server.port);
    try {
      const start = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'] }));
      // The URL's cursor stays the first one; on reconnects the browser's Last-Event-ID is newer, and wins.
      const listener = new Listener(`${proxy.url}/sse?topics=world&cursor=${start.body.cursor}`);
      const publish = async (fields: Record<string, unknown>) => (await api(server, 'POST', '/api/v1/items', newItem(fields))).body;
      const a = await publish({ topics: ['world'] });
      const b = await publish({ topics: ['world'] });
      await until(() => listener.events.length === 2, 'two events');

      await server.stop();
      proxy.cut();
      server = await server.restart();
      const c = await publish({ topics: ['world'] });
      await publish({ topics: ['sport'] });
      const corrected = await api(server, 'PUT', `/api/v1/items/${a.item.id}`, { headline: 'Corrected', topics: ['world'] });
      expect(corrected.status).toBe(200);
      expect((await api(server, 'DELETE', `/api/v1/items/${b.item.id}?reason=duplicate`)).status).toBe(200);
      const d = await publish({ topics: ['world'] });
      expect(listener.events).toHaveLength(2);

      proxy.heal();
      await until(() => listener.events.length >= 6, 'the missed events', 15_000);
      const last = await publish({ topics: ['world'] });
      await until(() => listener.events.length >= 7, 'a live event after the resume');
      expect(listener.events.map((e) => `${e.type} ${e.data.item.id}`)).toEqual([
        `published ${a.item.id}`,
        `published ${b.item.id}`,
        `published ${c.item.id}`,
        `updated ${a.item.id}`,
        `retracted ${b.item.id}`,
        `published ${d.item.id}`,
        `published ${last.item.id}`,
      ]);
      const welcomes = listener.received.filter((r) => r.type === 'welcome');
      expect(welcomes.at(-1)?.data).toMatchObject({ resumed: true, cursor: b.cursor });
      expect(listener.of('reset')).toBeUndefined();
    } finally {
      await proxy.close();
      await server.stop();
    }
  });

  it('gets a reset when the log was replaced while it was away', async () => {
    let server = await startServer();
    try {
      const listener = new Listener(`${server.url}/sse`);
      await until(() => listener.of('welcome'), 'the welcome');
      await api(server, 'POST', '/api/v1/items', newItem());
      await until(() => listener.events.length === 1, 'an event');
      await server.stop();
      for (const entry of readdirSync(server.dataDir)) rmSync(join(server.dataDir, entry), { recursive: true, force: true });
      server = await server.restart();
      const fresh = (await api(server, 'POST', '/api/v1/items', newItem())).body;
      const reset = await until(() => listener.of('reset'), 'a reset', 15_000);
      expect(reset.data.reason).toBe('epoch-changed');
      const shown = [...reset.data.items.map((i: { id: string }) => i.id), ...listener.events.slice(1).map((e) => e.data.item.id)];
      expect(shown).toContain(fresh.item.id);
    } finally {
      await server.stop();
    }
  });
});

describe('a slow reader', () => {
  it('is cut at the send-buffer bound; with Last-Event-ID it gets the rest, nothing lost, nothing twice', async () => {
    const slow = await startServer({ env: { WS_SEND_BUFFER_BYTES: '65536' } });
    try {
      const stream = await openRaw(`${slow.url}/sse?topics=sse-firehose&detail=full`);
      await until(() => stream.blocks.some((b) => b.event === 'welcome'), 'the welcome');
      stream.response.pause();
      const body = `<p>${'x'.repeat(150_000)}</p>`;
      const slowCloses = () => metric(slow, 'newswire_slow_consumer_closes_total', NaN);
      const ids: string[] = [];
      for (let i = 0; i < 80; i++) {
        const res = await api(slow, 'POST', '/api/v1/items', newItem({ topics: ['sse-firehose'], body }));
        ids.push(res.body.item.id);
        if (i % 4 === 3 && (await slowCloses()) > 0) break;
      }
      expect(await slowCloses()).toBe(1);
      stream.response.resume();
      await stream.ended;
      for (let i = 0; i < 3; i++) ids.push((await api(slow, 'POST', '/api/v1/items', newItem({ topics: ['sse-firehose'], body }))).body.item.id);
      const got = eventBlocks(stream);
      expect(got.length).toBeLessThan(ids.length);
      const lastId = (got.at(-1) ?? stream.blocks.find((b) => b.event === 'welcome'))?.id as string;
      const back = await openRaw(`${slow.url}/sse?topics=sse-firehose`, { 'last-event-id': lastId });
      await until(() => eventBlocks(back).length >= ids.length - got.length, 'the rest', 15_000);
      const itemIds = (blocks: Block[]) => blocks.map((b) => JSON.parse(b.data as string).item.id);
      expect([...itemIds(got), ...itemIds(eventBlocks(back))]).toEqual(ids);
    } finally {
      await slow.stop();
    }
  });
});

describe('limits shared with WebSockets', () => {
  const websocket = (url: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers });
      sockets.push(ws);
      ws.on('open', () => resolve(101));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(0));
    });

  it('counts streams and WebSockets of one address together (429), and against one process ceiling (503)', async () => {
    // Behind a trusted proxy the per-address count is of the forwarded address, not of TCP connections.
    const server = await startServer({ env: { TRUST_PROXY: 'loopback', MAX_CONNECTIONS_PER_ADDRESS: '3', WS_MAX_CONNECTIONS: '5' } });
    try {
      const from = (address: string) => ({ 'x-forwarded-for': address });
      expect(await websocket(server.wsUrl, from('203.0.113.7'))).toBe(101);
      const first = await openRaw(`${server.url}/sse`, from('203.0.113.7'));
      const second = await openRaw(`${server.url}/sse`, from('203.0.113.7'));
      expect([first.status, second.status]).toEqual([200, 200]);
      const over = await openRaw(`${server.url}/sse`, from('203.0.113.7'));
      await over.ended;
      expect(over.status).toBe(429);
      expect(over.headers['retry-after']).toBe('10');
      expect(JSON.parse(over.text())).toMatchObject({ error: { code: 'too-many-requests' } });
      expect(await websocket(server.wsUrl, from('203.0.113.7'))).toBe(429);
      // A stream that ends gives its place back.
      first.response.destroy();
      await until(async () => {
        const again = await openRaw(`${server.url}/sse`, from('203.0.113.7'));
        if (again.status !== 200) await again.ended;
        return again.status === 200;
      }, 'a place again');

      // The process holds 5 live connections of any kind: 3 above, 2 more from elsewhere.
      expect(await websocket(server.wsUrl, from('198.51.100.1'))).toBe(101);
      expect((await openRaw(`${server.url}/sse`, from('198.51.100.2'))).status).toBe(200);
      const full = await openRaw(`${server.url}/sse`, from('198.51.100.3'));
      await full.ended;
      expect(full.status).toBe(503);
      expect(await websocket(server.wsUrl, from('198.51.100.4'))).toBe(503);
    } finally {
      await server.stop();
    }
  });
});

describe('timeouts and shutdown', () => {
  it('outlives the HTTP timeouts, and ends every stream promptly on SIGTERM', async () => {
    const server = await startServer({
      env: { HEADERS_TIMEOUT_SECONDS: '1', REQUEST_TIMEOUT_SECONDS: '1', KEEP_ALIVE_SECONDS: '1', WS_HEARTBEAT_SECONDS: '3', SHUTDOWN_GRACE_SECONDS: '10' },
    });
    const opened = Date.now();
    const readers = await Promise.all([1, 2, 3].map(() => openRaw(`${server.url}/sse`)));
    // The first heartbeat comes after 3 s, past the 2 s an HTTP connection may stay quiet.
    await until(() => readers.every((r) => r.blocks.some((b) => b.comment === 'ping')), 'a heartbeat on every stream', 8_000);
    expect(Date.now() - opened).toBeGreaterThan(2_000);
    const late = await api(server, 'POST', '/api/v1/items', newItem());
    await until(() => readers.every((r) => eventBlocks(r).some((b) => b.id === late.body.cursor)), 'the event on every stream');

    const stopping = Date.now();
    const exit = server.stop();
    await Promise.all(readers.map((r) => r.ended));
    // Without the streams ended by the server, the process would wait out its 10 s grace.
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(await exit).toBe(0);
    expect(readers.every((r) => r.blocks.at(-1)?.comment === 'server shutting down')).toBe(true);
  });
});
