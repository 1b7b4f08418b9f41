// What the newsroom console reads beside its list: the kill list and the
// readers connected per topic, both behind a publisher token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, publishOk, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { TestClient } from '../support/ws.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(cleanup);

describe('kill list: GET /api/v1/items?status=retracted', () => {
  it('lists withdrawn items with reason and time, the latest kill first, and nothing else', async () => {
    const first = await publishOk(server, { topics: ['desk-a'] });
    const second = await publishOk(server, { topics: ['desk-b'] });
    const live = await publishOk(server, { topics: ['desk-a'] });
    expect((await api(server, 'DELETE', `/api/v1/items/${first.item.id}`, { reason: 'Legal: name withheld' })).status).toBe(200);
    expect((await api(server, 'DELETE', `/api/v1/items/${second.item.id}`, { reason: 'Duplicate of an earlier alert' })).status).toBe(200);

    const res = await api(server, 'GET', '/api/v1/items?status=retracted&limit=10');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    const ids = res.body.items.map((item: { id: string }) => item.id);
    expect(ids.slice(0, 2)).toEqual([second.item.id, first.item.id]);
    expect(ids).not.toContain(live.item.id);
    expect(res.body.items[0]).toMatchObject({ status: 'retracted', reason: 'Duplicate of an earlier alert', topics: ['desk-b'] });
    // Who killed it: the key of the kill's entry in the item's history.
    const history = await api(server, 'GET', `/api/v1/items/${second.item.id}/history`);
    const kill = history.body.versions.at(-1);
    expect(kill.event).toBe('retracted');
    expect(kill.by.name).toEqual(expect.any(String));
    expect(res.body.items[0].killedBy).toEqual(kill.by);
    expect(res.body.items[0].requestId).toBe(kill.requestId);
    expect(Date.parse(res.body.items[0].updatedAt)).toBeGreaterThan(Date.now() - 60_000);
    // A kill carries no content: the headline is gone with the story.
    expect(res.body.items[0].headline).toBeUndefined();
    expect(Date.parse(res.body.since)).toBeLessThan(Date.now() - 47 * 3_600_000);
  });

  it('takes a token, and refuses a topic or a window past its bound field by field', async () => {
    expect((await api(server, 'GET', '/api/v1/items?status=retracted', undefined, { token: null })).status).toBe(401);
    expect((await api(server, 'GET', '/api/v1/items?status=retracted', undefined, { token: 'wrong-token-0123456789abc' })).status).toBe(403);
    const bad = await api(server, 'GET', '/api/v1/items?status=retracted&topic=world&hours=1000');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((field: { path: string }) => field.path).sort()).toEqual(['hours', 'topic']);
    // The public list is unchanged and needs no token.
    expect((await api(server, 'GET', '/api/v1/items', undefined, { token: null })).status).toBe(200);
  });
});

describe('readers: GET /api/v1/readers', () => {
  it('counts live connections per topic, every topic, and in total', async () => {
    const before = (await api(server, 'GET', '/api/v1/readers')).body;
    const clients = await Promise.all([
      TestClient.connect(server.wsUrl, { topics: ['readers-sport'] }),
      TestClient.connect(server.wsUrl, { topics: ['readers-sport', 'readers-world'] }),
      TestClient.connect(server.wsUrl),
    ]);
    try {
      const counts = await until(async () => {
        const body = (await api(server, 'GET', '/api/v1/readers')).body;
        return body.total === before.total + 3 ? body : null;
      }, 'three more readers counted');
      expect(counts.topics['readers-sport']).toBe(2);
      expect(counts.topics['readers-world']).toBe(1);
      expect(counts.everyTopic).toBe(before.everyTopic + 1);
      expect(counts.processes).toBe(1);
    } finally {
      for (const client of clients) client.ws.close();
    }
    const after = await until(async () => {
      const body = (await api(server, 'GET', '/api/v1/readers')).body;
      return body.total === before.total ? body : null;
    }, 'the readers gone from the count');
    expect(after.topics['readers-sport']).toBeUndefined();
  });

  it('takes a token', async () => {
    const res = await api(server, 'GET', '/api/v1/readers', undefined, { token: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});
