// Event streams (GET /sse) beside our WebSocket path, in one run: the same
// server, the same scenario (scenarios.ts fanout: one event at a time, each
// published once the previous one reached every subscriber), the same number
// of subscribers over the same client processes and loopback source
// addresses. Server CPU per delivery is read from /proc around the window;
// the transports alternate within each round, each with a fresh server.
//
//   node node_modules/tsx/dist/cli.mjs bench/sse.ts --subscribers 10000 --clients 2 --events 20 --rounds 2 \
//     --out bench/results/sse-fanout-10k.json
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { ClientPool } from './lib/pool.ts';
import { closePublisher } from './lib/publisher.ts';
import { type DeliveryResult, fanout, settledRss } from './lib/scenarios.ts';
import { boundRun, stopEverything } from './lib/spawn.ts';
import { round } from './lib/stats.ts';
import { startTarget, type Target } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '2' },
    events: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    out: { type: 'string' },
    'max-minutes': { type: 'string', default: '20' },
  },
});

const subscribers = Number(values.subscribers);
const clients = Number(values.clients);
const events = Number(values.events);
type Transport = 'websocket' | 'sse';
const TRANSPORTS: Transport[] = ['websocket', 'sse'];

boundRun(Number(values['max-minutes']), `bench: over ${values['max-minutes']} minutes`, { onSigint: true });

/** Subscribers of one transport, connected to the target. */
async function subscribe(transport: Transport, target: Target) {
  const pool = await ClientPool.start(clients);
  const connected =
    transport === 'websocket'
      ? await pool.connect('ws', target.wsUrls, subscribers)
      : await pool.connect('sse', target.httpUrls.map((url) => `${url}/sse?topics=world`), subscribers);
  return { pool, connected, stop: () => pool.stop() };
}

async function measure(transport: Transport, roundNo: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { round: roundNo, transport, loadavgStart: loadavg()[0] };
  const target = await startTarget('ours');
  let stop = async () => {};
  try {
    const idleKB = await settledRss(target, 1_000);
    const { pool, connected, stop: stopPool } = await subscribe(transport, target);
    stop = stopPool;
    log(`${transport}: ${connected.ok} connected, ${connected.failed} failed in ${round(connected.ms / 1000, 1)} s`);
    const connectedKB = await settledRss(target, 2_000);
    out.connect = connected;
    out.memory = { idleRssKB: idleKB, connectedRssKB: connectedKB, perConnectionKB: round((connectedKB - idleKB) / Math.max(1, connected.ok), 2) };
    // A few events first, so both run warm code.
    await fanout(target, pool, 3);
    const res = await fanout(target, pool, events);
    out.fanout = res;
    log(`${transport}: fanout ${res.received}/${res.expected} ${res.cpuUsPerDelivery} µs/delivery, p50 ${res.latencyMs.p50} p99 ${res.latencyMs.p99} ms, lost ${res.lost}, gaps ${res.gaps}, dups ${res.dups}`);
  } finally {
    out.loadavgEnd = loadavg()[0];
    await stop();
    await target.stop();
  }
  return out;
}

/** Median over rounds of server CPU per delivery, and SSE's over WebSocket's. */
function summary(results: Record<string, unknown>[]) {
  const median = (transport: Transport) => {
    const values = results
      .filter((r) => r.transport === transport && r.fanout)
      .map((r) => (r.fanout as DeliveryResult).cpuUsPerDelivery)
      .sort((a, b) => a - b);
    if (!values.length) return null;
    const mid = Math.floor(values.length / 2);
    return values.length % 2 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
  };
  const websocket = median('websocket');
  const sse = median('sse');
  return { cpuUsPerDelivery: { websocket, sse }, sseOverWebSocket: websocket && sse ? round(sse / websocket, 3) : null, goal: '≤ 1.2' };
}

const results: Record<string, unknown>[] = [];
try {
  for (let r = 1; r <= Number(values.rounds); r++) {
    // Alternate which goes first, so a noisy minute does not favour one transport.
    const order = r % 2 ? TRANSPORTS : [...TRANSPORTS].reverse();
    for (const transport of order) {
      try {
        results.push(await measure(transport, r));
      } catch (error) {
        log(`${transport}: failed: ${error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : error}`);
        results.push({ round: r, transport, error: String(error instanceof Error ? error.message.split('\n')[0] : error) });
        await stopEverything();
      }
    }
  }
} finally {
  closePublisher();
  await stopEverything();
}

const totals = summary(results);
log(`server CPU per delivery: WebSocket ${totals.cpuUsPerDelivery.websocket} µs, SSE ${totals.cpuUsPerDelivery.sse} µs: ${totals.sseOverWebSocket}× (goal ≤ 1.2×)`);
writeReport('bench/sse.ts', { params: { ...values, subscribers, clients, events }, summary: totals, results }, values.out);
process.exit(0);
