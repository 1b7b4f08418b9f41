// The Redis data set is lost (FLUSHALL, or Redis back empty). The log starts
// again under a new epoch, every process agrees on it, and every client is
// told with a reset instead of a silent gap.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAllRedis } from '../support/redis.ts';
import { api, cleanup, type TestServer } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';
import { adminClient, expectConsecutive, publishMany, startCluster } from './helpers.ts';

const epochOf = (cursor: string | undefined) => cursor?.split('-')[0];

describe('FLUSHALL', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: Redis;
  beforeAll(async () => {
    const cluster = await startCluster(2);
    [a, b] = cluster.servers as [TestServer, TestServer];
    admin = adminClient(cluster.redis);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stopAllRedis();
    await cleanup();
  });

  it('resets every client on every process to one new epoch; old cursors get a reset on connect', async () => {
    const onA = await TestClient.connect(a.wsUrl);
    const onB = await TestClient.connect(b.wsUrl, { topics: ['world'] });
    await Promise.all([onA.waitForType('welcome'), onB.waitForType('welcome')]);
    const before = await publishMany(a, 4, 2);
    for (const client of [onA, onB]) expectConsecutive(await client.waitForEvents(4), before[0]?.seq);
    const oldCursor = onA.cursor;
    const oldEpoch = epochOf(oldCursor);

    expect(await admin.flushall()).toBe('OK');

    const resets = await Promise.all([onA, onB].map((c) => c.waitForType('reset', 4_000)));
    for (const reset of resets) {
      expect(reset.reason).toBe('epoch-changed');
      expect(reset.items).toEqual([]);
    }
    const newEpoch = epochOf(resets[0]?.cursor);
    expect(newEpoch).not.toBe(oldEpoch);
    expect(epochOf(resets[1]?.cursor)).toBe(newEpoch);
    expect(onA.frames.filter((f) => f.type === 'reset')).toHaveLength(1);
    expect(onB.frames.filter((f) => f.type === 'reset')).toHaveLength(1);

    // A client still holding a cursor of the old log is told so on connect, on either process.
    for (const server of [a, b]) {
      const late = await TestClient.connect(server.wsUrl, { cursor: oldCursor });
      const reset = await late.waitForType('reset');
      expect(reset.reason).toBe('epoch-changed');
      expect(epochOf(reset.cursor)).toBe(newEpoch);
      expect(late.events).toHaveLength(0);
      await late.close();
    }

    // The old items went with the data set; the new log starts at 1.
    expect((await api(b, 'GET', `/api/v1/items/${before[0]?.id}`)).status).toBe(404);
    const after = await publishMany(b, 3, 1);
    expect(after.map((p) => p.seq)).toEqual([1, 2, 3]);
    for (const p of after) expect(epochOf(p.cursor)).toBe(newEpoch);
    for (const client of [onA, onB]) {
      const events = await client.waitForEvents(before.length + after.length);
      expect(events).toHaveLength(before.length + after.length);
      expectConsecutive(events.slice(before.length), 1);
      for (const e of events.slice(before.length)) expect(epochOf(e.cursor)).toBe(newEpoch);
    }
    await Promise.all([onA.close(), onB.close()]);
  });
});
