// The measured windows of the breaking-news moment, each against a target
// that is running with its subscribers connected: flash alerts (quiet or
// during a rush), and page or feed load alone, with server CPU from /proc.
import type { LoadGenerator, LoadStats, LoadWindow } from './moment-load.ts';
import type { ClientPool } from './pool.ts';
import { cpuMicros, treeCpuMicros } from './proc.ts';
import { publish } from './publisher.ts';
import { type Latency, now, round, sleep, summarise } from './stats.ts';
import type { Target } from './targets.ts';

export interface AlertResult {
  alerts: number;
  subscribers: number;
  expected: number;
  received: number;
  lost: number;
  gaps: number;
  dups: number;
  closed: Record<string, number>;
  /** Alerts whose fan-out did not reach every subscriber in time. */
  timedOut: number;
  publishFailures: number;
  /** Publish to each subscriber's receipt, every delivery. */
  latencyMs: Latency;
  /** Publish to the first subscriber, per alert: the path without the fan-out. */
  firstDeliveryMs: Latency;
  publishMs: Latency;
}

let runCounter = 0;

/** CPU of the server processes and of Redis since the call, in microseconds. */
export function cpuSince(target: Target): () => { server: number; redis: number } {
  const server0 = treeCpuMicros(target.pids);
  const redis0 = target.redisPid ? cpuMicros(target.redisPid) : 0;
  return () => ({
    server: treeCpuMicros(target.pids) - server0,
    redis: target.redisPid ? cpuMicros(target.redisPid) - redis0 : 0,
  });
}

/**
 * Flash alerts one at a time, one every `spacingMs`: each waits until every
 * open subscriber has the previous one, so what is measured is an alert's own
 * fan-out, not a queue of them.
 */
export async function flashAlerts(target: Target, pool: ClientPool, count: number, spacingMs: number, timeoutMs = 30_000): Promise<AlertResult> {
  const run = `m${process.pid.toString(36)}${(runCounter++).toString(36)}`;
  const subscribers = await pool.beginRun(run);
  const publishTimes: number[] = [];
  let failures = 0;
  let timedOut = 0;
  let sent = 0;
  for (let n = 1; n <= count; n++) {
    const slot = now();
    const res = await publish(target.httpUrls[0] as string, run, n);
    publishTimes.push(res.ms);
    sent = n;
    if (res.status !== 201) {
      failures++;
      continue;
    }
    if (!(await pool.waitDelivered(n, timeoutMs))) timedOut++;
    const rest = spacingMs - (now() - slot);
    if (rest > 0 && n < count) await sleep(rest);
  }
  const delivery = await pool.stats();
  const expected = (sent - failures) * subscribers;
  return {
    alerts: sent,
    subscribers,
    expected,
    received: delivery.received,
    lost: expected - delivery.received,
    gaps: delivery.gaps,
    dups: delivery.dups,
    closed: delivery.closeCodes,
    timedOut,
    publishFailures: failures,
    latencyMs: summarise(delivery.latencies),
    firstDeliveryMs: summarise(delivery.firsts),
    publishMs: summarise(publishTimes),
  };
}

export interface LoadResult {
  load: LoadStats;
  serverCpuSeconds: number;
  redisCpuSeconds: number | null;
  /** The load generator's own CPU: it shares the cores with the server. */
  loadCpuSeconds: number;
  /** Server CPU over the window per request answered as expected. */
  serverCpuUsPerRequest: number;
  redisCpuUsPerRequest: number | null;
}

/**
 * A window of page and feed load at fixed rates; `during` runs while it goes
 * (the rush's alerts), after `leadMs` so the load is up to speed first.
 */
export async function loadWindow<T = undefined>(
  target: Target,
  generator: LoadGenerator,
  window: LoadWindow,
  seconds: number,
  during?: () => Promise<T>,
  leadMs = 1_000,
): Promise<LoadResult & { during: T | undefined }> {
  const cpu = cpuSince(target);
  const load0 = treeCpuMicros([generator.pid]);
  const start = now();
  await generator.begin(window);
  let inner: T | undefined;
  if (during) {
    await sleep(leadMs);
    inner = await during();
  }
  const rest = seconds * 1000 - (now() - start);
  if (rest > 0) await sleep(rest);
  const load = await generator.end();
  const used = cpu();
  const served = Math.max(1, load.served);
  return {
    load,
    serverCpuSeconds: round(used.server / 1e6, 3),
    redisCpuSeconds: target.redisPid ? round(used.redis / 1e6, 3) : null,
    loadCpuSeconds: round((treeCpuMicros([generator.pid]) - load0) / 1e6, 3),
    serverCpuUsPerRequest: round(used.server / served),
    redisCpuUsPerRequest: target.redisPid ? round(used.redis / served) : null,
    during: inner,
  };
}

/** Server CPU with nothing asked of it but holding the sockets: what every window carries anyway. */
export async function idleCpu(target: Target, seconds: number): Promise<{ seconds: number; serverCpuUsPerSecond: number }> {
  const cpu = cpuSince(target);
  await sleep(seconds * 1000);
  return { seconds, serverCpuUsPerSecond: Math.round(cpu().server / seconds) };
}
