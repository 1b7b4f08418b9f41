// A Sentinel failover under a stream of publishes, and what WAIT costs.
//
//   npx tsx bench/redis-failover.ts [--events 300] [--stream-ms 4000]
//
// Real processes on loopback: a primary, two replicas, three sentinels
// (down after 1 s), and server processes. Measured from this process:
//   - publish latency (POST to 201) with REDIS_MIN_REPLICAS=0 and =1, the
//     same primary, one publish at a time;
//   - for a failover (primary SIGKILLed) under a publish stream with
//     REDIS_MIN_REPLICAS=1, then again with 0: the longest time without an
//     acknowledged write, when writes resumed after the kill, the 503s in
//     between (each retried with the same id), and acknowledged items
//     missing from the new primary's log.
import { parseArgs } from 'node:util';
import {
  publishAcknowledged,
  type RedisNode,
  readLog,
  replicaInSync,
  startRedisNode,
  startSentinels,
  stopRedisNodes,
} from '../test/support/redis-ha.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../test/support/server.ts';
import { log } from './lib/output.ts';
import { round, summarise } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300' },
    'stream-ms': { type: 'string', default: '4000' },
  },
});
const EVENTS = Number(values.events);
const STREAM_MS = Number(values['stream-ms']);
const NAME = 'bench-ha';
// The newsroom rate limit would otherwise stop the run.
// A busy machine can take a while to start a process; that is not what is measured.
const START_MS = 60_000;
const BASE = { PUBLISH_RATE_PER_MINUTE: '1000000' };

async function replicatedSet() {
  const primary = await startRedisNode();
  const replicas: RedisNode[] = [await startRedisNode({ replicaOf: primary.port }), await startRedisNode({ replicaOf: primary.port })];
  await Promise.all(replicas.map((replica) => replicaInSync(replica)));
  const sentinels = await startSentinels(NAME, primary.port, 2);
  return { primary, replicas, sentinels };
}

async function latency(server: TestServer): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const started = performance.now();
    const res = await api(server, 'POST', '/api/v1/items', newItem());
    if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
    samples.push(performance.now() - started);
  }
  return samples.slice(Math.floor(EVENTS / 10)); // the first tenth warms up
}

async function failover(minReplicas: number) {
  const { primary, replicas, sentinels } = await replicatedSet();
  const prefix = `fo${minReplicas}`;
  const server = await startServer({
    startTimeoutMs: START_MS,
    env: { ...BASE, REDIS_SENTINELS: sentinels.list, REDIS_SENTINEL_NAME: NAME, REDIS_KEY_PREFIX: prefix, REDIS_MIN_REPLICAS: String(minReplicas) },
  });
  const acknowledged: { id: string; at: number }[] = [];
  const refusals: string[] = [];
  let killedAt = 0;
  let stop = false;
  const stream = (async () => {
    while (!stop) {
      const item = newItem();
      await publishAcknowledged(server, item, refusals);
      acknowledged.push({ id: item.id, at: Date.now() });
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  killedAt = Date.now();
  await primary.kill();
  // Until the stream has run STREAM_MS past the kill.
  while (Date.now() - killedAt < STREAM_MS) await new Promise((resolve) => setTimeout(resolve, 100));
  stop = true;
  await stream;
  // The longest stretch without an acknowledged write (a publish in flight at the kill may still be answered just after it).
  const times = acknowledged.map((a) => a.at);
  let noWritesMs = 0;
  for (let i = 1; i < times.length; i++) noWritesMs = Math.max(noWritesMs, (times[i] as number) - (times[i - 1] as number));
  const resumedAt = times.find((at, i) => i > 0 && at - (times[i - 1] as number) === noWritesMs) ?? 0;
  const newPort = await sentinels.primaryPort();
  const node = (replicas.find((r) => r.port === newPort) as RedisNode).admin();
  const inLog = new Set((await readLog(node, prefix)).map((e) => e.id));
  const lost = acknowledged.filter((a) => !inLog.has(a.id)).length;
  await server.stop();
  await stopRedisNodes();
  return {
    minReplicas,
    acknowledged: acknowledged.length,
    refused: refusals.length,
    refusedCodes: [...new Set(refusals)],
    noWritesMs,
    resumedAfterKillMs: resumedAt - killedAt,
    lostAcknowledged: lost,
  };
}

async function main(): Promise<void> {
  const timer = setTimeout(() => {
    console.error('bench ran past 3 minutes');
    process.exit(1);
  }, 180_000);
  try {
    log('latency: REDIS_MIN_REPLICAS=0 and =1 on one primary with two replicas');
    const { sentinels } = await replicatedSet();
    const env = { ...BASE, REDIS_SENTINELS: sentinels.list, REDIS_SENTINEL_NAME: NAME };
    const k0 = await startServer({ startTimeoutMs: START_MS, env: { ...env, REDIS_KEY_PREFIX: 'lat0' } });
    const k1 = await startServer({ startTimeoutMs: START_MS, env: { ...env, REDIS_KEY_PREFIX: 'lat1', REDIS_MIN_REPLICAS: '1' } });
    const without = summarise(await latency(k0));
    const withWait = summarise(await latency(k1));
    await Promise.all([k0.stop(), k1.stop()]);
    await stopRedisNodes();
    const ms = (l: ReturnType<typeof summarise>) => ({ p50: round(l.p50), p99: round(l.p99) });
    log(`K=0 ${JSON.stringify(ms(without))} ms; K=1 ${JSON.stringify(ms(withWait))} ms`);

    const results = [];
    for (const k of [1, 0]) {
      log(`failover under a publish stream, REDIS_MIN_REPLICAS=${k}`);
      const result = await failover(k);
      log(JSON.stringify(result));
      results.push(result);
    }
    console.log(JSON.stringify({ latencyMs: { k0: ms(without), k1: ms(withWait) }, failover: results }, null, 2));
  } finally {
    clearTimeout(timer);
    await stopRedisNodes();
    await cleanup();
  }
}

await main();
