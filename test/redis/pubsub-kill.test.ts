// Redis pub/sub is at-most-once. When the subscriber connection is killed
// while events are published, each process notices, subscribes again and
// reads what it missed from the log: nothing is lost, nothing reordered.
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, newItem, type TestServer } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';
import { expectConsecutive, metric, publishMany, useCluster, waitFor } from './helpers.ts';

describe('subscriber connection killed while events are published', () => {
  const cluster = useCluster(2);
  let a: TestServer;
  let b: TestServer;
  let admin: Redis;
  beforeAll(() => {
    [a, b] = cluster.servers as [TestServer, TestServer];
    admin = cluster.admin;
  });

  it('fills the gap from the log within 2 s after each CLIENT KILL TYPE pubsub', async () => {
    const onA = await TestClient.connect(a.wsUrl);
    const onB = await TestClient.connect(b.wsUrl);
    await Promise.all([onA.waitForType('welcome'), onB.waitForType('welcome')]);

    let kills = 0;
    let killing = true;
    const killer = (async () => {
      while (killing) {
        kills += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        await new Promise((r) => setTimeout(r, 60));
      }
    })();
    // Both processes publish while their subscriber connections keep dying.
    const [fromA, fromB] = await Promise.all([publishMany(a, 60, 3), publishMany(b, 60, 3)]);
    const lastAck = Date.now();
    killing = false;
    await killer;
    expect(kills).toBeGreaterThan(0);

    const acked = [...fromA, ...fromB].sort((x, y) => x.seq - y.seq);
    for (const client of [onA, onB]) {
      const events = await client.waitForEvents(acked.length, 2_000);
      expect(events).toHaveLength(acked.length);
      expect(expectConsecutive(events, acked[0]?.seq)).toEqual(acked.map((p) => p.seq));
      expect(events.map((e) => e.item?.id)).toEqual(acked.map((p) => p.id));
    }
    expect(Date.now() - lastAck).toBeLessThan(2_000);
    expect(await metric(b, 'newswire_bus_resubscribes_total')).toBeGreaterThan(0);
    // The log really was read: pub/sub alone lost events here.
    expect(await metric(b, 'newswire_bus_backfilled_events_total')).toBeGreaterThan(0);
    await Promise.all([onA.close(), onB.close()]);
  });

  it('an event published while B has no subscription reaches B from the log', async () => {
    const onB = await TestClient.connect(b.wsUrl);
    await onB.waitForType('welcome');
    const before = await metric(b, 'newswire_bus_resubscribes_total');
    expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThanOrEqual(2);
    const res = await api(a, 'POST', '/api/v1/items', newItem());
    expect(res.status).toBe(201);
    const [event] = await onB.waitForEvents(1, 2_000);
    expect(onB.events).toHaveLength(1);
    expect(event?.cursor).toBe(res.body.cursor);
    await waitFor(async () => (await metric(b, 'newswire_bus_resubscribes_total')) > before, 2_000, 'B to subscribe again');
    await onB.close();
  });
});
