// Two processes on one Redis share one outbox: every push and every WebSub
// delivery goes out once, whichever process planned or sent it, with
// publishes arriving through both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PushService, startPushService, stopPushServices } from '../support/push-service.ts';
import { api, newItem, type TestServer } from '../support/server.ts';
import { startSubscriber, type Subscriber } from '../support/websub-subscriber.ts';
import { useCluster, waitFor } from './helpers.ts';

const BASE = 'http://127.0.0.1:4998';

describe('outbound deliveries from two processes', () => {
  const cluster = useCluster(2, { PUBLIC_URL: BASE, OUTBOUND_ALLOW_HOSTS: 'localhost,127.0.0.1' });
  let a: TestServer;
  let b: TestServer;
  let push: PushService;
  let subscriber: Subscriber;
  beforeAll(async () => {
    [a, b] = cluster.servers as [TestServer, TestServer];
    push = await startPushService();
    subscriber = await startSubscriber({ secret: 'two-process-secret' });
  });
  afterAll(async () => {
    await subscriber?.stop();
    await stopPushServices();
  });

  it('sends each push and each WebSub delivery once', async () => {
    const key = (await api(a, 'GET', '/api/v1/push/key')).body.publicKey;
    // The same key from both: it was made once and kept in Redis.
    expect((await api(b, 'GET', '/api/v1/push/key')).body.publicKey).toBe(key);
    const readers = [await push.subscribe(key), await push.subscribe(key)];
    for (const [i, reader] of readers.entries()) {
      const res = await api(i ? b : a, 'POST', '/api/v1/push/subscriptions', { subscription: { endpoint: reader.endpoint, keys: reader.keys } }, { token: null });
      expect(res.status).toBe(201);
    }
    const hub = await fetch(`${b.url}/websub`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': `${BASE}/feeds/all.rss`, 'hub.callback': subscriber.callback, 'hub.secret': 'two-process-secret' }).toString(),
    });
    expect(hub.status).toBe(202);
    await waitFor(async () => subscriber.verified.length === 1, 5_000, 'the WebSub challenge');
    const subscribed = async (server: TestServer) => /newswire_outbound_subscriptions\{channel="websub"\} 1/.test(await (await fetch(`${server.url}/metrics`)).text());
    await waitFor(async () => (await subscribed(a)) && (await subscribed(b)), 5_000, 'the subscription seen by both');

    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await api(i % 2 ? b : a, 'POST', '/api/v1/items', newItem({ priority: 'flash', topics: ['world'] }));
      expect(res.status).toBe(201);
      ids.push(res.body.item.id);
    }
    const got = async () => Promise.all(readers.map((reader) => push.messages(reader.clientHash)));
    await waitFor(async () => (await got()).every((messages) => messages.length >= 10), 15_000, 'ten pushes each');
    const empty = async (server: TestServer) => /newswire_outbound_backlog\{channel="push"\} 0/.test(await (await fetch(`${server.url}/metrics`)).text());
    await waitFor(async () => (await empty(a)) && (await empty(b)), 10_000, 'empty queues');
    for (const messages of await got()) {
      expect(messages.map((m) => m.id).sort()).toEqual([...ids].sort());
    }
    // WebSub: every item reaches the subscriber in a delivery of the feed (two
    // processes may send theirs in either order); bursts may be sent as fewer
    // posts, never as more.
    const delivered = (id: string) => subscriber.deliveries.some((d) => d.body.includes(id));
    await waitFor(async () => ids.every(delivered), 10_000, 'every item in a delivered feed');
    expect(subscriber.deliveries.length).toBeLessThanOrEqual(10);
    expect(subscriber.deliveries.every((d) => d.signatureValid)).toBe(true);
  });
});
