// Faults a soak injects, one at a time, each bounded and followed by its
// recovery: a process restarted on its port, Redis back from its append-only
// file, readiness regained. Every fault is logged with when it happened and
// what it took.
import { log } from './output.ts';
import type { SoakCluster, SoakServer } from './soak-cluster.ts';
import type { Publisher } from './soak-publisher.ts';
import type { Random } from './soak-random.ts';
import { sleep } from './stats.ts';

export const FAULT_KINDS = ['server-sigkill', 'server-sigterm', 'redis-sigkill', 'redis-sigstop', 'pubsub-kill', 'burst'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  kind: FaultKind;
  target: string | null;
  /** Seconds since the soak started, and the wall clock. */
  at: number;
  time: string;
  /** From the fault to the end of its recovery. */
  ms: number;
  detail: Record<string, number | string | boolean | null>;
  error?: string;
}

/** Planned faults: spread over the middle of the run, every kind once per round, in a seeded order. */
export function planFaults(durationMs: number, random: Random): { atMs: number; kind: FaultKind }[] {
  const from = durationMs * 0.1;
  const to = durationMs * 0.85;
  const every = Math.min(30_000, Math.max(6_000, (to - from) / 24));
  const plan: { atMs: number; kind: FaultKind }[] = [];
  let round: FaultKind[] = [];
  for (let at = from; at <= to; at += every) {
    if (round.length === 0) round = random.shuffle(FAULT_KINDS);
    plan.push({ atMs: Math.round(at), kind: round.shift() as FaultKind });
  }
  return plan;
}

/** How long a killed process or a frozen Redis stays down before it comes back. */
const DOWN_MS = 2_000;
const FREEZE_MS = 4_000;
const READY_TIMEOUT_MS = 30_000;

export class FaultInjector {
  readonly done: FaultRecord[] = [];
  private rotation = 0;

  constructor(
    private readonly cluster: SoakCluster,
    private readonly publisher: Publisher,
    private readonly burstSize: number,
  ) {}

  async inject(kind: FaultKind): Promise<FaultRecord> {
    const record: FaultRecord = { kind, target: null, at: this.cluster.elapsed(), time: new Date().toISOString(), ms: 0, detail: {} };
    const started = Date.now();
    log(`fault ${kind} at ${record.at}s`);
    try {
      if (kind === 'server-sigkill' || kind === 'server-sigterm') await this.restartServer(kind, record);
      else if (kind === 'redis-sigkill') await this.crashRedis(record);
      else if (kind === 'redis-sigstop') await this.freezeRedis(record);
      else if (kind === 'pubsub-kill') await this.killSubscriptions(record);
      else await this.burst(record);
    } catch (error) {
      record.error = String(error).slice(0, 1_000);
      log(`fault ${kind} failed: ${record.error}`);
    }
    record.ms = Date.now() - started;
    log(`fault ${kind}${record.target ? ` on ${record.target}` : ''} over after ${record.ms} ms ${JSON.stringify(record.detail)}`);
    this.done.push(record);
    return record;
  }

  /** Recovery ends when every running server answers /readyz 200 again. */
  private async ready(record: FaultRecord): Promise<void> {
    record.detail.readyMs = await this.cluster.waitReady(READY_TIMEOUT_MS);
    if (record.detail.readyMs === null) throw new Error(`servers not ready ${READY_TIMEOUT_MS / 1000} s after the fault`);
  }

  /** The servers take turns, so each one is killed and drained over a long run. */
  private nextServer(): SoakServer {
    const servers = this.cluster.servers;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(this.rotation + i) % servers.length] as SoakServer;
      if (server.up) {
        this.rotation = (server.index + 1) % servers.length;
        return server;
      }
    }
    throw new Error('no server is up');
  }

  private async restartServer(kind: 'server-sigkill' | 'server-sigterm', record: FaultRecord): Promise<void> {
    const server = this.nextServer();
    record.target = server.name;
    const down = Date.now();
    const exitMs = await server.stop(kind === 'server-sigkill' ? 'SIGKILL' : 'SIGTERM');
    record.detail.exitMs = exitMs;
    record.detail.drainOverran = server.lives.at(-1)?.end === 'sigterm-overran';
    await sleep(DOWN_MS);
    await server.start();
    record.detail.downMs = Date.now() - down;
    await this.ready(record);
  }

  /** SIGKILL: no shutdown, no final fsync. With appendfsync always nothing acknowledged may be lost. */
  private async crashRedis(record: FaultRecord): Promise<void> {
    record.target = 'redis';
    await this.cluster.redis.crash();
    await sleep(DOWN_MS);
    await this.cluster.redis.start();
    await this.ready(record);
  }

  /** SIGSTOP: connections stay open and nothing answers (a hung host, a long fsync). */
  private async freezeRedis(record: FaultRecord): Promise<void> {
    record.target = 'redis';
    this.cluster.redis.pause();
    try {
      await sleep(FREEZE_MS);
    } finally {
      this.cluster.redis.resume();
    }
    record.detail.frozenMs = FREEZE_MS;
    await this.ready(record);
  }

  /** CLIENT KILL TYPE pubsub a few times in a row: every server loses its subscription and must fill the gap from the log. */
  private async killSubscriptions(record: FaultRecord): Promise<void> {
    record.target = 'redis';
    let killed = 0;
    await this.cluster.redis.admin(async (client) => {
      for (let i = 0; i < 5; i++) {
        killed += Number(await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        await sleep(250);
      }
    });
    record.detail.connectionsKilled = killed;
    await this.ready(record);
  }

  private async burst(record: FaultRecord): Promise<void> {
    const started = Date.now();
    const settled = await Promise.race([this.publisher.burst(this.burstSize).then(() => true), sleep(30_000).then(() => false)]);
    record.detail.items = this.burstSize;
    record.detail.acknowledgedWithinMs = settled ? Date.now() - started : null;
  }
}
