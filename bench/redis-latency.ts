// What Redis adds: publish-to-receive latency on the embedded store vs through
// Redis (same process, and across processes over pub/sub), and how long a
// process takes to fill the gap after its subscriber connection is killed.
//
//   npx tsx bench/redis-latency.ts [--events 300] [--kills 30]
//
// Every figure is measured in this process: from just before the POST is sent
// to the WebSocket frame arriving (or, for gap fill, from the CLIENT KILL).
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis, stopAllRedis } from '../test/support/redis.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../test/support/server.ts';
import { TestClient } from '../test/support/ws.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300' },
    kills: { type: 'string', default: '30' },
    /** Pause between publishes, so each one is measured alone rather than queued. */
    'gap-ms': { type: 'string', default: '10' },
  },
});
const EVENTS = Number(values.events);
const KILLS = Number(values.kills);
const PAUSE = Number(values['gap-ms']);

// The newsroom rate limit would otherwise stop the run.
const ENV = { PUBLISH_RATE_PER_MINUTE: '1000000' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const f = (v: number) => v.toFixed(2).padStart(7);
  return `n=${String(sorted.length).padStart(4)}  p50 ${f(at(0.5))}  p90 ${f(at(0.9))}  p99 ${f(at(0.99))}  max ${f(sorted.at(-1) ?? Number.NaN)}  ms`;
}

/** When each item's frame reached this process, by item id. */
const arrivals = new WeakMap<TestClient, Map<string, number>>();
function track(client: TestClient): TestClient {
  const seen = new Map<string, number>();
  arrivals.set(client, seen);
  client.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; item?: { id: string } };
    if (frame.type === 'event' && frame.item) seen.set(frame.item.id, performance.now());
  });
  return client;
}

async function arrival(client: TestClient, id: string): Promise<number> {
  const seen = arrivals.get(client) as Map<string, number>;
  await client.until((c) => c.events.some((e) => e.item?.id === id), 5_000, id);
  return seen.get(id) as number;
}

/** Publishes one at a time through `via`; times each until `client` has it. */
async function publishToReceive(
  via: TestServer,
  client: TestClient,
  count: number,
): Promise<{ receive: number[]; ack: number[]; afterAck: number[] }> {
  const receive: number[] = [];
  const ack: number[] = [];
  const afterAck: number[] = [];
  for (let i = 0; i < count; i++) {
    const item = newItem();
    const started = performance.now();
    const res = await api(via, 'POST', '/api/v1/items', item);
    const acked = performance.now();
    if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
    const arrived = await arrival(client, item.id);
    ack.push(acked - started);
    receive.push(arrived - started);
    afterAck.push(arrived - acked);
    await sleep(PAUSE);
  }
  return { receive, ack, afterAck };
}

async function main(): Promise<void> {
  const warm = Math.min(30, Math.ceil(EVENTS / 10));

  const embedded = await startServer({ env: ENV });
  const local = track(await TestClient.connect(embedded.wsUrl));
  await local.waitForType('welcome');
  await publishToReceive(embedded, local, warm);
  const onEmbedded = await publishToReceive(embedded, local, EVENTS);
  await local.close();
  await embedded.stop();

  const redis = await startRedis();
  const [a, b] = (await Promise.all([
    startServer({ env: { ...ENV, REDIS_URL: redis.url } }),
    startServer({ env: { ...ENV, REDIS_URL: redis.url } }),
  ])) as [TestServer, TestServer];
  const onA = track(await TestClient.connect(a.wsUrl));
  const onB = track(await TestClient.connect(b.wsUrl));
  await Promise.all([onA.waitForType('welcome'), onB.waitForType('welcome')]);
  await publishToReceive(a, onB, warm);
  const sameProcess = await publishToReceive(a, onA, EVENTS);
  const crossProcess = await publishToReceive(a, onB, EVENTS);

  // Gap fill: kill every subscriber connection, publish at once through A, and
  // time until B (which lost its subscription) delivers the event.
  const admin = new Redis(redis.url);
  const fromKill: number[] = [];
  const fromAck: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const item = newItem();
    const killedAt = performance.now();
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const res = await api(a, 'POST', '/api/v1/items', item);
    const ackAt = performance.now();
    if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
    const arrived = await arrival(onB, item.id);
    fromKill.push(arrived - killedAt);
    fromAck.push(arrived - ackAt);
    await sleep(300);
  }
  admin.disconnect();
  await Promise.all([onA.close(), onB.close()]);

  console.log(`publish → WebSocket receive (${EVENTS} events, one at a time, ${PAUSE} ms apart)`);
  console.log(`  embedded (SQLite, one process)        ${summary(onEmbedded.receive)}`);
  console.log(`  Redis, publisher's own process        ${summary(sameProcess.receive)}`);
  console.log(`  Redis, another process (pub/sub)      ${summary(crossProcess.receive)}`);
  console.log('WebSocket frame arrival minus 201 arrival (negative: the frame came first)');
  console.log(`  embedded (SQLite, one process)        ${summary(onEmbedded.afterAck)}`);
  console.log(`  Redis, publisher's own process        ${summary(sameProcess.afterAck)}`);
  console.log(`  Redis, another process (pub/sub)      ${summary(crossProcess.afterAck)}`);
  console.log('publish acknowledged (201)');
  console.log(`  embedded                              ${summary(onEmbedded.ack)}`);
  console.log(`  Redis                                 ${summary(sameProcess.ack)}`);
  console.log(`gap fill after CLIENT KILL TYPE pubsub (${KILLS} kills, one event published right after each)`);
  console.log(`  kill → delivered on the other process ${summary(fromKill)}`);
  console.log(`  201 → delivered on the other process  ${summary(fromAck)}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAllRedis();
    await cleanup();
  });
