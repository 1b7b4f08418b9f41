// Event streams against the one resume and reset (recovery.ts, through the
// sessions every transport shares): what an EventSource would see, event by
// event and id by id, with no gap, no duplicate and no reset after newer
// events; several events in one write; the held-events bound. Then the real
// SSE wire on a loopback socket: drains, stalls, ends.
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewsEvent } from '../../src/domain/event.ts';
import type { Edge } from '../../src/edge/guard.ts';
import { Hub } from '../../src/hub/hub.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { LiveSessions } from '../../src/realtime/live.ts';
import type { ConnectQuery } from '../../src/realtime/protocol.ts';
import type { Session } from '../../src/realtime/session.ts';
import { SseWire, type WireSocket } from '../../src/realtime/wire.ts';
import type { Store } from '../../src/store/store.ts';
import type { View, ViewCache } from '../../src/views/views.ts';
import { event, FakeWire, flushed } from '../support/fake-wire.ts';

const EPOCH = 'epochepoch01';

interface Dispatched {
  /** The EventSource's last event id once this event was dispatched. */
  lastEventId: string;
  type: string;
  data: Record<string, any>;
}

/**
 * An event stream as EventSource reads it: fields up to a blank line, `id`
 * kept as the last event id (even by a block without data), comments ignored.
 */
class StreamReader {
  readonly dispatched: Dispatched[] = [];
  lastEventId = '';
  private buffer = '';
  private block: { type: string; data: string[] } = { type: '', data: [] };

  feed(text: string): void {
    this.buffer += text;
    let end = this.buffer.indexOf('\n');
    while (end >= 0) {
      this.line(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 1);
      end = this.buffer.indexOf('\n');
    }
  }

  private line(line: string): void {
    if (line === '') {
      const { type, data } = this.block;
      this.block = { type: '', data: [] };
      if (data.length) this.dispatched.push({ lastEventId: this.lastEventId, type: type || 'message', data: JSON.parse(data.join('\n')) });
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.lastEventId = value;
    else if (field === 'event') this.block.type = value;
    else if (field === 'data') this.block.data.push(value);
  }
}

/** A socket that reads everything written as an event stream, and drains when told to. */
class FakeStream extends FakeWire {
  readonly framing = 'sse' as const;
  writes = 0;
  readonly reader = new StreamReader();
  closed: string | null = null;

  write(bytes: Buffer): void {
    this.writes++;
    this.buffered += bytes.length;
    this.reader.feed(bytes.toString('utf8'));
  }

  close(_code: number, reason: string): void {
    this.closed = reason;
  }

  get dispatched(): Dispatched[] {
    return this.reader.dispatched;
  }

  /** Seqs of the events dispatched, in order. */
  events(): number[] {
    return this.dispatched.filter((d) => d.data.type === 'event').map((d) => Number(String(d.data.cursor).split('-')[1]));
  }
}

const everything: LiveSessions[] = [];
afterEach(async () => {
  for (const live of everything.splice(0)) await live.shutdown(0);
});

async function setup(options: { log?: number; recent?: number; sendBuffer?: number } = {}) {
  const log = Array.from({ length: options.log ?? 0 }, (_, i) => event(i + 1));
  const hub = new Hub({}, { events: options.recent ?? 4_096, bytes: 64 * 1024 * 1024 });
  hub.startAt(EPOCH, 0);
  for (const e of log) hub.deliver(e, EPOCH);
  await flushed();
  const store = {
    async head() {
      return { epoch: EPOCH, seq: log.length, floor: 0 };
    },
    async readAfter(after: number, limit: number) {
      return log.filter((e) => e.seq > after).slice(0, limit);
    },
  };
  const views = {
    async get(): Promise<View> {
      const head = log.length;
      return {
        epoch: EPOCH,
        headSeq: head,
        detail: 'card',
        entries: [{ id: `i${head}`, order: head, json: `{"id":"i${head}"}`, expiresMs: undefined }],
        seq: head,
        at: undefined,
        staleAtMs: Number.POSITIVE_INFINITY,
      } as View;
    },
  };
  const live = new LiveSessions({
    hub,
    store: store as unknown as Store,
    views: views as unknown as ViewCache,
    metrics: createMetrics(),
    logger: createLogger('silent'),
    edge: {} as Edge,
    allowedOrigins: [],
    publicOrigin: undefined,
    limits: {
      maxPayload: 4_096,
      maxTopics: 8,
      maxItems: 4,
      sendBuffer: options.sendBuffer ?? 1_000_000,
      heartbeatMs: 60_000,
      maxConnections: 100,
      messagesPer10s: 100,
      snapshotItems: 50,
    },
  });
  everything.push(live);
  const connect = (search: string, wire: WireSocket = new FakeStream()) => {
    const query = live.parseQuery(new URLSearchParams(search)) as ConnectQuery;
    const session = live.join(wire, query);
    live.catchUp(session, query);
    return session;
  };
  return {
    hub,
    live,
    connect,
    publish(seq: number, topics?: string[], type?: NewsEvent['type']) {
      const e = event(seq, topics, type);
      log.push(e);
      hub.deliver(e, EPOCH);
    },
  };
}

/** Resolves once the session holds no live event back: it caught up. */
async function caughtUp(session: Session): Promise<void> {
  for (let i = 0; i < 100 && session.holding; i++) await flushed();
  expect(session.holding).toBe(false);
}

describe('an event stream resumes through the same recovery', () => {
  it('without a cursor: the welcome carries the position as its id, then live events, each with its cursor as id', async () => {
    const t = await setup({ log: 3 });
    const wire = new FakeStream();
    const session = t.connect('topics=t', wire);
    await caughtUp(session);
    t.publish(4, ['t'], 'published');
    t.publish(5, ['other']);
    t.publish(6, ['t'], 'retracted');
    await flushed();
    expect(wire.dispatched.map((d) => [d.type, d.lastEventId])).toEqual([
      ['welcome', `${EPOCH}-3`],
      ['published', `${EPOCH}-4`],
      ['retracted', `${EPOCH}-6`],
    ]);
    expect(wire.dispatched[0]?.data).toMatchObject({ type: 'welcome', cursor: `${EPOCH}-3`, resumed: false, topics: ['t'] });
  });

  it('replays exactly what was missed from memory, then live events, nothing twice', async () => {
    const t = await setup({ log: 10 });
    const wire = new FakeStream();
    const session = t.connect(`cursor=${EPOCH}-4`, wire);
    t.publish(11);
    await caughtUp(session);
    await flushed();
    t.publish(12);
    await flushed();
    expect(wire.events()).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(wire.dispatched[0]).toMatchObject({ type: 'welcome', lastEventId: `${EPOCH}-4`, data: { resumed: true } });
    // Every event's id is its cursor: a reconnect after any of them resumes right after it.
    for (const d of wire.dispatched.slice(1)) expect(d.lastEventId).toBe(d.data.cursor);
  });

  it('replays from the log when memory does not reach back, whole items included', async () => {
    const t = await setup({ log: 30, recent: 5 });
    const wire = new FakeStream();
    const session = t.connect(`cursor=${EPOCH}-3&detail=full`, wire);
    await caughtUp(session);
    expect(wire.events()).toEqual(Array.from({ length: 27 }, (_, i) => i + 4));
    expect(wire.dispatched.filter((d) => d.type === 'published').every((d) => d.data.item.body === '<p>body</p>')).toBe(true);
  });

  it('sends the same event JSON as the WebSocket frame, built once for both', async () => {
    const t = await setup();
    const stream = new FakeStream();
    const streamed = t.connect('', stream);
    const frames: Buffer[] = [];
    const socket: WireSocket = {
      open: true,
      buffered: 0,
      write: (bytes) => frames.push(bytes),
      drainedTo: async () => true,
      ping() {},
      close() {},
      terminate() {},
    };
    const framed = t.connect('', socket);
    await Promise.all([caughtUp(streamed), caughtUp(framed)]);
    t.publish(1);
    await flushed();
    const frame = frames.at(-1) as Buffer;
    // An unmasked text frame under 64 KB: a 4-byte header (2 under 126 bytes), then the JSON.
    const header = ((frame[1] as number) & 0x7f) === 126 ? 4 : 2;
    expect(stream.dispatched.at(-1)?.data).toEqual(JSON.parse(frame.subarray(header).toString()));
    expect(stream.dispatched.at(-1)?.data).toMatchObject({ type: 'event', event: 'published', item: { id: 'i1' } });
  });

  it('writes events that arrive together in one write, as the WebSocket path does', async () => {
    const t = await setup();
    const wire = new FakeStream();
    const session = t.connect('', wire);
    await caughtUp(session);
    const before = wire.writes;
    for (let seq = 1; seq <= 5; seq++) t.publish(seq);
    await flushed();
    expect(wire.writes - before).toBe(1);
    expect(wire.events()).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers a cursor of another epoch with a welcome that moves nothing and a reset that does', async () => {
    const t = await setup({ log: 3 });
    const wire = new FakeStream();
    const session = t.connect('cursor=otherepoch01-2', wire);
    await caughtUp(session);
    t.publish(4);
    await flushed();
    expect(wire.dispatched.map((d) => [d.type, d.lastEventId])).toEqual([
      // No id on the welcome: a drop before the reset must come back for the reset.
      ['welcome', ''],
      ['reset', `${EPOCH}-3`],
      ['published', `${EPOCH}-4`],
    ]);
    expect(wire.dispatched[1]?.data).toMatchObject({ reason: 'epoch-changed', cursor: `${EPOCH}-3` });
  });

  it('bounds the live events held during a replay by bytes, and closes the stream past it', async () => {
    const t = await setup({ log: 30, recent: 5, sendBuffer: 2_000 });
    const wire = new FakeStream();
    // The reader does not read: the replay waits on the first drain.
    wire.buffered = 1_000_000;
    const session = t.connect(`cursor=${EPOCH}-0`, wire);
    for (let seq = 31; seq <= 60 && wire.closed === null; seq++) {
      t.publish(seq);
      await flushed();
    }
    expect(wire.closed).toMatch(/slow consumer/);
    expect(t.live.of('sse').has(session)).toBe(false);
    wire.terminate();
  });
});

describe('the SSE wire on a real socket', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A stream served by a real node:http server, with the client's socket paused (not reading) until told. */
  async function stream(): Promise<{ wire: SseWire; response: ServerResponse; client: Socket; serverSocket: Socket }> {
    let served: { response: ServerResponse; socket: Socket } | undefined;
    let ready: () => void = () => {};
    const serving = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const http = createServer((req, res) => {
      res.useChunkedEncodingByDefault = false;
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('retry: 1000\n\n');
      served = { response: res, socket: req.socket };
      ready();
    });
    server = http;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const client = await new Promise<Socket>((resolve) => {
      const req = request({ port, host: '127.0.0.1', path: '/sse' });
      req.on('socket', (socket) => resolve(socket));
      req.on('error', () => {});
      req.end();
    });
    await serving;
    const { response, socket } = served as { response: ServerResponse; socket: Socket };
    return { wire: new SseWire(response, socket), response, client, serverSocket: socket };
  }

  it('says it stalled only when bytes waited at a heartbeat and none was taken by the next', async () => {
    const { wire, client } = await stream();
    client.pause();
    expect(wire.framing).toBe('sse');
    // Nothing waits: however long the reader is quiet, it has not stalled.
    wire.ping();
    expect(wire.stalled).toBe(false);
    // Fill the kernel's buffers and then the socket's own.
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 200 && wire.buffered === 0; i++) {
      wire.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(wire.buffered).toBeGreaterThan(0);
    wire.ping();
    expect(wire.stalled).toBe(true);
    // Reading again: by the next heartbeat it has taken something.
    client.resume();
    expect(await wire.drainedTo(0, Date.now() + 5_000)).toBe(true);
    expect(wire.stalled).toBe(false);
  });

  it('gives up a drain at its deadline, and ends the stream after what was written', async () => {
    const { wire, client } = await stream();
    client.pause();
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 200 && wire.buffered === 0; i++) {
      wire.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    const began = Date.now();
    expect(await wire.drainedTo(0, Date.now() + 100)).toBe(false);
    expect(Date.now() - began).toBeLessThan(1_000);
    let received = '';
    client.on('data', (data: Buffer) => {
      received = (received + data.toString('latin1')).slice(-100);
    });
    const ended = new Promise((resolve) => client.once('close', resolve));
    wire.close(1001, 'server shutting down');
    expect(wire.open).toBe(false);
    client.resume();
    await ended;
    // The closing comment came last, after everything written before it.
    expect(received.endsWith('a: server shutting down\n\n')).toBe(true);
  });

  it('is cut at once by terminate, whatever waits', async () => {
    const { wire, client, serverSocket } = await stream();
    client.pause();
    wire.write(Buffer.alloc(8 * 1024 * 1024, 0x61));
    const closed = new Promise((resolve) => serverSocket.once('close', resolve));
    wire.terminate();
    await closed;
    expect(wire.open).toBe(false);
    expect(await wire.drainedTo(0, Date.now() + 1_000)).toBe(false);
  });
});
