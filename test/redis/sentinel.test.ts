// Redis behind Sentinel, with REDIS_MIN_REPLICAS=1: the primary is killed
// under a stream of publishes. The sentinels promote a replica, the servers
// find it, publishes resume (a 503 in between is retried with the same id),
// and every acknowledged item is in the log and reached every subscriber
// exactly once, in order, with no reset.
import { afterAll, describe, expect, it } from 'vitest';
import {
  publishStream,
  type RedisNode,
  readLog,
  replicaInSync,
  startRedisNode,
  startSentinels,
  stopRedisNodes,
} from '../support/redis-ha.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { seqOf, TestClient } from '../support/ws.ts';

const NAME = 'newswire-ha';
const PREFIX = 'ha';

afterAll(async () => {
  await stopRedisNodes();
  await cleanup();
});

describe('Redis Sentinel', () => {
  it('a failover under a publish stream loses no acknowledged item and no reader sees a gap', { timeout: 60_000 }, async () => {
    // A primary without a replica refuses writes: a demoted one cannot take a write that its successor lacks.
    const args = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '10'];
    const primary = await startRedisNode({ args });
    // Two replicas: after the failover one is left to confirm writes (REDIS_MIN_REPLICAS=1).
    const replicas: RedisNode[] = [];
    for (let i = 0; i < 2; i++) replicas.push(await startRedisNode({ replicaOf: primary.port, args }));
    await Promise.all(replicas.map((replica) => replicaInSync(replica)));
    const sentinels = await startSentinels(NAME, primary.port, 2);

    const env = {
      REDIS_SENTINELS: sentinels.list,
      REDIS_SENTINEL_NAME: NAME,
      REDIS_KEY_PREFIX: PREFIX,
      REDIS_MIN_REPLICAS: '1',
      REDIS_WAIT_MS: '500',
    };
    const servers = await Promise.all([startServer({ env, startTimeoutMs: 60_000 }), startServer({ env, startTimeoutMs: 60_000 })]);
    const [a, b] = servers as [TestServer, TestServer];
    const clients = await Promise.all([
      TestClient.connect(a.wsUrl),
      TestClient.connect(a.wsUrl, { topics: ['world'] }),
      TestClient.connect(b.wsUrl),
      TestClient.connect(b.wsUrl, { topics: ['world'] }),
    ]);
    await Promise.all(clients.map((client) => client.waitForType('welcome')));

    // Both processes write in turn: one hands its own events to its hub, the other hears them from Redis.
    const stream = publishStream(servers);
    const { acknowledged, refusals } = stream;

    await stream.publish(15);
    expect(refusals).toEqual([]);
    const killedAt = Date.now();
    // The stream keeps going while the primary dies.
    const during = stream.publish(30);
    await primary.kill();
    await during;
    const resumedIn = Date.now() - killedAt;

    const newPrimaryPort = await sentinels.primaryPort();
    expect(newPrimaryPort).not.toBe(primary.port);
    expect(replicas.map((r) => r.port)).toContain(newPrimaryPort);
    // Some publishes fell in the window and were refused (then retried), never acknowledged early.
    expect(refusals.length).toBeGreaterThan(0);
    for (const code of refusals) expect(['store-unavailable', 'write-outcome-unknown', 'write-not-replicated']).toContain(code);

    // Every acknowledged item is in the new primary's log, once.
    const newPrimary = (replicas.find((r) => r.port === newPrimaryPort) as RedisNode).admin();
    const log = await readLog(newPrimary, PREFIX);
    const published = log.filter((e) => e.type === 'published').map((e) => e.id);
    for (const id of acknowledged) expect(published.filter((p) => p === id)).toHaveLength(1);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));

    // Every reader got the log (acknowledged items and any refused write that did land), once each, in order, in one epoch.
    const seqs = log.map((e) => e.seq);
    for (const client of clients) {
      await client.until((c) => c.events.length >= log.length && c, 10_000, `${log.length} events`);
      expect(client.frames.filter((f) => f.type === 'reset')).toEqual([]);
      expect(client.events.map((e) => seqOf(e.cursor))).toEqual(seqs);
      expect(client.events.map((e) => e.item?.id)).toEqual(log.map((e) => e.id));
      expect(new Set(client.events.map((e) => e.cursor?.split('-')[0])).size).toBe(1);
    }

    // And the servers carry on as before on the new primary: readiness, and a write acknowledged at once.
    for (const server of servers) {
      let checks = '';
      await until(async () => {
        const res = await fetch(`${server.url}/readyz`);
        checks = await res.text();
        return res.status === 200;
      }, 'readyz 200', 20_000).catch((error: Error) => {
        const log = server.output().split('\n').filter((line) => !line.includes('"msg":"write"'));
        throw new Error(`${error.message} (${checks})\n${log.join('\n').replace(/"stack":"[^"]*"/g, '').slice(-6000)}`);
      });
    }
    const after = newItem({ topics: ['world'] });
    const res = await api(a, 'POST', '/api/v1/items', after);
    expect(res.status).toBe(201);
    for (const client of clients) await client.until((c) => c.events.some((e) => e.item?.id === after.id), 5_000, 'the last item');

    // A handover with the primary alive (SENTINEL FAILOVER): it becomes a replica, and the servers move with the sentinels.
    // The sentinels may still be finishing the first one: INPROG while they reconfigure replicas, NOGOODSLAVE until
    // one has answered their INFO as a replica of the new primary. Asked again until they take it.
    const sentinel = (sentinels.nodes[0] as RedisNode).admin();
    await until(
      () =>
        sentinel.call('SENTINEL', 'FAILOVER', NAME).then(
          () => true,
          (error: Error) => {
            if (/INPROG|NOGOODSLAVE/.test(error.message)) return false;
            throw error;
          },
        ),
      'the sentinels to take a second failover',
      20_000,
      250,
    ).finally(() => sentinel.disconnect());
    await until(async () => (await sentinels.primaryPort()) !== newPrimaryPort, 'a second failover', 20_000);
    const handover = publishStream(servers);
    await handover.publish(5);
    const handedOver = handover.acknowledged;
    for (const client of clients) {
      await client.until((c) => handedOver.every((id) => c.events.some((e) => e.item?.id === id)) && c, 10_000, 'the items after the handover');
      expect(client.frames.filter((f) => f.type === 'reset')).toEqual([]);
      const seqs = client.events.map((e) => seqOf(e.cursor));
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }

    console.info(`sentinel failover: ${refusals.length} refused publishes, ${acknowledged.length} acknowledged, resumed within ${resumedIn} ms`);
    await Promise.all(clients.map((client) => client.close()));
  });
});
