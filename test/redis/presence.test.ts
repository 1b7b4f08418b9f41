// Readers connected to several processes on one Redis are counted together;
// a process that stops takes its readers out of the sum at once, and one that
// dies leaves it when its report expires.
import { describe, expect, it } from 'vitest';
import { api, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { TestClient } from '../support/ws.ts';
import { useCluster } from './helpers.ts';

const cluster = useCluster(3);

async function counts(server: TestServer) {
  const res = await api(server, 'GET', '/api/v1/readers');
  expect(res.status).toBe(200);
  return res.body;
}

describe('reader counts across processes', () => {
  it('each process reports its readers; the route of any answers the sum', async () => {
    const [a, b, c] = cluster.servers as [TestServer, TestServer, TestServer];
    const clients = await Promise.all([
      TestClient.connect(a.wsUrl, { topics: ['sport'] }),
      TestClient.connect(a.wsUrl, { topics: ['sport', 'world'] }),
      TestClient.connect(b.wsUrl, { topics: ['sport'] }),
      TestClient.connect(b.wsUrl),
      TestClient.connect(c.wsUrl, { topics: ['politics'] }),
    ]);
    for (const server of [a, b, c]) {
      const sum = await until(async () => {
        const body = await counts(server);
        return body.total === 5 && body.processes === 3 ? body : null;
      }, 'every process counted');
      expect(sum.topics).toEqual({ sport: 3, politics: 1, world: 1 });
      expect(sum.everyTopic).toBe(1);
    }
    // Under the configured prefix: one set, one hash per process with an expiry of a few seconds.
    const keys = await cluster.admin.keys('newswire:readers*');
    expect(keys.sort()).toHaveLength(4);
    expect(await cluster.admin.smembers('newswire:readers')).toHaveLength(3);
    for (const key of keys.filter((name) => name !== 'newswire:readers')) {
      const ttl = await cluster.admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5_000);
    }

    // b stops: its readers leave the sum at once (its report is deleted on the way out).
    await b.stop();
    expect(await counts(a)).toMatchObject({ topics: { sport: 2, world: 1, politics: 1 }, everyTopic: 0, total: 3, processes: 2 });

    // c dies without a goodbye: its report expires within seconds, and the set forgets it.
    await c.kill();
    const killedAt = Date.now();
    const after = await until(async () => {
      const body = await counts(a);
      return body.processes === 1 ? body : null;
    }, 'the killed process out of the sum', 10_000);
    expect(Date.now() - killedAt).toBeLessThan(7_000);
    expect(after).toMatchObject({ topics: { sport: 2, world: 1 }, everyTopic: 0, total: 2 });
    expect(await cluster.admin.smembers('newswire:readers')).toHaveLength(1);
    for (const client of clients) client.ws.close();
  });
});
