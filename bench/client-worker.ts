// One load-generator process: holds a share of the subscribers, measures
// publish-to-receive latency for each delivery, checks order and loss, and
// reports to the orchestrator over IPC. Never runs inside a server's process.
// Its subscribers speak WebSocket, Socket.IO or Server-Sent Events (GET /sse,
// a plain HTTP response read as bytes: blocks up to a blank line, the cursor
// from `id:`, the headline mark for latency).
import { request } from 'node:http';
import { io, type Socket as SioSocket } from 'socket.io-client';
import WebSocket from 'ws';
import { backoffDelay } from '../public/client.js';
import { type Mark, parseMark, readMark } from './lib/payload.ts';
import { now } from './lib/stats.ts';
import type { ToWorker } from './lib/worker-protocol.ts';

interface Sub {
  ws: WebSocket | null;
  sio: SioSocket | null;
  url: string;
  /** The server's seq of the last event seen: order, gaps and duplicates are checked on it. */
  lastSeq: number;
  /** Events of the current run received. */
  got: number;
  cursor: string;
  resumed: boolean;
  open: boolean;
  closeCode: number;
  /** SSE: bytes of an event not complete yet. */
  rest: Buffer | null;
  /** SSE: ends the stream. */
  destroy: (() => void) | null;
}

const subs: Sub[] = [];
let run = '';
let expectPerSub = 0;
let counts = new Map<number, number>();
/** Per event, the earliest arrival on any subscriber: the path's own latency, without the fan-out's length. */
let firsts = new Map<number, number>();
let target = 0;
let latencies = new Float64Array(1 << 16);
let samples = 0;
let gaps = 0;
let dups = 0;
let stray = 0;
let storm: { start: number; remaining: number } | null = null;
/** Connection attempts of the current storm that failed and were tried again. */
let retries = 0;
let protocol: 'ws' | 'sio' | 'sse' = 'ws';

const send = (message: unknown) => process.send?.(message);
const openCount = () => subs.reduce((n, s) => n + (s.open ? 1 : 0), 0);

// Order is the server's (the cursor's seq): overlapping publishes may be
// numbered by the publisher in another order than the server logged them.
function record(sub: Sub, mark: Mark, seq: number, at: number): void {
  if (seq <= sub.lastSeq) {
    dups++;
    return;
  }
  if (sub.lastSeq > 0 && seq !== sub.lastSeq + 1) gaps += seq - sub.lastSeq - 1;
  sub.lastSeq = seq;
  if (mark.run !== run) {
    stray++;
    return;
  }
  if (samples === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  const latency = at - mark.sentAt;
  latencies[samples++] = latency;
  const first = firsts.get(mark.n);
  if (first === undefined || latency < first) firsts.set(mark.n, latency);
  sub.got++;
  const count = (counts.get(mark.n) ?? 0) + 1;
  counts.set(mark.n, count);
  if (count === target) {
    counts.delete(mark.n);
    send({ type: 'done', n: mark.n });
  }
  if (storm && sub.got === expectPerSub) {
    storm.remaining--;
    if (storm.remaining === 0) {
      send({ type: 'storm-done', ms: now() - storm.start, resumed: subs.filter((s) => s.resumed).length });
      storm = null;
    }
  }
}

const seqOf = (cursor: string) => Number(cursor.slice(cursor.lastIndexOf('-') + 1));

const CURSOR_AT = '{"type":"event","cursor":"'.length;

function onWsMessage(sub: Sub, data: Buffer): void {
  const at = now();
  const mark = readMark(data);
  if (mark) {
    // Event frames start with the cursor: kept for a resume, and its seq for order.
    sub.cursor = data.toString('latin1', CURSOR_AT, data.indexOf(0x22, CURSOR_AT));
    record(sub, mark, seqOf(sub.cursor), at);
    return;
  }
  const text = data.toString('utf8');
  if (text.startsWith('{"type":"welcome"')) {
    const frame = JSON.parse(text) as { cursor: string; resumed: boolean };
    sub.cursor = frame.cursor;
    sub.resumed = frame.resumed;
  }
}

const BLANK = Buffer.from('\n\n');
const ID = Buffer.from('id: ');

function onSseData(sub: Sub, chunk: Buffer): void {
  const at = now();
  const data = sub.rest ? Buffer.concat([sub.rest, chunk]) : chunk;
  let start = 0;
  for (let end = data.indexOf(BLANK, start); end >= 0; end = data.indexOf(BLANK, start)) {
    onSseBlock(sub, data.subarray(start, end), at);
    start = end + BLANK.length;
  }
  sub.rest = start < data.length ? Buffer.from(data.subarray(start)) : null;
}

/** An event block starts with its id (the cursor); comments, retry and a welcome without id are skipped. */
function onSseBlock(sub: Sub, block: Buffer, at: number): void {
  if (block.indexOf(ID) !== 0) return;
  const mark = readMark(block);
  if (!mark) return;
  const cursor = block.toString('latin1', ID.length, block.indexOf(0x0a));
  record(sub, mark, Number(cursor.slice(cursor.lastIndexOf('-') + 1)), at);
}

function connectOne(sub: Sub, localAddress: string): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      sub.open = ok;
      resolve(ok);
    };
    if (protocol === 'sio') {
      const socket = io(sub.url, { transports: ['websocket'], forceNew: true, reconnection: false, localAddress } as never);
      sub.sio = socket;
      socket.on('connect', () => settle(true));
      socket.on('connect_error', () => settle(false));
      socket.on('disconnect', () => {
        sub.open = false;
      });
      socket.on('event', (value: { cursor: string; item: { headline: string } }) => {
        const at = now();
        const mark = parseMark(value.item.headline);
        if (mark) record(sub, mark, seqOf(value.cursor), at);
      });
      return;
    }
    if (protocol === 'sse') {
      // A socket of its own per subscriber, as a browser's stream has.
      const req = request(sub.url, { agent: false, localAddress, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          settle(false);
          return;
        }
        res.on('data', (chunk: Buffer) => onSseData(sub, chunk));
        res.on('close', () => {
          sub.open = false;
        });
        settle(true);
      });
      sub.destroy = () => req.destroy();
      req.on('error', () => settle(false));
      req.end();
      return;
    }
    // The load generator trusts the server's UTF-8: it measures the server, not its own checks.
    const ws = new WebSocket(sub.url, { perMessageDeflate: false, skipUTF8Validation: true, localAddress, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    sub.ws = ws;
    ws.on('open', () => settle(true));
    ws.on('error', () => settle(false));
    ws.on('close', (code) => {
      settle(false);
      // A late close of an earlier, failed attempt says nothing of the current one.
      if (sub.ws !== ws) return;
      sub.open = false;
      sub.closeCode = code;
    });
    ws.on('message', (data: Buffer) => onWsMessage(sub, data));
  });
}

/** A handshake that hangs (its SYN or ACK dropped by a full accept queue) fails after this, and is retried. */
const HANDSHAKE_TIMEOUT_MS = 15_000;
const RECONNECT_ATTEMPTS = 8;

/**
 * Connects as the project's client reconnects (public/client.js): a failed
 * attempt is retried after its backoff (1 s doubling to 30 s, with equal
 * jitter), up to RECONNECT_ATTEMPTS in all.
 */
async function connectRetrying(sub: Sub, address: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    if (await connectOne(sub, address)) return true;
    if (attempt === RECONNECT_ATTEMPTS) return false;
    retries++;
    await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, 1_000, 30_000)));
  }
}

async function connectAll(items: { sub: Sub; address: string }[], concurrency: number, retrying = false): Promise<number> {
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < items.length) {
      const { sub, address } = items[next++] as { sub: Sub; address: string };
      if (await (retrying ? connectRetrying(sub, address) : connectOne(sub, address))) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return ok;
}

function closeAll(): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const sub of subs) {
    if (sub.ws && sub.ws.readyState !== WebSocket.CLOSED) {
      const ws = sub.ws;
      pending.push(new Promise((resolve) => ws.once('close', () => resolve())));
      ws.terminate();
    }
    if (sub.sio) sub.sio.disconnect();
    sub.destroy?.();
    sub.open = false;
  }
  return Promise.all(pending).then(() => undefined);
}

process.on('message', async (message: ToWorker) => {
  switch (message.type) {
    case 'connect': {
      protocol = message.protocol;
      const start = now();
      const items = Array.from({ length: message.count }, (_, i) => {
        const sub: Sub = {
          ws: null,
          sio: null,
          url: message.urls[(message.offset + i) % message.urls.length] as string,
          lastSeq: 0,
          got: 0,
          cursor: '',
          resumed: false,
          open: false,
          closeCode: 0,
          rest: null,
          destroy: null,
        };
        subs.push(sub);
        return { sub, address: message.addresses[i % message.addresses.length] as string };
      });
      const ok = await connectAll(items, message.concurrency);
      send({ type: 'connected', ok, failed: message.count - ok, ms: now() - start });
      break;
    }
    case 'run': {
      run = message.run;
      expectPerSub = message.expectPerSub ?? 0;
      counts = new Map();
      firsts = new Map();
      samples = 0;
      gaps = dups = stray = 0;
      for (const sub of subs) sub.got = 0;
      target = openCount();
      send({ type: 'ready', open: target });
      break;
    }
    case 'stats': {
      const closeCodes: Record<string, number> = {};
      for (const sub of subs) if (!sub.open && sub.closeCode) closeCodes[sub.closeCode] = (closeCodes[sub.closeCode] ?? 0) + 1;
      let received = 0;
      let complete = 0;
      for (const sub of subs) {
        received += sub.got;
        if (expectPerSub && sub.got === expectPerSub) complete++;
      }
      send({
        type: 'stats',
        latencies: latencies.slice(0, samples),
        firsts: [...firsts],
        received,
        complete,
        gaps,
        dups,
        stray,
        open: openCount(),
        closeCodes,
      });
      break;
    }
    case 'disconnect': {
      await closeAll();
      send({ type: 'disconnected' });
      break;
    }
    case 'storm': {
      if (protocol === 'sse') {
        // Resume storms are the WebSocket harness's (bench/run.ts); not measured over SSE.
        send({ type: 'storm-connected', ok: 0, ms: 0 });
        break;
      }
      // Every subscriber comes back at once with the cursor it last held.
      run = message.run;
      expectPerSub = message.expectPerSub;
      counts = new Map();
      samples = 0;
      gaps = dups = stray = 0;
      target = subs.length;
      const started = now();
      storm = { start: started, remaining: subs.length };
      const items = subs.map((sub, i) => {
        sub.got = 0;
        sub.resumed = false;
        sub.closeCode = 0;
        const url = new URL(sub.url);
        url.searchParams.set('cursor', sub.cursor);
        sub.url = url.toString();
        return { sub, address: message.addresses[i % message.addresses.length] as string };
      });
      retries = 0;
      const ok = await connectAll(items, message.concurrency, true);
      send({ type: 'storm-connected', ok, ms: now() - started, retries });
      break;
    }
    case 'exit': {
      await closeAll();
      process.exit(0);
    }
  }
});

process.on('disconnect', () => process.exit(0));
send({ type: 'hello', pid: process.pid });
