// The breaking-news moment: 10,000 readers hold a live socket while flash
// alerts go out, a rush of page loads and feed polls arrives, and the store
// holds either nothing or 20,000 real stories. One run measures, side by
// side, our server on the embedded store and on two processes with Redis:
//
//   - flash alert latency to every socket, quiet and during the rush;
//   - page and feed latency during the rush, by kind;
//   - server CPU per page, per feed request and per `reset` snapshot alone;
//   - bytes a subscriber receives for one published story;
//
// and reports rush ÷ quiet and 20k stories ÷ empty store.
//
//   node node_modules/tsx/dist/cli.mjs bench/moment.ts --out bench/results/moment.json
//   node node_modules/tsx/dist/cli.mjs bench/moment.ts --quick          (smoke test, small sizes)
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LoadGenerator, type LoadWindow } from './lib/moment-load.ts';
import { flashAlerts, idleCpu, loadWindow } from './lib/moment-phases.ts';
import { eventBytes, snapshotCost } from './lib/moment-probe.ts';
import { goals, type MomentRow, momentTables } from './lib/moment-report.ts';
import { closeSeeder, seedStories, seedStory, storyId, TOPICS } from './lib/moment-seed.ts';
import { log, writeReport } from './lib/output.ts';
import { addresses, ClientPool } from './lib/pool.ts';
import { closePublisher } from './lib/publisher.ts';
import { fanout } from './lib/scenarios.ts';
import { stopEverything } from './lib/spawn.ts';
import { now, round } from './lib/stats.ts';
import { startTarget, type Target, type TargetName } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'ours,ours-redis' },
    subscribers: { type: 'string' },
    /** Client worker processes holding the subscribers. */
    clients: { type: 'string' },
    stories: { type: 'string' },
    'page-rate': { type: 'string' },
    'feed-rate': { type: 'string' },
    /** Flash alerts per phase (quiet, rush). */
    alerts: { type: 'string' },
    /** Length of each measured window. */
    seconds: { type: 'string' },
    /** `reset` snapshots taken one after another per store. */
    snapshots: { type: 'string' },
    'seed-concurrency': { type: 'string' },
    'max-minutes': { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});

/** A flag's value, or its full-size default, or its --quick default. */
const opt = (name: keyof typeof values, full: number, quick: number) => Number(values[name] ?? (values.quick ? quick : full));
const o = {
  targets: (values.targets as string).split(',').filter(Boolean) as TargetName[],
  subscribers: opt('subscribers', 10_000, 300),
  clients: opt('clients', 2, 2),
  stories: opt('stories', 20_000, 300),
  pageRate: opt('page-rate', 100, 40),
  feedRate: opt('feed-rate', 50, 20),
  alerts: opt('alerts', 10, 3),
  seconds: opt('seconds', 10, 3),
  snapshots: opt('snapshots', 200, 10),
  seedConcurrency: opt('seed-concurrency', 16, 16),
  maxMinutes: opt('max-minutes', 40, 5),
  // A quick run must never overwrite a real result.
  out: values.out ?? (values.quick ? join(tmpdir(), 'moment-quick.json') : 'bench/results/moment.json'),
};

// Raised so the bench measures the server's work, not its protections
// (variables the server does not know are ignored; one it rejects is dropped, see start()).
const LIMITS: Record<string, string> = {
  PUBLISH_RATE_PER_MINUTE: '10000000',
  MAX_CONNECTIONS_PER_ADDRESS: '1000000',
  CONNECTIONS_PER_SECOND_PER_ADDRESS: '1000000',
  HTTP_RATE_PER_10S: '100000000',
  PUBLIC_URL: 'http://127.0.0.1',
};
// Heartbeats to 10k sockets are a burst of CPU every minute: kept out of the
// windows, whose CPU is divided by a few thousand requests.
const QUIET = { WS_HEARTBEAT_SECONDS: '3600' };
/** The rush comes from its own source addresses, apart from the subscribers' (127.0.0.10 and up). */
const LOAD_ADDRESSES = addresses(200, 4);
/** One process holds at most 20,000 open files. */
const MAX_SOCKETS_PER_PROCESS = 19_900;

const rows: MomentRow[] = [];
const live: { pool: ClientPool | null; load: LoadGenerator | null } = { pool: null, load: null };

/** Stops whatever runs, writes what was measured so far, and leaves. */
async function abort(code: number, why: string): Promise<never> {
  console.error(`bench/moment: ${why}, stopping everything`);
  for (const pid of live.pool?.pids ?? []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.load?.kill();
  await stopEverything();
  writeReport('bench/moment.ts', { scenario: 'moment', aborted: why, params: o, results: rows }, o.out);
  process.exit(code);
}

setTimeout(() => void abort(2, `over ${o.maxMinutes} minutes`), o.maxMinutes * 60_000).unref();
process.on('SIGINT', () => void abort(130, 'interrupted'));
process.on('SIGTERM', () => void abort(143, 'terminated'));

/** Limits the server refused, and why: later targets start without them at once. */
const refused = new Map<string, string>();

/** Starts the target with the raised limits; a limit the server refuses is dropped and recorded. */
async function start(name: TargetName): Promise<{ target: Target; rejected: string[] }> {
  const env: Record<string, string> = { ...LIMITS, ...QUIET };
  for (const key of refused.keys()) delete env[key];
  try {
    return { target: await startTarget(name, { env }), rejected: [...refused.values()] };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const rejected = Object.keys(env).filter((key) => key in LIMITS && text.includes(`- ${key}:`));
    if (!rejected.length) throw error;
    for (const key of rejected) {
      refused.set(key, `${key}=${LIMITS[key]}: ${new RegExp(`- ${key}: ([^\\n]*)`).exec(text)?.[1]}`);
      delete env[key];
    }
    log(`${name}: the server refused ${rejected.map((key) => refused.get(key)).join('; ')}; running without it`);
    await stopEverything();
    return { target: await startTarget(name, { env }), rejected: [...refused.values()] };
  }
}

/** One target with one store, from start to stop; `row` fills as it goes, so an abort keeps what was measured. */
async function session(row: MomentRow, load: LoadGenerator): Promise<void> {
  const name = row.target as TargetName;
  const stories = row.stories;
  row.loadavgStart = loadavg()[0];
  const tag = `${name}, ${stories ? `${stories} stories` : 'empty store'}`;
  log(`${tag}: starting`);
  const { target, rejected } = await start(name);
  try {
    row.processes = target.pids.length;
    row.rejectedEnv = rejected;
    if (o.subscribers / target.pids.length > MAX_SOCKETS_PER_PROCESS) throw new Error('too many subscribers per server process');
    // Subscribers of every topic: `/ws` without topics.
    const wsUrls = target.httpUrls.map((url) => `${url.replace(/^http/, 'ws')}/ws`);
    const story = seedStory();
    if (stories) {
      row.seed = await seedStories(target.httpUrls, stories, o.seedConcurrency, story);
      log(`${tag}: seeded ${stories} in ${round(row.seed.seconds, 1)} s ${JSON.stringify(row.seed.statuses)}`);
      if (row.seed.failed) throw new Error(`seeding: ${row.seed.failed} stories not published ${JSON.stringify(row.seed.statuses)}`);
    }
    // Probes before the subscribers: one reader alone, nothing else running.
    const probeId = 'moment-probe-story';
    row.eventBytes = await eventBytes(target, wsUrls[wsUrls.length - 1] as string, story, probeId);
    row.snapshot = await snapshotCost(target, wsUrls[0] as string, o.snapshots);
    log(`${tag}: seed-story event ${row.eventBytes.seedStory.payloadBytes} bytes, flash alert ${row.eventBytes.flashAlert.payloadBytes}; snapshot p50 ${row.snapshot.latencyMs.p50} ms, ${row.snapshot.resetBytes} bytes`);

    const pool = await ClientPool.start(o.clients);
    live.pool = pool;
    try {
      const connectStart = now();
      const connected = await pool.connect('ws', wsUrls, o.subscribers);
      row.connect = { ok: connected.ok, failed: connected.failed, seconds: round((now() - connectStart) / 1000, 2) };
      log(`${tag}: ${connected.ok} subscribers connected, ${connected.failed} failed in ${row.connect.seconds} s`);
      await measure(row, tag, target, pool, load, storyIds(stories, probeId));
    } finally {
      await pool.stop();
      live.pool = null;
    }
  } finally {
    row.loadavgEnd = loadavg()[0];
    await target.stop();
  }
}

/** Seeded ids, and the probe's story, so an empty store's story pages are real pages too. */
function storyIds(stories: number, probeId: string): string[] {
  return [...Array.from({ length: stories }, (_, i) => storyId(i)), probeId];
}

/** Warm-up, quiet alerts, the rush, then page and feed cost alone. */
async function measure(row: MomentRow, tag: string, target: Target, pool: ClientPool, load: LoadGenerator, ids: string[]): Promise<void> {
  const mix: LoadWindow = {
    origins: target.httpUrls,
    pageRate: o.pageRate,
    feedRate: o.feedRate,
    topics: TOPICS,
    storyIds: ids,
    addresses: LOAD_ADDRESSES,
  };
  // Every target runs warm code: a few alerts, and every feed rendered once.
  await fanout(target, pool, 3);
  await loadWindow(target, load, mix, Math.min(3, o.seconds));
  // The alerts spread over the window, leaving the first second to the rush alone.
  const spacing = Math.max(200, ((o.seconds - 2) * 1000) / o.alerts);
  row.quiet = await flashAlerts(target, pool, o.alerts, spacing);
  log(`${tag}: quiet alerts p50 ${row.quiet.latencyMs.p50} p99 ${row.quiet.latencyMs.p99} ms, lost ${row.quiet.lost}`);
  row.rush = await loadWindow(target, load, mix, o.seconds, () => flashAlerts(target, pool, o.alerts, spacing));
  const during = row.rush.during;
  log(`${tag}: rush alerts p50 ${during?.latencyMs.p50} p99 ${during?.latencyMs.p99} ms, lost ${during?.lost}; ${row.rush.load.served} requests, pages p50 ${row.rush.load.all.pages.p50} ms, feeds p50 ${row.rush.load.all.feeds.p50} ms`);
  row.idle = await idleCpu(target, o.seconds);
  row.pages = await loadWindow(target, load, { ...mix, feedRate: 0 }, o.seconds);
  log(`${tag}: pages alone ${row.pages.serverCpuUsPerRequest} µs CPU/page, p50 ${row.pages.load.all.pages.p50} ms`);
  row.feeds = await loadWindow(target, load, { ...mix, pageRate: 0 }, o.seconds);
  log(`${tag}: feeds alone ${row.feeds.serverCpuUsPerRequest} µs CPU/request, p50 ${row.feeds.load.all.feeds.p50} ms`);
}

async function main(): Promise<void> {
  if (o.subscribers / o.clients > MAX_SOCKETS_PER_PROCESS) throw new Error(`${o.subscribers} subscribers need more than ${o.clients} --clients`);
  log(`moment: ${o.targets.join(', ')}; ${o.subscribers} subscribers over ${o.clients} clients; stores empty and ${o.stories} stories; pages ${o.pageRate}/s, feeds ${o.feedRate}/s, ${o.alerts} alerts, ${o.seconds} s windows`);
  const load = await LoadGenerator.start();
  live.load = load;
  try {
    for (const name of o.targets) {
      for (const stories of [0, o.stories]) {
        const row: MomentRow = { target: name, store: stories ? 'stories' : 'empty', stories };
        rows.push(row);
        try {
          await session(row, load);
        } catch (error) {
          row.error = error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : String(error);
          log(`${name}, ${stories} stories: failed: ${row.error}`);
          await stopEverything();
        }
      }
    }
  } finally {
    await load.stop();
    live.load = null;
    closePublisher();
    closeSeeder();
    await stopEverything();
  }
  const list = goals(rows);
  console.log(`\n${momentTables(rows, list)}\n`);
  writeReport('bench/moment.ts', { scenario: 'moment', params: o, serverEnv: { ...LIMITS, ...QUIET }, goals: list, results: rows }, o.out);
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => abort(1, `failed: ${error instanceof Error ? error.message : error}`));
