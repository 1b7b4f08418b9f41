// The measurements, each against a target that is already running with its
// subscribers connected. CPU is read from /proc around the measured window.
import type { ClientPool, Delivery } from './pool.ts';
import { cpuMicros, rssKB, treeCpuMicros } from './proc.ts';
import { publish } from './publisher.ts';
import { type Latency, now, round, sleep, summarise } from './stats.ts';
import type { Target } from './targets.ts';

export interface DeliveryResult {
  events: number;
  subscribers: number;
  expected: number;
  received: number;
  lost: number;
  gaps: number;
  dups: number;
  closed: Record<string, number>;
  seconds: number;
  deliveriesPerSec: number;
  /** Server CPU (all its processes) over the window, per delivery. */
  cpuUsPerDelivery: number;
  serverCpuSeconds: number;
  /** Redis CPU over the window, per delivery (two-process targets). */
  redisCpuUsPerDelivery: number | null;
  /** The load generator's own CPU per delivery: it shares the machine's cores. */
  clientCpuUsPerDelivery: number;
  latencyMs: Latency;
  /** Per event, publish to the first subscriber that had it: the hop, without the fan-out. */
  firstDeliveryMs: Latency;
  publishMs: Latency;
  /** Publishes that did not get a 201 (they count as lost if never delivered). */
  publishFailures: number;
}

let runCounter = 0;
const runId = (label: string) => `${label}${process.pid.toString(36)}${(runCounter++).toString(36)}`;

function cpuWindow(target: Target, pool: ClientPool) {
  const server0 = treeCpuMicros(target.pids);
  const redis0 = target.redisPid ? cpuMicros(target.redisPid) : 0;
  const clients0 = treeCpuMicros(pool.pids);
  return () => ({
    server: treeCpuMicros(target.pids) - server0,
    redis: target.redisPid ? cpuMicros(target.redisPid) - redis0 : 0,
    clients: treeCpuMicros(pool.pids) - clients0,
  });
}

function result(
  target: Target,
  events: number,
  subscribers: number,
  delivery: Delivery,
  seconds: number,
  cpu: { server: number; redis: number; clients: number },
  publishTimes: number[],
  publishFailures: number,
): DeliveryResult {
  const expected = events * subscribers;
  return {
    events,
    subscribers,
    expected,
    received: delivery.received,
    lost: expected - delivery.received,
    gaps: delivery.gaps,
    dups: delivery.dups,
    closed: delivery.closeCodes,
    seconds: round(seconds, 3),
    deliveriesPerSec: Math.round(delivery.received / seconds),
    cpuUsPerDelivery: round(cpu.server / Math.max(1, delivery.received)),
    serverCpuSeconds: round(cpu.server / 1e6, 3),
    redisCpuUsPerDelivery: target.redisPid ? round(cpu.redis / Math.max(1, delivery.received), 3) : null,
    clientCpuUsPerDelivery: round(cpu.clients / Math.max(1, delivery.received)),
    latencyMs: summarise(delivery.latencies),
    firstDeliveryMs: summarise(delivery.firsts),
    publishMs: summarise(publishTimes),
    publishFailures,
  };
}

/** Single events, one after another: each is published once the previous one reached everybody. */
export async function fanout(target: Target, pool: ClientPool, events: number, timeoutMs = 60_000): Promise<DeliveryResult> {
  const run = runId('f');
  const subscribers = await pool.beginRun(run);
  const publishTimes: number[] = [];
  const window = cpuWindow(target, pool);
  const start = now();
  let sent = 0;
  let failures = 0;
  for (let n = 1; n <= events; n++) {
    const res = await publish(target.httpUrls[0] as string, run, n);
    publishTimes.push(res.ms);
    sent = n;
    if (res.status !== 201) failures++;
    if (res.status !== 201 || !(await pool.waitDelivered(n, timeoutMs))) break;
  }
  const seconds = (now() - start) / 1000;
  const cpu = window();
  return result(target, sent, subscribers, await pool.stats(), seconds, cpu, publishTimes, failures);
}

/** Events at a fixed rate for a while; then waits for the last one (or gives up after drainMs). */
export async function sustained(
  target: Target,
  pool: ClientPool,
  rate: number,
  seconds: number,
  drainMs = 10_000,
): Promise<DeliveryResult & { rate: number; ok: boolean }> {
  const run = runId('s');
  const subscribers = await pool.beginRun(run);
  const total = Math.max(1, Math.round(rate * seconds));
  const publishTimes: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const window = cpuWindow(target, pool);
  const start = now();
  for (let n = 1; n <= total; n++) {
    const due = start + ((n - 1) * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    pending.push(
      publish(target.httpUrls[0] as string, run, n).then((r) => {
        publishTimes.push(r.ms);
        if (r.status !== 201) failures++;
      }),
    );
  }
  await Promise.all(pending);
  await pool.waitDelivered(total, drainMs, true);
  const elapsed = (now() - start) / 1000;
  const cpu = window();
  const res = result(target, total, subscribers, await pool.stats(), elapsed, cpu, publishTimes, failures);
  return { ...res, rate, ok: res.lost === 0 && res.gaps === 0 && res.latencyMs.p99 < 1000 };
}

/** Resident memory of the server processes, summed (KB). */
export function serverRssKB(target: Target): number {
  return target.workerPids.reduce((n, pid) => n + rssKB(pid), 0);
}

/** Waits for RSS to settle: a few samples a second apart, the last taken. */
export async function settledRss(target: Target, ms = 4_000): Promise<number> {
  let last = serverRssKB(target);
  for (let t = 0; t < ms; t += 1_000) {
    await sleep(1_000);
    last = serverRssKB(target);
  }
  return last;
}
