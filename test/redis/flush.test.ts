// The Redis data set is lost (FLUSHALL, or Redis back empty). The log starts
// again under a new epoch, every process agrees on it, and every client is
// told with a reset instead of a silent gap.
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type TestServer } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';
import { expectConsecutive, publishMany, useCluster } from './helpers.ts';

const epochOf = (cursor: string | undefined) => cursor?.split('-')[0];

describe('the Redis data set is lost', () => {
  const cluster = useCluster(2);
  let a: TestServer;
  let b: TestServer;
  let admin: Redis;
  beforeAll(() => {
    [a, b] = cluster.servers as [TestServer, TestServer];
    admin = cluster.admin;
  });

  it('FLUSHALL: every client on every process is reset to one new epoch; old cursors get a reset on connect', async () => {
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

  it('a log that went backwards (lost its newest writes) gets a new epoch, and clients a reset', async () => {
    const onA = await TestClient.connect(a.wsUrl);
    const onB = await TestClient.connect(b.wsUrl);
    await Promise.all([onA.waitForType('welcome'), onB.waitForType('welcome')]);
    const before = await publishMany(a, 5, 1);
    for (const client of [onA, onB]) expectConsecutive(await client.waitForEvents(5), before[0]?.seq);
    const oldEpoch = epochOf(onA.cursor);

    // What Redis looks like when it comes back from a save older than the last writes.
    const kept = before[2]?.seq as number;
    await admin.xdel('newswire:log', `${kept + 1}-0`, `${kept + 2}-0`);
    await admin.call('XSETID', 'newswire:log', `${kept}-0`);
    await admin.set('newswire:seq', String(kept));

    const resets = await Promise.all([onA, onB].map((c) => c.waitForType('reset', 4_000)));
    const newEpoch = epochOf(resets[0]?.cursor);
    expect(newEpoch).not.toBe(oldEpoch);
    for (const reset of resets) {
      expect(reset.reason).toBe('epoch-changed');
      expect(epochOf(reset.cursor)).toBe(newEpoch);
    }
    // Seqs after the kept ones are issued again, but under the new epoch: no cursor can confuse them.
    const after = await publishMany(b, 2, 1);
    expect(after.map((p) => p.seq)).toEqual([kept + 1, kept + 2]);
    for (const client of [onA, onB]) {
      const events = await client.waitForEvents(7);
      expect(events).toHaveLength(7);
      expectConsecutive(events.slice(5), kept + 1);
      for (const e of events.slice(5)) expect(epochOf(e.cursor)).toBe(newEpoch);
      expect(client.frames.filter((f) => f.type === 'reset')).toHaveLength(1);
    }
    await Promise.all([onA.close(), onB.close()]);
  });
});
