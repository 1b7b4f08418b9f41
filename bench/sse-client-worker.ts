// One load-generator process holding event-stream subscribers (GET /sse):
// the counterpart of client-worker.ts for Server-Sent Events, answering the
// same messages (connect, run, stats, exit) so that the same scenarios
// measure both transports. Each subscriber is a plain HTTP response read as
// bytes: blocks up to a blank line, the cursor from `id:`, the headline mark
// for latency. Never runs inside a server's process.
import { request } from 'node:http';
import { type Mark, readMark } from './lib/payload.ts';
import { now } from './lib/stats.ts';
import type { ToWorker } from './lib/worker-protocol.ts';

interface Sub {
  url: string;
  /** The server's seq of the last event seen: order, gaps and duplicates are checked on it. */
  lastSeq: number;
  got: number;
  open: boolean;
  /** Bytes of an event not complete yet. */
  rest: Buffer | null;
  destroy: (() => void) | null;
}

const subs: Sub[] = [];
let run = '';
let counts = new Map<number, number>();
let firsts = new Map<number, number>();
let target = 0;
let latencies = new Float64Array(1 << 16);
let samples = 0;
let gaps = 0;
let dups = 0;
let stray = 0;

const send = (message: unknown) => process.send?.(message);
const openCount = () => subs.reduce((n, s) => n + (s.open ? 1 : 0), 0);

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
}

const BLANK = Buffer.from('\n\n');
const ID = Buffer.from('id: ');

function onData(sub: Sub, chunk: Buffer): void {
  const at = now();
  const data = sub.rest ? Buffer.concat([sub.rest, chunk]) : chunk;
  let start = 0;
  for (let end = data.indexOf(BLANK, start); end >= 0; end = data.indexOf(BLANK, start)) {
    onBlock(sub, data.subarray(start, end), at);
    start = end + BLANK.length;
  }
  sub.rest = start < data.length ? Buffer.from(data.subarray(start)) : null;
}

/** An event block starts with its id (the cursor); comments, retry and a welcome without id are skipped. */
function onBlock(sub: Sub, block: Buffer, at: number): void {
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
    // A socket of its own per subscriber, as a browser's stream has.
    const req = request(sub.url, { agent: false, localAddress, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        settle(false);
        return;
      }
      res.on('data', (chunk: Buffer) => onData(sub, chunk));
      res.on('close', () => {
        sub.open = false;
      });
      settle(true);
    });
    sub.destroy = () => req.destroy();
    req.on('error', () => settle(false));
    req.end();
  });
}

async function connectAll(items: { sub: Sub; address: string }[], concurrency: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < items.length) {
      const { sub, address } = items[next++] as { sub: Sub; address: string };
      if (await connectOne(sub, address)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return ok;
}

process.on('message', async (message: ToWorker) => {
  switch (message.type) {
    case 'connect': {
      const start = now();
      const items = Array.from({ length: message.count }, (_, i) => {
        const sub: Sub = { url: message.urls[(message.offset + i) % message.urls.length] as string, lastSeq: 0, got: 0, open: false, rest: null, destroy: null };
        subs.push(sub);
        return { sub, address: message.addresses[i % message.addresses.length] as string };
      });
      const ok = await connectAll(items, message.concurrency);
      send({ type: 'connected', ok, failed: message.count - ok, ms: now() - start });
      break;
    }
    case 'run': {
      run = message.run;
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
      send({
        type: 'stats',
        latencies: latencies.slice(0, samples),
        firsts: [...firsts],
        received: subs.reduce((n, s) => n + s.got, 0),
        complete: 0,
        gaps,
        dups,
        stray,
        open: openCount(),
        closeCodes: {},
      });
      break;
    }
    case 'disconnect': {
      for (const sub of subs) sub.destroy?.();
      send({ type: 'disconnected' });
      break;
    }
    case 'storm': {
      // Resume storms are the WebSocket harness's (bench/run.ts); not measured here.
      send({ type: 'storm-connected', ok: 0, ms: 0 });
      break;
    }
    case 'exit': {
      for (const sub of subs) sub.destroy?.();
      process.exit(0);
    }
  }
});

process.on('disconnect', () => process.exit(0));
send({ type: 'hello', pid: process.pid });
