// An item's history outlives the log's retention: once the log has dropped
// an item's events, its history still lists every version with its key, and
// its story page every update. On the embedded store and on a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, storeEnv } from '../support/backend.ts';
import { stopAllRedis } from '../support/redis.ts';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';

afterAll(async () => {
  await cleanup();
  await stopAllRedis();
});

describe.each(STORES)('history and retention (%s)', (backend) => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await storeEnv(backend, `retention${process.pid}`);
    server = await startServer({ env });
  });

  it('keeps the whole history when retention has trimmed the log (and across a restart)', async () => {
    const item = newItem({ topics: ['world'] });
    expect((await api(server, 'POST', '/api/v1/items', item)).status).toBe(201);
    for (let n = 1; n <= 3; n++) {
      expect((await api(server, 'PUT', `/api/v1/items/${item.id}`, { ...item, headline: `Take ${n}`, changeNote: `Take ${n}` })).status).toBe(200);
    }
    // More than RETENTION_EVENTS (100, the least allowed) newer events, then a restart trims the log.
    for (let batch = 0; batch < 7; batch++) await Promise.all(Array.from({ length: 15 }, () => publishOk(server)));
    const head = (await api(server, 'GET', '/api/v1/items?limit=1')).body.cursor as string;
    const epoch = head.split('-')[0];
    server = await server.restart({ ...env, RETENTION_EVENTS: '100' });

    // The item's events are gone from the log: a cursor from before them is too old to resume.
    const client = await TestClient.connect(server.wsUrl, { cursor: `${epoch}-1` });
    const reset = await client.until((c) => c.frames.find((f) => f.type === 'reset'), 5_000, 'a reset');
    expect(reset.reason).toBe('cursor-expired');
    client.ws.close();

    const history = await api(server, 'GET', `/api/v1/items/${item.id}/history`);
    expect(history.body.versions.map((v: { version: number; event: string; changeNote?: string }) => [v.version, v.event, v.changeNote])).toEqual([
      [1, 'published', undefined],
      [2, 'updated', 'Take 1'],
      [3, 'updated', 'Take 2'],
      [4, 'updated', 'Take 3'],
    ]);
    expect(history.body.versions.every((v: { by?: { name: string } }) => v.by?.name === 'token-1')).toBe(true);

    // The story page lists every update, newest first, without naming a key.
    const page = await (await fetch(`${server.url}/items/${item.id}`)).text();
    expect(page).toContain('Updated 3 times');
    expect(page.indexOf('Take 3</span>')).toBeLessThan(page.indexOf('Take 1</span>'));
    expect(page).not.toContain('token-1');
  });
});
