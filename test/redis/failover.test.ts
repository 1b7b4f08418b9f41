// A server process dies (SIGKILL). Its clients reconnect, through the load
// balancer, to another process with their cursor and get exactly what they
// missed: from that process's memory, or from the Redis log if it is new.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestRedis } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { seqOf, TestClient } from '../support/ws.ts';
import { expectConsecutive, publishMany, useCluster } from './helpers.ts';

describe('a server process is killed', () => {
  const cluster = useCluster(2);
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  beforeAll(() => {
    redis = cluster.redis;
    [a, b] = cluster.servers as [TestServer, TestServer];
  });

  it('its clients resume on the other processes with exactly the missed events', async () => {
    const first = await TestClient.connect(a.wsUrl);
    const second = await TestClient.connect(a.wsUrl, { topics: ['world'] });
    await Promise.all([first.waitForType('welcome'), second.waitForType('welcome')]);
    const seen = await publishMany(b, 5, 2);
    await first.waitForEvents(5);
    await second.waitForEvents(5);
    const firstCursor = first.cursor;
    const secondCursor = second.cursor;
    expect(seqOf(firstCursor)).toBe(seen.at(-1)?.seq);

    await a.kill();
    await Promise.all([first.closed, second.closed]);
    expect(first.closeCode).toBe(1006);

    const missed = await publishMany(b, 7, 2);
    // A process started after the kill knows none of it: it must read the Redis log.
    const c = await startServer({ env: { REDIS_URL: redis.url } });

    const onB = await TestClient.connect(b.wsUrl, { cursor: firstCursor });
    const onC = await TestClient.connect(c.wsUrl, { topics: ['world'], cursor: secondCursor });
    for (const client of [onB, onC]) {
      const welcome = await client.waitForType('welcome');
      expect(welcome.resumed).toBe(true);
      const events = await client.waitForEvents(missed.length);
      expect(events).toHaveLength(missed.length);
      expect(expectConsecutive(events, missed[0]?.seq)).toEqual(missed.map((p) => p.seq));
      expect(events.map((e) => e.item?.id)).toEqual(missed.map((p) => p.id));
    }

    // And then live, with no duplicate and no hole.
    const live = await publishMany(b, 3, 1);
    for (const client of [onB, onC]) {
      const events = await client.waitForEvents(missed.length + live.length);
      expect(events).toHaveLength(missed.length + live.length);
      expectConsecutive(events, missed[0]?.seq);
      expect(client.frames.filter((f) => f.type === 'reset')).toHaveLength(0);
    }
    await Promise.all([onB.close(), onC.close()]);
  });
});
