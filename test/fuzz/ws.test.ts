// Generated WebSocket frame sequences (and connect queries) against a real
// server in this process: every answer is a documented frame, every close a
// documented code, and the process keeps serving. The seed is printed; set
// FUZZ_SEED to replay a run, FUZZ_RUNS to change its size.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FUZZ, useFuzzServer } from '../support/in-process.ts';

const RUNS = FUZZ.runs;
const MAX_PAYLOAD = 1_024;
const FRAME_TYPES = new Set(['welcome', 'event', 'reset', 'subscribed', 'pong', 'error']);
/** Close codes the README documents for what a client can cause. */
const CLIENT_CLOSES = new Set([1009, 4029, 4400]);

const server = useFuzzServer(
  {
    WS_RATE_PER_10S: '100000',
    WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
    WS_MAX_TOPICS: '16',
    MAX_CONNECTIONS_PER_ADDRESS: '100000',
    CONNECTIONS_PER_SECOND_PER_ADDRESS: '100000',
  },
  'frame sequences',
);

const slug = fc.oneof(fc.constantFrom('world', 'politics', 'all'), fc.stringMatching(/^[a-z0-9]{1,6}(?:-[a-z0-9]{1,6})?$/));
const junk = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.integer(), fc.constant(null), fc.boolean());
const frame = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe'), topics: fc.array(slug, { maxLength: 20 }) }).map((f) => JSON.stringify(f)) },
  { weight: 2, arbitrary: fc.constant('{"type":"ping"}') },
  {
    weight: 3,
    arbitrary: fc
      .record({ type: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'dance', ''), junk), topics: fc.oneof(fc.array(junk, { maxLength: 5 }), junk), extra: junk }, { requiredKeys: [] })
      .map((f) => JSON.stringify(f)),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 50 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(MAX_PAYLOAD + 10)) },
);
const query = fc.record(
  {
    topics: fc.oneof(fc.array(slug, { maxLength: 20 }).map((t) => t.join(',')), fc.string({ maxLength: 30 })),
    items: fc.oneof(fc.array(fc.stringMatching(/^[a-z0-9-]{1,10}$/), { maxLength: 20 }).map((t) => t.join(',')), fc.string({ maxLength: 20 })),
    detail: fc.oneof(fc.constantFrom('card', 'full'), fc.string({ maxLength: 6 })),
    cursor: fc.oneof(fc.constantFrom('zzzzzzzzzzzzzzzz-1', 'abc', '-1', ''), fc.string({ maxLength: 20 })),
  },
  { requiredKeys: [] },
);

interface Conn {
  ws: WebSocket;
  frames: Record<string, any>[];
  closed: number | null;
  wake: (() => void) | null;
}

function checkFrame(text: string): Record<string, any> {
  const value = JSON.parse(text);
  expect(FRAME_TYPES.has(value.type), text.slice(0, 200)).toBe(true);
  if (value.type === 'error') {
    expect(typeof value.code).toBe('string');
    expect(typeof value.message).toBe('string');
  }
  return value;
}

/** Opens a connection; null when the server refused the upgrade (a 4xx on a bad query). */
function open(target: string): Promise<Conn | null> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target);
    const conn: Conn = { ws, frames: [], closed: null, wake: null };
    ws.on('message', (data, binary) => {
      expect(binary).toBe(false);
      conn.frames.push(checkFrame(data.toString()));
      conn.wake?.();
    });
    ws.on('close', (code) => {
      conn.closed = code;
      conn.wake?.();
    });
    ws.on('error', () => {});
    ws.once('open', () => resolve(conn));
    ws.once('unexpected-response', (_req, res) => {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      resolve(null);
    });
    setTimeout(() => reject(new Error('no answer to the upgrade')), 5_000).unref();
  });
}

/** Waits until a pong arrives after `from` frames, or the connection closes. */
async function settled(conn: Conn, from: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (conn.closed === null && !conn.frames.slice(from).some((f) => f.type === 'pong')) {
    if (Date.now() > deadline) throw new Error(`no pong and no close; frames: ${JSON.stringify(conn.frames.slice(from)).slice(0, 500)}`);
    await new Promise<void>((resolve) => {
      conn.wake = resolve;
      setTimeout(resolve, 200);
    });
  }
  conn.wake = null;
}

describe('fuzzed WebSocket frames', () => {
  it(`${RUNS} generated frame sequences: documented frames and close codes only, and the server keeps serving`, async () => {
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const lanes = 8;
    let conns: (Conn | null)[] = await Promise.all(Array.from({ length: lanes }, () => open(url)));
    let next = 0;
    const closes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: query }), fc.array(frame, { minLength: 1, maxLength: 4 }), async (q, frames) => {
        const lane = next++ % lanes;
        let conn = conns[lane] ?? null;
        if (q !== null) {
          // A fresh connection with a generated query: welcome (and maybe reset), or an error and 4400.
          conn?.ws.close();
          const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined) as [string, string][]);
          conn = await open(`${url}?${params}`);
        }
        if (!conn || conn.closed !== null) conn = await open(url);
        conns[lane] = conn;
        if (!conn) return;
        const from = conn.frames.length;
        for (const f of frames) if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(f);
        if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send('{"type":"ping"}');
        await settled(conn, from);
        if (conn.closed !== null) {
          closes.set(conn.closed, (closes.get(conn.closed) ?? 0) + 1);
          expect(CLIENT_CLOSES.has(conn.closed), `close code ${conn.closed}`).toBe(true);
        }
      }),
      FUZZ.params(),
    );
    console.log('closes by code:', Object.fromEntries(closes));
    for (const conn of conns) conn?.ws.close();
    conns = [];
    // Still serving, and answering as it should.
    const after = await open(url);
    expect(after).not.toBeNull();
    await settled(after as Conn, 0).catch(() => {});
    expect((after as Conn).frames[0]?.type).toBe('welcome');
    (after as Conn).ws.close();
  }, 240_000);
});
