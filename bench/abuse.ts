// What one hostile client can do to one process, measured the way it was
// first found: feeds under made-up Host headers, idle connections from one
// address, pages and resets of many topics, a resume that never reads, and
// token guessing. The server runs with its defaults (no PUBLIC_URL). Run it
// against an older tree with BENCH_SRC_REV=<commit> bench/frozen.sh abuse.
//
//   node node_modules/tsx/dist/cli.mjs bench/abuse.ts --out bench/results/abuse.json
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { log, writeReport } from './lib/output.ts';
import { rssKB } from './lib/proc.ts';
import { boundRun, freePort, type Started, startTs, stopEverything, tempDir } from './lib/spawn.ts';
import { round } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    hosts: { type: 'string', default: '134' },
    'feed-requests': { type: 'string', default: '400' },
    sockets: { type: 'string', default: '5000' },
    events: { type: 'string', default: '3000' },
    guesses: { type: 'string', default: '2000' },
    'max-minutes': { type: 'string', default: '20' },
  },
});
const TOKEN = 'abuse-bench-publisher-token-0123456789';

boundRun(Number(values['max-minutes']), 'abuse: over the time bound');

interface Reply {
  status: number;
  body: string;
  ms: number;
}

/** One keep-alive connection at a time, as a script hammering one server would use. */
const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });

function http(
  port: number,
  path: string,
  options: { method?: string; from?: string; headers?: Record<string, string>; body?: string; agent?: Agent } = {},
): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        localAddress: options.from,
        agent: options.agent,
        headers: options.agent ? options.headers : { connection: 'close', ...options.headers },
        timeout: 30_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4_096) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
        res.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - started }));
    req.end(options.body);
  });
}

/** Limits a scenario is not about, raised so its set-up (publishing the archive) is not refused. */
const SETUP = { HTTP_RATE_PER_10S: '100000000', CONNECTIONS_PER_SECOND_PER_ADDRESS: '1000000', PUBLISH_RATE_PER_MINUTE: '1000000' };

async function server(env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  return startTs('src/main.ts', { PORT: String(port), DATA_DIR: tempDir('abuse-data-'), PUBLISHER_TOKENS: TOKEN, LOG_LEVEL: 'info', ...env }, port);
}

const publish = (port: number, item: Record<string, unknown>) =>
  http(port, '/api/v1/items', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(item),
    agent: keepAlive,
  });

const alive = (s: Started) => {
  try {
    process.kill(s.workerPid, 0);
    return true;
  } catch {
    return false;
  }
};
const mb = (s: Started) => (alive(s) ? Math.round(rssKB(s.workerPid) / 1024) : null);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** 1. Feeds under made-up hosts: renders and memory (the request limits, a defence of their own, are raised). */
async function hosts() {
  const s = await server({ ...SETUP, MAX_BODY_BYTES: '400000' });
  const body = `<p>${'A long report, paragraph after paragraph. '.repeat(2_200)}</p>`;
  for (let i = 0; i < 50; i++) await publish(s.port, { headline: `Report ${i}`, topics: ['world'], body });
  const before = mb(s);
  let peak = before ?? 0;
  const started = performance.now();
  const total = Number(values['feed-requests']);
  const formats = ['rss', 'atom', 'json'];
  let next = 0;
  const statuses: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < total) {
        const i = next++;
        const reply = await http(s.port, `/feeds/all.${formats[i % 3]}`, { headers: { host: `made-up-${i % Number(values.hosts)}.example` } });
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
        peak = Math.max(peak, mb(s) ?? 0);
      }
    }),
  );
  const result = { requests: total, hosts: Number(values.hosts), statuses, rssBeforeMB: before, rssPeakMB: peak, rssAfterMB: mb(s), survived: alive(s), seconds: round((performance.now() - started) / 1000, 1) };
  await s.stop();
  return result;
}

/** 2. Idle connections from one address, and a health check from another. */
async function sockets() {
  const s = await server();
  const count = Number(values.sockets);
  const open: Socket[] = [];
  let refused = 0;
  for (let i = 0; i < count; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, count - i) }, () =>
        new Promise<void>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port: s.port, localAddress: '127.0.0.70' }, () => resolve());
          // Reading (nothing comes) lets a close by the server be seen.
          socket.resume();
          socket.on('error', () => {
            refused++;
            resolve();
          });
          socket.on('close', () => socket.destroy());
          open.push(socket);
        }),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1_000));
  const held = () => open.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
  const heldAfter1s = held();
  const health = await http(s.port, '/healthz', { from: '127.0.0.71' });
  await new Promise((r) => setTimeout(r, 20_000));
  const heldAfter21s = held();
  for (const socket of open) socket.destroy();
  const result = { opened: count, refusedAtConnect: refused, heldAfter1s, heldAfter21s, healthFromOtherAddress: { status: health.status, ms: round(health.ms, 1) } };
  await s.stop();
  return result;
}

/** 3. Pages and resets of many topics against a plain front page. */
async function topics() {
  const s = await server(SETUP);
  const TOPICS = Array.from({ length: 64 }, (_, i) => `topic-${i}`);
  const body = `<p>${'Report. '.repeat(600)}</p>`;
  for (let i = 0; i < 640; i++) await publish(s.port, { headline: `Story ${i}`, topics: [TOPICS[i % 64], TOPICS[(i * 7 + 3) % 64]], body });
  const time = async (path: string, n = 10) => {
    const ms: number[] = [];
    let status = 0;
    for (let i = 0; i < n; i++) {
      const reply = await http(s.port, path, { agent: keepAlive });
      ms.push(reply.ms);
      status = reply.status;
    }
    return { status, p50ms: round(median(ms), 1) };
  };
  const front = await time('/');
  const eight = await time(`/?topics=${TOPICS.slice(0, 8).join(',')}`);
  const all64 = await time(`/?topics=${TOPICS.join(',')}`);
  const resets: number[] = [];
  for (let i = 0; i < 10; i++) {
    const set = [...TOPICS.slice(i), ...TOPICS.slice(0, i)].map((t, k) => (k === 0 ? `made-up-${i}` : t));
    resets.push(
      await new Promise<number>((resolve) => {
        const started = performance.now();
        const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws?topics=${set.join(',')}&cursor=zzzzzzzzzzzzzzzz-5`);
        ws.on('message', (data) => {
          if (JSON.parse(data.toString()).type !== 'reset') return;
          resolve(performance.now() - started);
          ws.close();
        });
        ws.on('error', () => resolve(Number.NaN));
      }),
    );
  }
  const result = { frontPage: front, page8Topics: eight, page64Topics: all64, staleCursor64TopicsResetP50ms: round(median(resets), 1) };
  await s.stop();
  return result;
}

/** 4. A resume that never reads and sends pongs nobody asked for, while events pile up. */
async function stalled() {
  const s = await server(SETUP);
  const body = `<p>${'Twenty kilobytes of report. '.repeat(700)}</p>`;
  const first = JSON.parse((await publish(s.port, { headline: 'first', topics: ['world'], body })).body || '{}');
  for (let i = 0; i < 40; i++) await publish(s.port, { headline: `old ${i}`, topics: ['world'], body });
  const before = mb(s);
  // Whole items, as every frame carried before cards: the reader falls behind by their bytes.
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws?detail=full&cursor=${first.cursor}`);
  ws.on('error', () => {});
  let closedAt: number | null = null;
  const started = performance.now();
  ws.on('close', () => {
    closedAt ??= performance.now() - started;
  });
  await new Promise((resolve) => ws.once('open', resolve));
  const raw = (ws as unknown as { _socket: Socket })._socket;
  raw.pause();
  let cut = false;
  raw.on('close', () => {
    cut = true;
    closedAt ??= performance.now() - started;
  });
  const pongs = setInterval(() => ws.readyState === WebSocket.OPEN && ws.pong(), 200);
  const events = Number(values.events);
  for (let i = 0; i < events; i++) await publish(s.port, { headline: `live ${i}`, topics: ['world'], body });
  await new Promise((r) => setTimeout(r, 2_000));
  clearInterval(pongs);
  const result = { events, rssBeforeMB: before, rssAfterMB: mb(s), readerCut: cut, cutAfterMs: closedAt === null ? null : Math.round(closedAt) };
  ws.terminate();
  await s.stop();
  return result;
}

/** 5. Token guessing: answers, time, and what the logs say. */
async function guessing() {
  const s = await server();
  const guesses = Number(values.guesses);
  const statuses: Record<string, number> = {};
  const started = performance.now();
  for (let i = 0; i < guesses; i++) {
    const reply = await http(s.port, '/api/v1/items', {
      method: 'POST',
      headers: { authorization: `Bearer guess-${i}-0123456789abcdef`, 'content-type': 'application/json' },
      body: '{"headline":"x","topics":["world"]}',
      agent: keepAlive,
    });
    statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
  }
  const output = s.output();
  const result = {
    guesses,
    statuses,
    seconds: round((performance.now() - started) / 1000, 1),
    logLinesOfFailures: (output.match(/authentication failed/g) ?? []).length,
    tokensInLogs: (output.match(/guess-\d+/g) ?? []).length,
  };
  await s.stop();
  return result;
}

const results: Record<string, unknown> = {};
try {
  for (const [name, run] of Object.entries({ hosts, sockets, topics, stalled, guessing })) {
    log(`${name}: running`);
    try {
      results[name] = await run();
    } catch (error) {
      results[name] = { error: String(error) };
    }
    log(`${name}: ${JSON.stringify(results[name])}`);
  }
} finally {
  await stopEverything();
}
writeReport('bench/abuse.ts', { results }, values.out);
process.exit(0);
