// REDIS_MIN_REPLICAS on a single Redis (REDIS_URL): without a replica to
// confirm it, a write is answered 503 write-not-replicated, though it is on
// the primary; once a replica is in sync, the retry with the same id is
// acknowledged, and new writes are too.
import { afterAll, describe, expect, it } from 'vitest';
import { replicaInSync, startRedisNode, stopRedisNodes } from '../support/redis-ha.ts';
import { api, cleanup, newItem, startServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(async () => {
  await stopRedisNodes();
  await cleanup();
});

describe('REDIS_MIN_REPLICAS', () => {
  it('answers 503 write-not-replicated until a replica confirms, and the retry is safe', { timeout: 45_000 }, async () => {
    const primary = await startRedisNode();
    const server = await startServer({
      env: { REDIS_URL: `redis://127.0.0.1:${primary.port}`, REDIS_KEY_PREFIX: 'rep', REDIS_MIN_REPLICAS: '1', REDIS_WAIT_MS: '200' },
      startTimeoutMs: 60_000,
    });
    expect(server.output()).toContain('fewer replicas than required');

    const item = newItem();
    const refused = await api(server, 'POST', '/api/v1/items', item);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('write-not-replicated');
    expect(refused.body.error.message).toMatch(/may still surface.*retry with the same id is safe/);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    // The outcome was unknown, not "nothing saved": the primary has it.
    expect((await api(server, 'GET', `/api/v1/items/${item.id}`)).status).toBe(200);
    // So do corrections and retractions: each waits for the replica too.
    const correction = { ...item, headline: 'Corrected' };
    expect((await api(server, 'PUT', `/api/v1/items/${item.id}`, correction)).body.error?.code).toBe('write-not-replicated');

    const replica = await startRedisNode({ replicaOf: primary.port });
    await replicaInSync(replica);
    // The retry of the last write finds it applied, and confirmed once the primary counts the replica.
    const retried = await until(async () => {
      const res = await api(server, 'PUT', `/api/v1/items/${item.id}`, correction);
      if (res.status !== 200) expect(res.body.error?.code).toBe('write-not-replicated');
      return res.status === 200 && res;
    }, 'the retry to be acknowledged', 10_000);
    expect(retried.body.unchanged).toBe(true);
    expect(retried.body.item.headline).toBe('Corrected');
    expect((await api(server, 'POST', '/api/v1/items', newItem())).status).toBe(201);
    const retracted = await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'test' });
    expect(retracted.status).toBe(200);

    // What was acknowledged is on the replica.
    const onReplica = replica.admin();
    expect(await onReplica.hget(`rep:item:${item.id}`, 'status')).toBe('retracted');
  });
});
