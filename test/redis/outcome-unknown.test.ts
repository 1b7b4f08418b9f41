// A write whose answer is lost: the Lua script ran on Redis, then the
// connection dropped before its reply arrived. The server cannot know
// whether the item was saved, and must say so (503 write-outcome-unknown),
// not "nothing was saved"; a retry with the same Idempotency-Key, or with
// the id the 503 names, finds the item there, and readers get it once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, run, stopAll } from '../cli/run.ts';
import { TcpProxy } from '../client/proxy.ts';
import { startRedis, stopAllRedis, type TestRedis } from '../support/redis.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { seqOf, TestClient } from '../support/ws.ts';
import { metric } from './helpers.ts';

describe('a write whose answer from Redis is lost', () => {
  let redis: TestRedis;
  let proxy: TcpProxy;
  let server: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    proxy = await TcpProxy.start(redis.port);
    server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` } });
  });
  afterAll(async () => {
    // A command still sending again must not outlive the run.
    await stopAll();
    await cleanup();
    await proxy.close();
    await stopAllRedis();
  });

  /**
   * Publishes until one is answered, as a client following Retry-After does:
   * the store's connection comes back within half a second, and the key is
   * let go as soon as it has.
   */
  async function retryUntilAnswered(body: Record<string, unknown>, headers: Record<string, string>) {
    const again = (res: { status: number; body: any }) => res.status === 503 || res.body?.error?.code === 'idempotency-key-in-use';
    let res = await api(server, 'POST', '/api/v1/items', body, { headers });
    await until(async () => {
      if (!again(res)) return true;
      res = await api(server, 'POST', '/api/v1/items', body, { headers });
      return !again(res);
    }, 'a publish that is answered', 10_000);
    return res;
  }

  it('answers 503 write-outcome-unknown; the retry with the same Idempotency-Key finds the item saved, and readers have it once', async () => {
    const reader = await TestClient.connect(server.wsUrl, { topics: ['world'] });
    await reader.waitForType('welcome');
    const marker = `Lost answer ${Date.now()}`;
    const body = { headline: marker, topics: ['world'], priority: 'flash' };
    const headers = { 'idempotency-key': `desk-${Date.now()}` };

    proxy.loseAnswerTo(marker);
    const first = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(proxy.lost).toBe(1);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.body.error.code).toBe('write-outcome-unknown');
    expect(first.body.error.message).toMatch(/may have been saved/);
    const id: string = first.body.error.id;
    expect(id).toMatch(/^k-[0-9a-f]{32}$/);

    // It was in fact saved, and delivered.
    const delivered = await reader.waitForEvents(1, 5_000);
    expect(delivered.map((e) => e.item?.id)).toEqual([id]);
    expect(delivered[0]?.item?.headline).toBe(marker);

    const retry = await retryUntilAnswered(body, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.unchanged).toBe(true);
    expect(retry.body.item.id).toBe(id);
    // From now on the key answers with that outcome.
    const again = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(retry.body);

    // One item, one event: the next publish takes the very next seq.
    const next = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'] }));
    expect(next.status).toBe(201);
    const events = await reader.waitForEvents(2, 5_000);
    expect(events.map((e) => e.item?.id)).toEqual([id, next.body.item.id]);
    expect(seqOf(events[1]?.cursor)).toBe(seqOf(events[0]?.cursor) + 1);
    expect(await metric(server, 'newswire_api_writes_total{action="publish",outcome="unknown"}')).toBe(1);
    await reader.close();
  });

  it('without a key, the 503 names the id to retry with; a retry with it is acknowledged as the same item', async () => {
    const marker = `Lost answer, no key ${Date.now()}`;
    const body = { headline: marker, topics: ['world'] };
    proxy.loseAnswerTo(marker);
    const first = await api(server, 'POST', '/api/v1/items', body);
    expect(first.status).toBe(503);
    expect(first.body.error.code).toBe('write-outcome-unknown');
    const id: string = first.body.error.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const retry = await retryUntilAnswered({ ...body, id }, {});
    expect(retry.status).toBe(200);
    expect(retry.body.unchanged).toBe(true);
    expect(retry.body.item.headline).toBe(marker);
  });

  it('the newswire command sends a publish again under its key after a lost answer, and reports it published once', async () => {
    const reader = await TestClient.connect(server.wsUrl, { topics: ['world'] });
    await reader.waitForType('welcome');
    const marker = `Lost answer, from the command line ${Date.now()}`;
    proxy.loseAnswerTo(marker);
    const done = await run(['publish', '--headline', marker, '--topics', 'world', '--priority', 'flash'], cliEnv(server));
    expect(done.stderr).toMatch(/503 write-outcome-unknown/);
    expect(done.stderr).toMatch(/sending it again under Idempotency-Key [0-9a-f-]{36}/);
    expect(done.code).toBe(0);
    const id = /^published: (k-[0-9a-f]{32}) v1 /.exec(done.stdout)?.[1];
    expect(id, done.stdout).toBeDefined();
    const events = await reader.waitForEvents(1, 5_000);
    expect(events.map((e) => e.item?.id)).toEqual([id]);
    // Nothing else arrives for it: a publish that follows is the very next event.
    const next = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'] }));
    const both = await reader.waitForEvents(2, 5_000);
    expect(both.map((e) => e.item?.id)).toEqual([id, next.body.item.id]);
    await reader.close();
  });

  it('the newswire command sends a correction and a kill again after lost answers, and each is made once', async () => {
    const item = newItem({ topics: ['world'] });
    expect((await api(server, 'POST', '/api/v1/items', item)).status).toBe(201);
    const env = cliEnv(server);

    const note = `Lost answer to a correction ${Date.now()}`;
    proxy.loseAnswerTo(note);
    const corrected = await run(['correct', item.id, '--headline', 'Corrected headline', '--note', note], env);
    expect(corrected.stderr).toMatch(/503 write-outcome-unknown[\s\S]*sending the correction again/);
    expect(corrected.code).toBe(0);
    expect(corrected.stdout).toMatch(new RegExp(`^corrected: ${item.id} v2`));

    const reason = `Lost answer to a kill ${Date.now()}`;
    proxy.loseAnswerTo(reason);
    const killed = await run(['kill', item.id, '--reason', reason], env);
    expect(killed.stderr).toMatch(/503 write-outcome-unknown[\s\S]*sending the kill again/);
    expect(killed.code).toBe(0);
    expect(killed.stdout).toMatch(new RegExp(`^withdrawn: ${item.id}`));

    // One correction and one kill in the item's history, whatever was sent twice.
    const history = await api(server, 'GET', `/api/v1/items/${item.id}/history`);
    expect(history.body.versions.map((v: { event: string }) => v.event)).toEqual(['published', 'updated', 'retracted']);
  });

  it('a write that could not be sent at all still says nothing was saved', async () => {
    proxy.cut();
    try {
      // The connection is gone and refused: the command is never sent.
      await until(async () => (await api(server, 'GET', '/readyz', undefined, { token: null })).status === 503, 'readyz to say the store is gone', 10_000);
      const res = await api(server, 'POST', '/api/v1/items', newItem());
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('store-unavailable');
      expect(res.body.error.message).toMatch(/nothing was saved/);
      // Under a key too: the key cannot even be taken, and nothing is saved.
      const keyed = await api(server, 'POST', '/api/v1/items', newItem(), { headers: { 'idempotency-key': `unsent-${Date.now()}` } });
      expect(keyed.status).toBe(503);
      expect(keyed.body.error.code).toBe('store-unavailable');
    } finally {
      proxy.heal();
    }
  });
});
