// Outbound deliveries at size, in one run: pushes per second and server CPU
// per push to a local push service (10,000 subscriptions, real encryption
// and VAPID signatures), WebSub deliveries per second to loopback
// subscribers, and publish → WebSocket latency of flash alerts on a server
// that pushes each to 10,000 subscriptions beside one that pushes nothing.
//
//   node node_modules/tsx/dist/cli.mjs bench/outbound.ts --out bench/results/outbound.json
import { createECDH, randomBytes } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { log, writeReport } from './lib/output.ts';
import { cpuMicros } from './lib/proc.ts';
import { boundRun, freePort, type Started, startTs, stopEverything, tempDir } from './lib/spawn.ts';
import { round, summarise } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    subscriptions: { type: 'string', default: '10000' },
    websub: { type: 'string', default: '1000' },
    sockets: { type: 'string', default: '1000' },
    alerts: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'max-minutes': { type: 'string', default: '15' },
  },
});
const TOKEN = 'outbound-bench-token-0123456789';
const SUBSCRIPTIONS = Number(values.subscriptions);
boundRun(Number(values['max-minutes']), 'outbound: over the time bound');

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
function call(port: number, method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${TOKEN}`, ...(payload ? { 'content-type': type } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A push service that takes every push (201) and counts them: the peer of our sender. */
async function pushService(): Promise<{ port: number; received: () => number; server: Server }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(201);
      res.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, received: () => received, server };
}

async function ours(name: string): Promise<Started> {
  const port = await freePort();
  return startTs(
    'src/main.ts',
    {
      PORT: String(port),
      DATA_DIR: tempDir(`outbound-${name}-`),
      PUBLISHER_TOKENS: TOKEN,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      OUTBOUND_CONCURRENCY: '64',
      PUBLISH_RATE_PER_MINUTE: '1000000',
      MAX_CONNECTIONS_PER_ADDRESS: '1000000',
      CONNECTIONS_PER_SECOND_PER_ADDRESS: '1000000',
      HTTP_RATE_PER_10S: '100000000',
      WS_HEARTBEAT_SECONDS: '3600',
    },
    port,
  );
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Browser-like subscription keys: one pair serves every endpoint (the cost is in encrypting per push). */
function keys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

async function subscribeAll(server: Started, service: number, count: number): Promise<void> {
  const k = keys();
  for (let i = 0; i < count; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, count - i) }, (_, j) =>
        call(server.port, 'POST', '/api/v1/push/subscriptions', { subscription: { endpoint: `http://127.0.0.1:${service}/push/${i + j}`, keys: k }, minPriority: 'flash' }),
      ),
    );
  }
}

async function pushThroughput(server: Started, service: Awaited<ReturnType<typeof pushService>>) {
  const rounds: { seconds: number; pushesPerSecond: number; cpuUsPerPush: number }[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    const before = service.received();
    const cpu0 = cpuMicros(server.workerPid);
    const started = performance.now();
    await call(server.port, 'POST', '/api/v1/items', { headline: `Throughput flash ${r}`, topics: ['world'], priority: 'flash' });
    await until(() => service.received() - before >= SUBSCRIPTIONS, 120_000, 'every push');
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMicros(server.workerPid) - cpu0;
    rounds.push({ seconds: round(seconds), pushesPerSecond: Math.round(SUBSCRIPTIONS / seconds), cpuUsPerPush: round(cpu / SUBSCRIPTIONS) });
    log(`push round ${r}: ${SUBSCRIPTIONS} pushes in ${seconds.toFixed(2)} s, ${(cpu / SUBSCRIPTIONS).toFixed(1)} µs CPU each`);
  }
  return rounds;
}

async function sockets(server: Started, count: number): Promise<WebSocket[]> {
  const list: WebSocket[] = [];
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, j) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?topics=world`, { localAddress: `127.0.0.${10 + ((i + j) % 40)}` });
        list.push(ws);
        return new Promise((resolve, reject) => {
          ws.once('message', resolve);
          ws.once('error', reject);
        });
      }),
    );
  }
  return list;
}

/**
 * publish → every socket, per delivery (ms), for alerts sent on each server
 * in turn, a quarter second apart: the pushes of earlier alerts are still
 * going out while later ones fan out.
 */
async function latency(servers: Started[], socketsOf: Map<Started, WebSocket[]>, service: Awaited<ReturnType<typeof pushService>>) {
  const samples = new Map<Started, number[]>(servers.map((s) => [s, []]));
  const base = service.received();
  for (let alert = 0; alert < Number(values.alerts); alert++) {
    for (const server of servers) {
      const list = socketsOf.get(server) as WebSocket[];
      const marker = `latency-${alert}-${server.port}`;
      let got = 0;
      const started = performance.now();
      const done = new Promise<void>((resolve) => {
        for (const ws of list) {
          const onMessage = (data: WebSocket.RawData) => {
            if (!data.toString().includes(marker)) return;
            ws.off('message', onMessage);
            samples.get(server)?.push(performance.now() - started);
            if (++got === list.length) resolve();
          };
          ws.on('message', onMessage);
        }
      });
      await call(server.port, 'POST', '/api/v1/items', { headline: marker, topics: ['world'], priority: 'flash' });
      await done;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const pushed = Number(values.alerts) * SUBSCRIPTIONS;
  const pending = pushed - (service.received() - base);
  await until(() => service.received() - base >= pushed, 300_000, 'the pushes of every alert');
  log(`${pending} of ${pushed} pushes were still going out when the last alert had reached every socket`);
  return servers.map((s) => summarise(samples.get(s) ?? []));
}

async function webSub(server: Started, count: number) {
  let received = 0;
  const callback = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      res.end(url.searchParams.get('hub.challenge') ?? '');
      return;
    }
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(202);
      res.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve));
  const topic = `http://127.0.0.1:${server.port}/feeds/bench.atom`;
  for (let i = 0; i < count; i++) {
    for (;;) {
      const res = await call(server.port, 'POST', '/websub', new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': `http://127.0.0.1:${port}/cb/${i}`, 'hub.secret': `secret-${i}` }).toString(), 'application/x-www-form-urlencoded');
      if (res.status === 202) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // Every subscription verified and stored: one delivery each shows it.
  await new Promise((r) => setTimeout(r, 2_000));
  await call(server.port, 'POST', '/api/v1/items', { headline: 'WebSub warm-up', topics: ['bench'] });
  await until(() => received >= count, 60_000, 'the warm-up deliveries');
  const rounds: { seconds: number; deliveriesPerSecond: number; cpuUsPerDelivery: number }[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    const before = received;
    const cpu0 = cpuMicros(server.workerPid);
    const started = performance.now();
    await call(server.port, 'POST', '/api/v1/items', { headline: `WebSub round ${r}`, topics: ['bench'], body: 'A paragraph.' });
    await until(() => received - before >= count, 60_000, 'every delivery');
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMicros(server.workerPid) - cpu0;
    rounds.push({ seconds: round(seconds), deliveriesPerSecond: Math.round(count / seconds), cpuUsPerDelivery: round(cpu / count) });
    log(`websub round ${r}: ${count} deliveries in ${seconds.toFixed(2)} s`);
  }
  callback.close();
  return rounds;
}


const results: Record<string, unknown> = {};
try {
  const service = await pushService();
  const pushing = await ours('pushing');
  const quiet = await ours('quiet');
  log(`subscribing ${SUBSCRIPTIONS} push endpoints`);
  await subscribeAll(pushing, service.port, SUBSCRIPTIONS);
  results.push = await pushThroughput(pushing, service);
  const socketsOf = new Map<Started, WebSocket[]>();
  for (const server of [pushing, quiet]) socketsOf.set(server, await sockets(server, Number(values.sockets)));
  const [withPushes, withoutPushes] = await latency([pushing, quiet], socketsOf, service);
  results.latency = {
    sockets: Number(values.sockets),
    withPushes,
    withoutPushes,
    ratioP50: round((withPushes?.p50 ?? 0) / (withoutPushes?.p50 || 1)),
    ratioP99: round((withPushes?.p99 ?? 0) / (withoutPushes?.p99 || 1)),
  };
  log(`latency with ${SUBSCRIPTIONS} pushes per alert: ${JSON.stringify(results.latency)}`);
  for (const list of socketsOf.values()) for (const ws of list) ws.terminate();
  results.websub = await webSub(quiet, Number(values.websub));
  service.server.close();
} finally {
  await stopEverything();
}
writeReport('bench/outbound.ts', { subscriptions: SUBSCRIPTIONS, results }, values.out);
process.exit(0);
