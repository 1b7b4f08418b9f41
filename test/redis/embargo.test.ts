// Several processes on one Redis each run a scheduler; an embargoed item is
// still published exactly once, and every subscriber on every process gets
// that one event.
import { beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.ts';
import type { Appended } from '../../src/store/store.ts';
import { api, newItem, type TestServer } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';
import { expectConsecutive, useCluster } from './helpers.ts';

/** This process's count of items it released (its scheduler's share). */
async function releasedBy(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('newswire_api_writes_total{action="release",outcome="appended"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('embargoes with several processes on one Redis', () => {
  const cluster = useCluster(3);
  let servers: TestServer[];
  beforeAll(() => {
    servers = cluster.servers;
  });

  it('releases each item once although every process polls for it', async () => {
    const clients = await Promise.all(servers.flatMap((s) => [TestClient.connect(s.wsUrl), TestClient.connect(s.wsUrl, { topics: ['world'] })]));
    await Promise.all(clients.map((c) => c.waitForType('welcome')));
    const before = (await api(servers[0]!, 'GET', '/api/v1/items?limit=1')).body.cursor as string;
    const embargoUntil = new Date(Date.now() + 1_500).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const body = newItem({ embargoUntil });
      // Scheduled through each process in turn: the schedule is shared, not the process's own.
      const res = await api(servers[i % servers.length]!, 'POST', '/api/v1/items', body);
      expect(res.status).toBe(202);
      ids.push(body.id);
    }
    for (const client of clients) {
      const events = await client.waitForEvents(ids.length, 6_000);
      expect(events.map((e) => e.event)).toEqual(ids.map(() => 'published'));
      expect(new Set(events.map((e) => e.item?.id))).toEqual(new Set(ids));
      expectConsecutive(events, Number(before.split('-')[1]) + 1);
    }
    // A poll later on every process: still one event per item everywhere, and one per item in the log.
    await new Promise((r) => setTimeout(r, 1_300));
    const first = clients[0]!.events.map((e) => e.cursor);
    for (const client of clients) expect(client.events.map((e) => e.cursor)).toEqual(first);
    const head = (await api(servers[1]!, 'GET', '/api/v1/items?limit=1')).body.cursor as string;
    expect(Number(head.split('-')[1])).toBe(Number(before.split('-')[1]) + ids.length);
    const released = await Promise.all(servers.map(releasedBy));
    expect(released.reduce((a, b) => a + b, 0)).toBe(ids.length);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('lets exactly one of many stores racing on the same items release each', async () => {
    const prefix = `race-${process.pid}`;
    const stores = Array.from({ length: 6 }, () => new RedisStore({
      url: cluster.redis.url,
      prefix,
      retention: { maxEvents: 1_000, maxAgeMs: 3_600_000, itemMaxAgeMs: 86_400_000 },
    }));
    try {
      await Promise.all(stores.map((s) => s.client.connect()));
      const base = Date.now();
      const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
      for (const id of ids) {
        const held = await stores[0]!.publish(
          { id, headline: id, topics: ['world'], priority: 'routine', embargoUntil: new Date(base + 3_600_000).toISOString() },
          `hash-${id}`,
        );
        expect(held.outcome).toBe('scheduled');
      }
      // Not due by the store's clock: nobody may release it early.
      expect(await Promise.all(stores.map((s) => s.release('race-0')))).toEqual(stores.map(() => null));
      const later = base + 3_601_000;
      const results = await Promise.all(stores.flatMap((s) => ids.map((id) => s.release(id, later))));
      const appended = results.filter((r): r is Appended => r !== null);
      expect(appended.map((r) => r.event.item.id).sort()).toEqual([...ids].sort());
      expect(appended.map((r) => r.event.seq).sort((a, b) => a - b)).toEqual(ids.map((_, i) => i + 1));
      expect(await stores[0]!.readAfter(0, 100)).toHaveLength(ids.length);
      expect(await stores[0]!.scheduled(100)).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
