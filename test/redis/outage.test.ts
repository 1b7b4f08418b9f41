// Redis goes away (SIGKILL: no shutdown, no final fsync) and comes back from
// its append-only file. Meanwhile writes are refused with 503 + Retry-After,
// never acknowledged; readers keep their connections and cached feeds; after
// it returns every acknowledged item is there and delivery resumes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestRedis } from '../support/redis.ts';
import { api, newItem, type TestServer } from '../support/server.ts';
import { seqOf, TestClient } from '../support/ws.ts';
import { adminClient, crashRedis, expectConsecutive, publishMany, readyz, useCluster, waitFor } from './helpers.ts';

describe('redis-server crashes and restarts', () => {
  const cluster = useCluster(2);
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  beforeAll(() => {
    redis = cluster.redis;
    [a, b] = cluster.servers as [TestServer, TestServer];
  });

  it('refuses writes with 503, keeps sockets and feeds, then resumes with nothing acknowledged lost', async () => {
    const onA = await TestClient.connect(a.wsUrl);
    const onB = await TestClient.connect(b.wsUrl, { topics: ['world'] });
    await Promise.all([onA.waitForType('welcome'), onB.waitForType('welcome')]);

    const acked = await publishMany(a, 10, 2);
    await onB.waitForEvents(10);
    const feedBefore = await fetch(`${b.url}/feeds/all.json`);
    expect(feedBefore.status).toBe(200);
    const feedBody = await feedBefore.text();
    for (const { id } of acked) expect(feedBody).toContain(id);

    await crashRedis(redis);

    // Writes: refused at once, with a hint when to retry, on every write path.
    const refused = newItem();
    const started = Date.now();
    const post = await api(a, 'POST', '/api/v1/items', refused);
    expect(post.status).toBe(503);
    expect(post.headers.get('retry-after')).toBe('2');
    expect(Date.now() - started).toBeLessThan(2_500);
    const put = await api(b, 'PUT', `/api/v1/items/${acked[0]?.id}`, { ...newItem(), id: acked[0]?.id });
    expect(put.status).toBe(503);
    expect(put.headers.get('retry-after')).toBe('2');
    const del = await api(b, 'DELETE', `/api/v1/items/${acked[1]?.id}?reason=test`);
    expect(del.status).toBe(503);

    // Readiness drops on both processes; feeds come from the last render.
    await waitFor(async () => (await readyz(a)) === 503 && (await readyz(b)) === 503, 5_000, '/readyz 503');
    // Said in an operator's words, not the client library's.
    const why = (await (await fetch(`${a.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(why.checks.store).toMatch(/^Redis store unavailable: .*(down|refuses connections|does not answer).*; writes answer 503 until it is back$/);
    expect(JSON.stringify(why)).not.toMatch(/enableOfflineQueue|Stream isn't writeable/);
    const feedDuring = await fetch(`${b.url}/feeds/all.json`);
    expect(feedDuring.status).toBe(200);
    expect(await feedDuring.text()).toBe(feedBody);

    await redis.start();
    await waitFor(async () => (await readyz(a)) === 200 && (await readyz(b)) === 200, 10_000, '/readyz 200');

    // Sockets opened before the crash are still the same open sockets.
    expect(onA.closeCode).toBeUndefined();
    expect(onB.closeCode).toBeUndefined();

    // Every acknowledged item survived; the refused one was never written.
    for (const { id } of acked) expect((await api(b, 'GET', `/api/v1/items/${id}`)).status).toBe(200);
    expect((await api(a, 'GET', `/api/v1/items/${refused.id}`)).status).toBe(404);

    // Delivery resumes on both processes, right after the last acknowledged seq.
    const after = await publishMany(b, 5, 1);
    expect(after[0]?.seq).toBe((acked.at(-1)?.seq ?? 0) + 1);
    const all = [...acked, ...after];
    for (const client of [onA, onB]) {
      const events = await client.waitForEvents(all.length, 5_000);
      expect(events).toHaveLength(all.length);
      expect(expectConsecutive(events, acked[0]?.seq)).toEqual(all.map((p) => p.seq));
      expect(client.frames.filter((f) => f.type === 'reset')).toHaveLength(0);
    }
    await Promise.all([onA.close(), onB.close()]);
  });

  it('a frozen Redis (SIGSTOP): writes get 503 (outcome unknown) within the timeout and are not applied later; readiness drops and comes back', async () => {
    const client = await TestClient.connect(b.wsUrl);
    await client.waitForType('welcome');
    const admin = adminClient(redis);
    const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
    admin.disconnect();

    const refused = newItem();
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const post = await api(a, 'POST', '/api/v1/items', refused);
      expect(post.status).toBe(503);
      // Redis holds the write and has not answered: from here it could have run, so the 503 does not say "nothing saved".
      expect(post.body.error.code).toBe('write-outcome-unknown');
      expect(post.body.error.id).toBe(refused.id);
      expect(post.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(3_000);
      // The subscriber's PING goes unanswered: fan-out is not live, so neither is the process.
      await waitFor(async () => (await readyz(b)) === 503, 5_000, '/readyz 503 while Redis is frozen');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await readyz(a)) === 200 && (await readyz(b)) === 200, 10_000, '/readyz 200');
    // The write Redis received while frozen ran after its deadline, so it did nothing; the retry the 503 asked for publishes it once.
    expect((await api(b, 'GET', `/api/v1/items/${refused.id}`)).status).toBe(404);
    const retried = await api(a, 'POST', '/api/v1/items', refused);
    expect(retried.status).toBe(201);
    const after = await publishMany(a, 3, 1);
    const events = await client.waitForEvents(4);
    expect(events).toHaveLength(4);
    expect(events[0]?.item?.id).toBe(refused.id);
    expect(expectConsecutive(events)).toEqual([seqOf(retried.body.cursor), ...after.map((p) => p.seq)]);
    expect(client.closeCode).toBeUndefined();
    await client.close();
  });
});
