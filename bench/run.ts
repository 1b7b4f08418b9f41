// Runs benchmark scenarios against each target in turn and writes one JSON
// result file. Every target gets fresh processes and fresh subscribers.
//
//   node node_modules/tsx/dist/cli.mjs bench/run.ts --scenarios fanout,publish \
//     --targets ours,raw-frame --subscribers 10000 --clients 2 --out bench/results/fanout-10k.json
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { ClientPool } from './lib/pool.ts';
import { openFiles, treeCpuMicros } from './lib/proc.ts';
import { closePublisher, publish } from './lib/publisher.ts';
import { fanout, settledRss, sustained } from './lib/scenarios.ts';
import { boundRun, stopEverything } from './lib/spawn.ts';
import { now, round, sleep } from './lib/stats.ts';
import { startTarget, type Target, type TargetName } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'fanout' },
    targets: { type: 'string', default: 'ours,raw-frame,raw-send,socketio' },
    subscribers: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '2' },
    events: { type: 'string', default: '20' },
    rates: { type: 'string', default: '2,5,10,20,50' },
    seconds: { type: 'string', default: '10' },
    'publish-rate': { type: 'string', default: '2' },
    behind: { type: 'string', default: '100' },
    repeat: { type: 'string', default: '3' },
    /** Extra subscriber totals to step up to, for memory at several sizes. */
    steps: { type: 'string', default: '' },
    out: { type: 'string' },
    /** Repeats the whole target list, interleaved, so a noisy minute does not favour one target. */
    rounds: { type: 'string', default: '1' },
    /** No settling pauses: for the smoke test, where memory figures do not matter. */
    quick: { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '20' },
    /**
     * With the memory scenario: also measure idle and connected RSS after this
     * long without traffic, once V8's memory reducer has had its turn (it
     * shrinks the young generation that the connection burst grew; in the
     * seconds after the burst that alone is up to 2 KB per connection).
     */
    'settle-seconds': { type: 'string', default: '45' },
    /** Extra settings for our server processes, e.g. "ACCESS_LOG=off,WS_HEARTBEAT_SECONDS=30". */
    'server-env': { type: 'string', default: '' },
  },
});

const scenarios = (values.scenarios as string).split(',');
const targets = (values.targets as string).split(',').map((spec) => {
  const [name, procs] = spec.split(':');
  return { name: name as TargetName, processes: procs ? Number(procs) : undefined };
});
const subscribers = Number(values.subscribers);
const clients = Number(values.clients);

// Every run is bounded: past the deadline, everything started is stopped.
boundRun(Number(values['max-minutes']), `bench: over ${values['max-minutes']} minutes`, { onSigint: true });

async function session(name: TargetName, processes: number | undefined): Promise<Record<string, unknown>> {
  // The machine is shared: the load on it is part of every result.
  const out: Record<string, unknown> = { target: name, loadavgStart: loadavg()[0] };
  log(`${name}: starting${processes ? ` ${processes} processes` : ''}`);
  const env = Object.fromEntries(
    (values['server-env'] as string)
      .split(',')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const target = await startTarget(name, { processes, env });
  const pool = await ClientPool.start(clients);
  try {
    out.processes = target.pids.length;
    out.baseFds = target.workerPids.map(openFiles);
    const settle = values.quick ? 0 : 1;
    await sleep(1_000 * settle);
    const idle = await settledRss(target, 2_000 * settle);
    const settleMs = scenarios.includes('memory') && !values.quick ? Number(values['settle-seconds']) * 1_000 : 0;
    const idleSettled = settleMs ? await settledRss(target, settleMs) : idle;
    const connectStart = now();
    const connected = await pool.connect(target.protocol, target.wsUrls, subscribers);
    log(`${name}: ${connected.ok} connected, ${connected.failed} failed in ${round(connected.ms / 1000, 1)} s`);
    out.connect = { ...connected, seconds: round((now() - connectStart) / 1000, 2) };
    const memory = [await memoryAt(target, idle, connected.ok, settle)];
    if (settleMs) {
      const settled = await settledRss(target, settleMs);
      Object.assign(memory[0] as object, {
        settledIdleRssKB: idleSettled,
        settledRssKB: settled,
        settledPerConnectionKB: round((settled - idleSettled) / Math.max(1, connected.ok), 2),
      });
    }
    let total = connected.ok;
    for (const step of (values.steps as string).split(',').filter(Boolean).map(Number)) {
      const more = await pool.connect(target.protocol, target.wsUrls, step - total, { addressBase: 30 });
      total += more.ok;
      log(`${name}: stepped up to ${total} (${more.failed} failed)`);
      memory.push(await memoryAt(target, idle, total, settle));
    }
    out.memory = memory;
    log(
      `${name}: ${memory
        .map((m) => `${m.connections} conns ${m.perConnectionKB} KB/conn${'settledPerConnectionKB' in m ? ` (settled: ${m.settledPerConnectionKB})` : ''}`)
        .join(', ')}`,
    );

    for (const scenario of scenarios) {
      if (scenario === 'memory') continue;
      // A few events first, so every target runs warm code.
      await fanout(target, pool, 3);
      if (scenario === 'fanout') {
        const res = await fanout(target, pool, Number(values.events));
        out.fanout = res;
        log(`${name}: fanout ${res.received}/${res.expected} ${res.cpuUsPerDelivery} µs/delivery p50 ${res.latencyMs.p50} p99 ${res.latencyMs.p99} ms`);
      } else if (scenario === 'sustained') {
        const sweep = [];
        for (const rate of (values.rates as string).split(',').map(Number)) {
          const res = await sustained(target, pool, rate, Number(values.seconds));
          sweep.push(res);
          log(`${name}: ${rate}/s ${res.ok ? "ok" : "FAIL"} lost ${res.lost} (publish failures ${res.publishFailures}) p99 ${res.latencyMs.p99} ms, server ${res.cpuUsPerDelivery} µs/delivery, clients ${res.clientCpuUsPerDelivery} µs/delivery`);
          if (!res.ok) break;
        }
        out.sustained = sweep;
        out.maxSustainedRate = Math.max(0, ...sweep.filter((r) => r.ok).map((r) => r.rate));
      } else if (scenario === 'publish') {
        const res = await sustained(target, pool, Number(values['publish-rate']), Number(values.seconds));
        out.publish = res;
        log(`${name}: publish API p50 ${res.publishMs.p50} p99 ${res.publishMs.p99} ms with ${res.subscribers} subscribers`);
      } else if (scenario === 'storm') {
        out.storm = await storm(target, pool);
      }
    }
  } finally {
    out.loadavgEnd = loadavg()[0];
    await pool.stop();
    await target.stop();
  }
  return out;
}

async function memoryAt(target: Target, idleKB: number, connections: number, settle: number) {
  const connectedKB = await settledRss(target, 5_000 * settle);
  return {
    connections,
    idleRssKB: idleKB,
    connectedRssKB: connectedKB,
    perConnectionKB: round((connectedKB - idleKB) / Math.max(1, connections), 2),
    perProcessRssKB: target.workerPids.length > 1 ? Math.round(connectedKB / target.workerPids.length) : connectedKB,
  };
}

/** Everyone drops, the newsroom publishes `behind` events, everyone comes back at once with its cursor. */
async function storm(target: Target, pool: ClientPool) {
  const behind = Number(values.behind);
  const rounds = [];
  for (let r = 0; r < Number(values.repeat); r++) {
    await pool.disconnect();
    await sleep(500);
    const run = `r${process.pid.toString(36)}${r}`;
    for (let n = 1; n <= behind; n++) await publish(target.httpUrls[0] as string, run, n);
    const cpu0 = treeCpuMicros(target.pids);
    // A storm of 100,000 on two shared cores takes minutes (the clients parse
    // ten million frames beside the servers): 6 ms a subscriber, a minute at least.
    const res = await pool.storm(run, behind, Math.max(60_000, Number(values.subscribers) * 6), { addressBase: r % 2 ? 30 : 50 });
    const cpu = treeCpuMicros(target.pids) - cpu0;
    const stats = await pool.stats();
    const expected = subscribers * behind;
    const row = {
      subscribers,
      behind,
      doneMs: res.ms === null ? null : Math.round(res.ms),
      connectMs: Math.round(res.connectMs),
      connected: res.connected,
      retries: res.retries,
      resumed: res.resumed,
      expected,
      received: stats.received,
      lost: expected - stats.received,
      gaps: stats.gaps,
      dups: stats.dups,
      serverCpuSeconds: round(cpu / 1e6, 3),
    };
    rounds.push(row);
    log(`${target.name}: storm ${r + 1}: done in ${row.doneMs} ms, back ${row.connected} in ${row.connectMs} ms (${row.retries} retries), resumed ${row.resumed}, lost ${row.lost}, gaps ${row.gaps}, dups ${row.dups}`);
    await sleep(1_000);
  }
  return rounds;
}

const results: Record<string, unknown>[] = [];
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const { name, processes } of targets) {
      try {
        results.push({ round, ...(await session(name, processes)) });
      } catch (error) {
        log(`${name}: failed: ${error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : error}`);
        results.push({ round, target: name, error: String(error instanceof Error ? error.message.split('\n')[0] : error) });
        await stopEverything();
      }
    }
  }
} finally {
  closePublisher();
  await stopEverything();
}

writeReport('bench/run.ts', {
  scenarios,
  params: { ...values, subscribers, clients },
  results,
}, values.out);
process.exit(0);
