// WORKERS=2 with REDIS_URL: the workers are Redis processes like any other
// (store and bus in Redis, nothing relayed by the primary), behind one port.
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, stopAllRedis } from '../support/redis.ts';
import { cleanup, logLines, publishOk, startServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { seqOf, TestClient } from '../support/ws.ts';

afterAll(async () => {
  await cleanup();
  await stopAllRedis();
});

describe('WORKERS=2 on Redis', () => {
  it('runs each worker on the Redis store and bus, and every reader gets every event in order', async () => {
    const redis = await startRedis({ password: 'cluster-redis-password' });
    const url = redis.url;
    const server = await startServer({ env: { WORKERS: '2', REDIS_URL: url, REDIS_KEY_PREFIX: 'workers' }, startTimeoutMs: 120_000 });
    // The primary's "listening" can come before the workers' own lines reach the pipe.
    const workers = await until(() => {
      const lines = logLines(server, 'worker listening');
      return lines.length === 2 && lines;
    }, 'both workers to say they listen');
    for (const worker of workers) expect([worker.store, worker.bus]).toEqual(['redis', 'redis']);

    const readers = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(server.wsUrl)));
    const published = [];
    for (let i = 0; i < 6; i++) published.push(await publishOk(server, { headline: `Through Redis ${i}` }));
    for (const reader of readers) {
      const events = await reader.waitForEvents(published.length, 10_000);
      expect(events.map((e) => e.item?.id)).toEqual(published.map((p) => p.item.id));
      expect(events.map((e) => seqOf(e.cursor))).toEqual(published.map((p) => seqOf(p.cursor)));
    }
    // Writes went through both workers.
    await until(() => new Set(logLines(server, 'write').map((line) => line.worker)).size === 2, 'writes on both workers');
    await Promise.all(readers.map((reader) => reader.close()));
    expect(await server.stop()).toBe(0);
  }, 180_000);
});
