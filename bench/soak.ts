// Soak: several server processes on one Redis (append-only file, appendfsync
// always), hundreds of WebSocket subscribers that resume with their cursor,
// a steady publish stream with bursts, and faults on a schedule: servers
// killed and drained, Redis killed and frozen, its pub/sub connections cut.
// At the end the Redis log is the truth: every acknowledged write must be in
// it once, and every subscriber must hold exactly the events of its topics,
// once each, in seq order. See docs/soak.md.
//
//   npm run soak -- --minutes 2 --subscribers 60
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { checkDelivery, checkState, checkWrites, type Log, readLog, wants } from './lib/soak-check.ts';
import { SoakCluster } from './lib/soak-cluster.ts';
import { FaultInjector, planFaults } from './lib/soak-faults.ts';
import { Publisher } from './lib/soak-publisher.ts';
import { seededRandom } from './lib/soak-random.ts';
import { type SoakOutcome, summary, verdict } from './lib/soak-report.ts';
import { SubscriberPool, type TopicSet } from './lib/soak-subscribers.ts';
import { stopEverything } from './lib/spawn.ts';
import { sleep, summarise } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    servers: { type: 'string', default: '3' },
    subscribers: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    burst: { type: 'string', default: '200' },
    out: { type: 'string', default: 'bench/results/soak.json' },
    seed: { type: 'string' },
  },
});

function positive(name: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    console.error(`--${name} must be a positive number, not ${value}`);
    process.exit(64);
  }
  return number;
}

const options = {
  minutes: positive('minutes', values.minutes),
  servers: Math.round(positive('servers', values.servers)),
  subscribers: Math.round(positive('subscribers', values.subscribers)),
  rate: positive('rate', values.rate),
  burst: Math.round(positive('burst', values.burst)),
  seed: values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Math.round(Number(values.seed)),
};

const PREFIX = 'newswire';
const TOPIC_SETS: TopicSet[] = [
  { name: 'all', topics: null },
  { name: 'world', topics: ['world'] },
  { name: 'politics+business', topics: ['politics', 'business'] },
  { name: 'sport', topics: ['sport'] },
  { name: 'science+health+world', topics: ['science', 'health', 'world'] },
];
/** Writes in flight when publishing stops may retry this long; subscribers get this long to catch up. */
const PUBLISH_GRACE_MS = 30_000;
const SETTLE_TIMEOUT_MS = 60_000;
const QUIET_MS = 3_000;

const random = seededRandom(options.seed);
const durationMs = options.minutes * 60_000;
let cluster: SoakCluster | null = null;
let pool: SubscriberPool | null = null;
const timers: NodeJS.Timeout[] = [];

// Everything started is stopped, whatever way the run ends.
let stopping: Promise<void> | null = null;
function shutdown(): Promise<void> {
  stopping ??= (async () => {
    for (const t of timers) clearInterval(t);
    pool?.stop();
    if (cluster?.redis.paused) cluster.redis.resume();
    await stopEverything();
  })();
  return stopping;
}

async function abort(reason: string, code: number): Promise<never> {
  console.error(`soak: ${reason}; stopping everything`);
  setTimeout(() => process.exit(code), 20_000).unref();
  await shutdown().catch(() => {});
  process.exit(code);
}

const hardDeadline = setTimeout(() => void abort(`hard deadline of ${options.minutes + 3} minutes reached`, 2), (options.minutes + 3) * 60_000);
process.on('SIGINT', () => void abort('interrupted', 130));
process.on('SIGTERM', () => void abort('terminated', 143));
process.on('uncaughtException', (error) => void abort(`uncaught ${error.stack ?? error}`, 2));
process.on('unhandledRejection', (error) => void abort(`unhandled rejection ${String(error)}`, 2));

/** Waits until every subscriber holds the last logged event of its topics; returns how it went. */
async function settle(c: SoakCluster, p: SubscriberPool): Promise<SoakOutcome['settle']> {
  const started = Date.now();
  const logged = await readLog(c.redis, PREFIX);
  const lastFor = new Map(TOPIC_SETS.map((set) => [set.name, lastSeqOf(logged, set)]));
  const behind = () => p.subscribers.filter((s) => s.lastSeq < (lastFor.get(s.set.name) ?? 0)).length;
  while (behind() > 0 && Date.now() - started < SETTLE_TIMEOUT_MS) await sleep(250);
  const ms = Date.now() - started;
  // A little longer, so a late duplicate has time to show.
  await sleep(QUIET_MS);
  return { ms, complete: behind() === 0, behind: behind() };
}

function lastSeqOf(logged: Log, set: TopicSet): number {
  for (let i = logged.events.length - 1; i >= 0; i--) {
    const e = logged.events[i];
    if (e && wants(set, e)) return e.seq;
  }
  return 0;
}

async function main(): Promise<void> {
  const c = new SoakCluster(options.servers);
  cluster = c;
  log(`soak: ${options.servers} servers, ${options.subscribers} subscribers, ${options.rate}/s, ${options.minutes} min, seed ${options.seed}`);
  await c.start();
  log(`redis on ${c.redis.port} (${c.redis.dir}), servers on ${c.servers.map((s) => s.port).join(', ')}`);

  const p = new SubscriberPool(options.subscribers, TOPIC_SETS, () => c.servers.map((s) => s.wsUrl), random);
  pool = p;
  await p.start(60_000);
  log(`${options.subscribers} subscribers connected`);

  let harnessRssMaxKB = 0;
  const sample = () => {
    c.sample((server) => p.clientsOn(server.index));
    harnessRssMaxKB = Math.max(harnessRssMaxKB, Math.round(process.memoryUsage().rss / 1024));
  };
  sample();
  timers.push(setInterval(sample, 5_000));

  const publisher = new Publisher(() => c.live(), random, `soak${options.seed}t${Date.now().toString(36)}`);
  const faults = new FaultInjector(c, publisher, options.burst);
  const runStart = Date.now();
  publisher.startSteady(options.rate);
  timers.push(setInterval(() => progress(c, p, publisher), 30_000));

  for (const planned of planFaults(durationMs, random)) {
    await sleep(runStart + planned.atMs - Date.now());
    if (Date.now() - runStart > durationMs * 0.9) break;
    await faults.inject(planned.kind);
  }
  await sleep(runStart + durationMs - Date.now());

  log('publishing stops; waiting for writes in flight, then for subscribers to catch up');
  await c.restoreAll();
  await publisher.stop(PUBLISH_GRACE_MS);
  const settled = await settle(c, p);
  sample();
  p.stop();

  const logged = await readLog(c.redis, PREFIX);
  const writes = checkWrites(logged, publisher.writes);
  const statuses: Record<string, number> = {};
  for (const w of publisher.writes) for (const a of w.attempts) statuses[a] = (statuses[a] ?? 0) + 1;
  const live = c.live()[0];
  const state = live ? await checkState(live.httpUrl, publisher.writes, 300, (n) => random.int(n)) : { checked: 0, mismatches: 0, examples: [] };
  const subs = p.subscribers;
  const sum = (f: (s: (typeof subs)[number]) => number) => subs.reduce((t, s) => t + f(s), 0);
  const merge = (f: (s: (typeof subs)[number]) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const s of subs) for (const [k, v] of Object.entries(f(s))) out[k] = (out[k] ?? 0) + v;
    return out;
  };

  const { events, bySeq: _bySeq, ...logFigures } = logged;
  const outcome: SoakOutcome = {
    options,
    seconds: (Date.now() - runStart) / 1000,
    faults: faults.done,
    writes: { ...writes, statuses, ackMs: summarise(publisher.writes.filter((w) => w.ackMs !== undefined).map((w) => w.ackMs as number)) },
    log: { ...logFigures, events: events.length },
    delivery: checkDelivery(logged, subs, p.ids.names),
    settle: settled,
    subscribers: {
      welcomes: sum((s) => s.welcomes),
      closeCodes: merge((s) => s.closeCodes),
      connectFailures: merge((s) => s.connectFailures),
      errorFrames: merge((s) => s.errorFrames),
      notResumed: sum((s) => s.notResumed),
      pingTimeouts: sum((s) => s.pingTimeouts),
      downtimeMs: summarise(subs.flatMap((s) => s.downtimes)),
    },
    state,
    processes: c.lives(),
    unexpectedExits: c.unexpectedExits,
    harnessRssMaxKB,
  };
  const failures = verdict(outcome);
  console.log(summary(outcome, failures));
  const { options: _options, ...results } = outcome;
  writeReport('bench/soak.ts', { scenario: 'soak', options, pass: failures.length === 0, failures, results }, values.out);
  await shutdown();
  clearTimeout(hardDeadline);
  process.exit(failures.length === 0 ? 0 : 1);
}

function progress(c: SoakCluster, p: SubscriberPool, publisher: Publisher): void {
  const acked = publisher.writes.filter((w) => w.state === 'acked').length;
  const pending = publisher.writes.filter((w) => w.state === 'pending').length;
  const connected = p.subscribers.filter((s) => s.connectedTo !== null).length;
  const received = p.subscribers.reduce((t, s) => t + s.seqs.length, 0);
  log(`t=${c.elapsed()}s acknowledged ${acked}, pending ${pending}; subscribers connected ${connected}, events received ${received}; servers up ${c.live().length}`);
}

main().catch((error: unknown) => abort(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 2));
