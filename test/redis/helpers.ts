// Shared pieces of the Redis tests: a redis-server with server processes on
// it, an admin connection, and the order assertions every test makes.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect } from 'vitest';
import { startRedis, stopAllRedis, type TestRedis } from '../support/redis.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { type Frame, seqOf } from '../support/ws.ts';

export { metric } from '../support/metrics.ts';

export interface Cluster {
  redis: TestRedis;
  servers: TestServer[];
}

export interface ClusterOptions {
  /** Start the processes one after the other: several starting at once on a busy machine can outlast the start timeout. */
  oneByOne?: boolean;
}

export async function startCluster(processes: number, env: Record<string, string> = {}, options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis();
  const start = () => startServer({ env: { REDIS_URL: redis.url, ...env } });
  const servers: TestServer[] = [];
  if (options.oneByOne) for (let n = 0; n < processes; n++) servers.push(await start());
  else servers.push(...(await Promise.all(Array.from({ length: processes }, start))));
  return { redis, servers };
}

export interface ClusterFixture extends Cluster {
  /** A connection for the test's own commands, made on first use. */
  readonly admin: Redis;
}

/**
 * A redis-server with `processes` servers on it for the tests of one
 * describe block: started before them, and everything stopped after them.
 */
export function useCluster(processes: number, env: Record<string, string> = {}, options: ClusterOptions = {}): ClusterFixture {
  let cluster: Cluster | undefined;
  let admin: Redis | undefined;
  const started = () => {
    if (!cluster) throw new Error('the cluster starts in beforeAll');
    return cluster;
  };
  beforeAll(async () => {
    cluster = await startCluster(processes, env, options);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stopAllRedis();
    await cleanup();
  });
  return {
    get redis() {
      return started().redis;
    },
    get servers() {
      return started().servers;
    },
    get admin() {
      admin ??= adminClient(started().redis);
      return admin;
    },
  };
}

/** A plain connection for the test's own commands (CLIENT KILL, FLUSHALL, INFO). */
export function adminClient(redis: TestRedis): Redis {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on('error', () => {});
  return client;
}

/** Publishes `count` items through `server`, `parallel` at a time; returns the 201 bodies in seq order. */
export async function publishMany(
  server: TestServer,
  count: number,
  parallel = 4,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; seq: number; cursor: string }[]> {
  const done: { id: string; seq: number; cursor: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next++;
        const res = await api(server, 'POST', '/api/v1/items', newItem(fields));
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        done.push({ id: res.body.item.id, seq: seqOf(res.body.cursor), cursor: res.body.cursor });
      }
    }),
  );
  return done.sort((a, b) => a.seq - b.seq);
}

/** Event frames are strictly consecutive in seq (no gap, no duplicate) and come from one epoch. */
export function expectConsecutive(events: Frame[], firstSeq?: number): number[] {
  const seqs = events.map((e) => seqOf(e.cursor));
  const start = firstSeq ?? seqs[0] ?? 0;
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => start + i));
  expect(new Set(events.map((e) => e.cursor?.split('-')[0])).size).toBeLessThanOrEqual(1);
  return seqs;
}

/** `until` (support/wait.ts) with the timeout before the description. */
export function waitFor<T>(check: () => Promise<T | false | undefined> | T | false | undefined, timeoutMs: number, what: string): Promise<T> {
  return until(check, what, timeoutMs);
}

export async function readyz(server: TestServer): Promise<number> {
  return (await fetch(`${server.url}/readyz`)).status;
}

/** SIGKILL the redis-server (a crash: no shutdown, no final fsync) and wait for it to be gone. */
export async function crashRedis(redis: TestRedis): Promise<void> {
  const admin = adminClient(redis);
  const info = await admin.info('server');
  admin.disconnect();
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  process.kill(pid, 'SIGKILL');
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    5_000,
    'redis-server to exit',
  );
}
