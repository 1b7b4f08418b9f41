// WORKERS=2 against WORKERS=1 on the embedded store: the same subscribers
// (spread by the cluster over the workers), a warm-up fan-out, then events at
// fixed rates for a few seconds each (scenarios.ts sustained: published over
// HTTP through the one port, so the writes land on every worker too). Server
// CPU (the primary and every worker) per delivery is read from /proc around
// each window; a rate counts as sustained with nothing lost and p99 < 1 s.
//
//   node node_modules/tsx/dist/cli.mjs bench/workers.ts --subscribers 2000 --rates 25,100 --seconds 5
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { ClientPool } from './lib/pool.ts';
import { closePublisher } from './lib/publisher.ts';
import { fanout, sustained } from './lib/scenarios.ts';
import { boundRun, stopEverything } from './lib/spawn.ts';
import { round, sleep } from './lib/stats.ts';
import { startTarget, type Target } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '2' },
    rates: { type: 'string', default: '25,100' },
    seconds: { type: 'string', default: '5' },
    workers: { type: 'string', default: '1,2' },
    out: { type: 'string' },
    'max-minutes': { type: 'string', default: '2' },
    /** How long readers may take to catch up after the last publish is acknowledged; what is later counts as lost. */
    'drain-seconds': { type: 'string', default: '10' },
  },
});

const subscribers = Number(values.subscribers);
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);

boundRun(Number(values['max-minutes']), `bench: over ${values['max-minutes']} minutes`, { onSigint: true });

/** Waits until every worker answers /metrics (the cluster only hands connections to workers that listen). */
async function allListening(target: Target, workers: number): Promise<void> {
  if (workers === 1) return;
  const seen = new Set<string>();
  const deadline = Date.now() + 60_000;
  while (seen.size < workers) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${workers} workers answered`);
    const text = await (await fetch(`${target.httpUrls[0]}/metrics`, { headers: { connection: 'close' } })).text();
    const worker = /\{worker="(\d+)"\}/.exec(text)?.[1];
    if (worker) seen.add(worker);
    else await sleep(100);
  }
}

async function measure(workers: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { workers, loadavgStart: loadavg()[0] };
  const target = await startTarget('ours', { env: { WORKERS: String(workers) } });
  const pool = await ClientPool.start(Number(values.clients));
  try {
    await allListening(target, workers);
    const connected = await pool.connect('ws', target.wsUrls, subscribers);
    out.connect = connected;
    log(`WORKERS=${workers}: ${connected.ok} connected, ${connected.failed} failed`);
    await fanout(target, pool, 3);
    const runs = [];
    for (const rate of rates) {
      const res = await sustained(target, pool, rate, seconds, Number(values['drain-seconds']) * 1000);
      runs.push(res);
      log(
        `WORKERS=${workers} ${rate}/s: ${res.ok ? 'sustained' : 'NOT sustained'}, ${res.received}/${res.expected} delivered, ` +
          `${res.cpuUsPerDelivery} µs server CPU/delivery (${res.serverCpuSeconds} s over ${res.seconds} s), p50 ${res.latencyMs.p50} p99 ${res.latencyMs.p99} ms, publish p99 ${res.publishMs.p99} ms`,
      );
    }
    out.sustained = runs;
  } finally {
    out.loadavgEnd = loadavg()[0];
    await pool.stop();
    await target.stop();
  }
  return out;
}

const results: Record<string, unknown>[] = [];
try {
  for (const workers of values.workers.split(',').map(Number)) {
    try {
      results.push(await measure(workers));
    } catch (error) {
      log(`WORKERS=${workers}: failed: ${error instanceof Error ? error.message.split('\n').slice(0, 3).join(' | ') : error}`);
      results.push({ workers, error: String(error instanceof Error ? error.message.split('\n')[0] : error) });
      await stopEverything();
    }
  }
} finally {
  closePublisher();
  await stopEverything();
}

const summary = results.map((r) => ({
  workers: r.workers,
  loadavg: r.loadavgStart,
  rates: ((r.sustained ?? []) as Awaited<ReturnType<typeof sustained>>[]).map((s) => ({
    rate: s.rate,
    ok: s.ok,
    deliveriesPerSec: s.deliveriesPerSec,
    cpuUsPerDelivery: s.cpuUsPerDelivery,
    serverCpuPercent: round((100 * s.serverCpuSeconds) / s.seconds, 1),
    p99Ms: s.latencyMs.p99,
  })),
}));
log(JSON.stringify(summary));
writeReport('bench/workers.ts', { params: { ...values, subscribers, rates, seconds }, summary, results }, values.out);
process.exit(0);
