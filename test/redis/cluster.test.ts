// Redis Cluster (REDIS_CLUSTER_NODES): three primaries with two replicas
// each (so one is left to confirm writes after a failover), made by the
// test. One deployment's keys share one hash tag, so they live in one slot
// on one primary; events go over sharded pub/sub. Publish, receive and
// resume work through it, and when the primary of that slot is killed a
// replica takes over with every acknowledged item (REDIS_MIN_REPLICAS=1)
// and readers see no gap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../src/store/redis-target.ts';
import { metric } from '../support/metrics.ts';
import { publishAcknowledged, publishStream, readLog, startRedisCluster, stopRedisNodes, type TestCluster } from '../support/redis-ha.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { seqOf, TestClient } from '../support/ws.ts';

const PREFIX = 'cl';
const TAGGED = `{${PREFIX}}`;

describe('Redis Cluster', () => {
  let cluster: TestCluster;
  let servers: TestServer[];
  const env = () => ({ REDIS_CLUSTER_NODES: cluster.list, REDIS_KEY_PREFIX: PREFIX, REDIS_MIN_REPLICAS: '1' });

  beforeAll(async () => {
    cluster = await startRedisCluster(3, 2);
    servers = await Promise.all([startServer({ env: env(), startTimeoutMs: 60_000 }), startServer({ env: env(), startTimeoutMs: 60_000 })]);
  });
  afterAll(async () => {
    await stopRedisNodes();
    await cleanup();
  });

  it('keeps one deployment in one slot, fans out over sharded pub/sub and resumes', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const clients = await Promise.all([TestClient.connect(a.wsUrl), TestClient.connect(b.wsUrl, { topics: ['world'] })]);
    await Promise.all(clients.map((client) => client.waitForType('welcome')));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await api(servers[i % 2] as TestServer, 'POST', '/api/v1/items', newItem({ topics: ['world'] }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.item.id);
    }
    for (const client of clients) {
      const events = await client.waitForEvents(10);
      expect(events.map((e) => e.item?.id)).toEqual(ids);
      const seqs = events.map((e) => seqOf(e.cursor));
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    }

    // Every key is on the primary that owns the tag's slot, and on no other primary.
    const owner = await cluster.ownerOf(slotOf(TAGGED));
    for (const node of cluster.nodes) {
      const admin = node.admin();
      const role = await admin.call('ROLE');
      if ((role as string[])[0] !== 'master') continue;
      const keys = (await admin.call('KEYS', '*')) as string[];
      if (node === owner) {
        expect(keys).toContain(`${TAGGED}:log`);
        expect(keys.every((key) => key.startsWith(`${TAGGED}:`))).toBe(true);
      } else {
        expect(keys).toEqual([]);
      }
    }

    // A reader that comes back with a cursor gets exactly what it missed.
    const fifth = clients[0]?.events[4]?.cursor as string;
    const resumed = await TestClient.connect(b.wsUrl, { cursor: fifth });
    const welcome = await resumed.waitForType('welcome');
    expect(welcome.resumed).toBe(true);
    const missed = await resumed.waitForEvents(5);
    expect(missed.map((e) => e.item?.id)).toEqual(ids.slice(5));
    await Promise.all([...clients, resumed].map((client) => client.close()));
  });

  it('survives a failover of the slot primary with every acknowledged item', { timeout: 60_000 }, async () => {
    const clients = await Promise.all(servers.map((server) => TestClient.connect(server.wsUrl)));
    await Promise.all(clients.map((client) => client.waitForType('welcome')));
    const stream = publishStream(servers);
    const { acknowledged, refusals } = stream;
    await stream.publish(10);
    const owner = await cluster.ownerOf(slotOf(TAGGED));
    const during = stream.publish(20);
    await owner.kill();
    await during;

    const promoted = await until(async () => {
      const now = await cluster.ownerOf(slotOf(TAGGED)).catch(() => null);
      return now && now !== owner && now;
    }, 'a replica to own the slot', 10_000);
    expect(refusals.length).toBeGreaterThan(0);
    for (const code of refusals) expect(['store-unavailable', 'write-outcome-unknown', 'write-not-replicated']).toContain(code);

    const log = await readLog(promoted.admin(), TAGGED);
    const published = log.filter((e) => e.type === 'published').map((e) => e.id);
    for (const id of acknowledged) expect(published.filter((p) => p === id)).toHaveLength(1);
    const first = log.findIndex((e) => e.id === acknowledged[0]);
    const expected = log.slice(first);
    for (const client of clients) {
      await client.until((c) => c.events.length >= expected.length && c, 15_000, `${expected.length} events`);
      expect(client.frames.filter((f) => f.type === 'reset')).toEqual([]);
      expect(client.events.map((e) => seqOf(e.cursor))).toEqual(expected.map((e) => e.seq));
      expect(client.events.map((e) => e.item?.id)).toEqual(expected.map((e) => e.id));
    }
    console.info(`cluster failover: ${refusals.length} refused publishes, ${acknowledged.length} acknowledged`);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('subscribes again on the new owner when the primary of the slot hands over alive', { timeout: 30_000 }, async () => {
    const owner = await cluster.ownerOf(slotOf(TAGGED));
    // One connection per node for the whole wait, not one per poll.
    const admins = new Map(cluster.nodes.filter((node) => node !== owner).map((node) => [node, node.admin()]));
    const replica = await until(async () => {
      for (const [node, admin] of admins) {
        const role = (await admin.call('ROLE').catch(() => null)) as [string, string, number, string] | null;
        if (role?.[0] === 'slave' && Number(role[2]) === owner.port && role[3] === 'connected') return node;
      }
      return null;
    }, 'a replica of the slot owner', 10_000).finally(() => {
      for (const admin of admins.values()) admin.disconnect();
    });
    const resubscribes = 'newswire_bus_resubscribes_total';
    const before = await Promise.all(servers.map((server) => metric(server, resubscribes)));
    const clients = await Promise.all(servers.map((server) => TestClient.connect(server.wsUrl)));
    await Promise.all(clients.map((client) => client.waitForType('welcome')));

    await replica.admin().call('CLUSTER', 'FAILOVER');
    await until(async () => (await cluster.ownerOf(slotOf(TAGGED))) === replica, 'the replica to own the slot', 10_000);
    // The old primary, now a replica, unsubscribed every process; each subscribed again on the new owner.
    for (const [i, server] of servers.entries()) {
      await until(async () => (await metric(server, resubscribes)) > (before[i] as number), 'a new subscription', 10_000);
    }
    const item = newItem({ topics: ['world'] });
    await publishAcknowledged(servers[0] as TestServer, item, []);
    for (const client of clients) {
      const [event] = await client.waitForEvents(1);
      expect(event?.item?.id).toBe(item.id);
    }
    await Promise.all(clients.map((client) => client.close()));
  });
});
