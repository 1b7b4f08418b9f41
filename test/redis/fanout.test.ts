// Several processes on one Redis act as one server: what one accepts, every
// other one delivers, and all of them deliver one identical order.
import { beforeAll, describe, expect, it } from 'vitest';
import { api, newItem, type TestServer } from '../support/server.ts';
import { seqOf, TestClient } from '../support/ws.ts';
import { expectConsecutive, publishMany, useCluster } from './helpers.ts';

describe('fan-out across processes through Redis', () => {
  const cluster = useCluster(2);
  let a: TestServer;
  let b: TestServer;
  beforeAll(() => {
    [a, b] = cluster.servers as [TestServer, TestServer];
  });

  it('a subscriber on B gets what is published on A, with the cursor A answered', async () => {
    const client = await TestClient.connect(b.wsUrl, { topics: ['world'] });
    await client.waitForType('welcome');
    const published = [];
    for (let i = 0; i < 3; i++) {
      const res = await api(a, 'POST', '/api/v1/items', newItem());
      expect(res.status).toBe(201);
      published.push(res.body);
    }
    const events = await client.waitForEvents(3);
    expect(events).toHaveLength(3);
    expect(events.map((e) => e.cursor)).toEqual(published.map((p) => p.cursor));
    expect(events.map((e) => e.item?.id)).toEqual(published.map((p) => p.item.id));
    expectConsecutive(events);
    await client.close();
  });

  it('publishers on two processes at once: every subscriber everywhere sees one identical gapless order', async () => {
    const clients = await Promise.all([
      TestClient.connect(a.wsUrl),
      TestClient.connect(a.wsUrl),
      TestClient.connect(b.wsUrl),
      TestClient.connect(b.wsUrl),
    ]);
    await Promise.all(clients.map((c) => c.waitForType('welcome')));
    const perPublisher = 60;
    const [fromA, fromB] = await Promise.all([publishMany(a, perPublisher, 6), publishMany(b, perPublisher, 6)]);
    const acked = [...fromA, ...fromB].sort((x, y) => x.seq - y.seq);
    expect(acked).toHaveLength(2 * perPublisher);
    // The log assigned one seq per publish, with no hole.
    expectConsecutive(acked.map((p) => ({ type: 'event', cursor: p.cursor })));

    for (const client of clients) {
      const events = await client.waitForEvents(acked.length, 10_000);
      expect(events).toHaveLength(acked.length);
      expect(expectConsecutive(events, acked[0]?.seq)).toEqual(acked.map((p) => p.seq));
      expect(events.map((e) => e.item?.id)).toEqual(acked.map((p) => p.id));
    }
    // Nothing extra arrives afterwards (no duplicate echo of a writer's own event).
    await new Promise((r) => setTimeout(r, 300));
    for (const client of clients) expect(client.events).toHaveLength(acked.length);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('an update and a retraction published on B reach A in order, and both processes serve the same state', async () => {
    const client = await TestClient.connect(a.wsUrl, { topics: ['world'] });
    await client.waitForType('welcome');
    const item = newItem();
    const created = await api(a, 'POST', '/api/v1/items', item);
    expect(created.status).toBe(201);
    const updated = await api(b, 'PUT', `/api/v1/items/${item.id}`, { ...item, headline: 'Corrected', changeNote: 'fix' });
    expect(updated.status).toBe(200);
    const retracted = await api(b, 'DELETE', `/api/v1/items/${item.id}?reason=wrong`);
    expect(retracted.status).toBe(200);
    const events = await client.waitForEvents(3);
    expect(events.map((e) => e.event)).toEqual(['published', 'updated', 'retracted']);
    expect(events.map((e) => seqOf(e.cursor))).toEqual([created, updated, retracted].map((r) => seqOf(r.body.cursor)));
    expectConsecutive(events);
    expect((await api(a, 'GET', `/api/v1/items/${item.id}`)).status).toBe(410);
    expect((await api(b, 'GET', `/api/v1/items/${item.id}`)).status).toBe(410);
    // A retry of the original publish on either process is refused the same way.
    expect((await api(b, 'POST', '/api/v1/items', item)).status).toBe(410);
    await client.close();
  });
});
