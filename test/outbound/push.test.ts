// Web Push against a local push service that checks VAPID and decrypts:
// each matching subscription gets each alert once, choices are honoured, a
// correction alerts again only when the editor asks, a kill replaces the
// alert, an expired subscription is removed, bad subscriptions are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PushService, startPushService, stopPushServices } from '../support/push-service.ts';
import { metric } from '../support/metrics.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(async () => {
  await stopPushServices();
  await cleanup();
});

const settled = (server: TestServer) => until(async () => (await metric(server, 'newswire_outbound_backlog{channel="push"}')) === 0 || undefined, 'an empty push queue');

describe('Web Push', () => {
  let server: TestServer;
  let push: PushService;
  let key: string;
  const readers: Record<string, { clientHash: string; endpoint: string }> = {};

  beforeAll(async () => {
    push = await startPushService();
    server = await startServer({ env: { OUTBOUND_ALLOW_HOSTS: 'localhost,127.0.0.1' } });
    key = (await api(server, 'GET', '/api/v1/push/key')).body.publicKey;
    expect(key).toMatch(/^[A-Za-z0-9_-]{87}$/);
    const choices: Record<string, { topics?: string[]; minPriority?: string }> = {
      everything: {},
      worldFlash: { topics: ['world'], minPriority: 'flash' },
      sportAll: { topics: ['sport'], minPriority: 'routine' },
    };
    for (const [name, choice] of Object.entries(choices)) {
      const subscription = await push.subscribe(key);
      const res = await api(server, 'POST', '/api/v1/push/subscriptions', { subscription: { endpoint: subscription.endpoint, keys: subscription.keys }, ...choice }, { token: null });
      expect(res.status).toBe(201);
      readers[name] = subscription;
    }
  });

  const got = (name: string) => push.messages(readers[name]?.clientHash as string);

  it('sends a flash once to every matching reader, and nothing to the others', async () => {
    const flash = await api(server, 'POST', '/api/v1/items', newItem({ id: 'push-flash', headline: 'Quake hits the coast', topics: ['world'], priority: 'flash', summary: 'A strong quake.' }));
    expect(flash.status).toBe(201);
    await until(async () => (await got('everything')).length === 1 && (await got('worldFlash')).length === 1, 'both alerts');
    await settled(server);
    const [message] = await got('everything');
    expect(message).toMatchObject({ kind: 'alert', id: 'push-flash', title: 'Flash: Quake hits the coast', body: 'A strong quake.', priority: 'flash', url: `${server.url}/items/push-flash`, tag: 'push-flash' });
    expect(await got('worldFlash')).toEqual([message]);
    expect(await got('sportAll')).toEqual([]);
  });

  it('honours the least urgent priority each reader chose', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'], priority: 'routine' }));
    const sport = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['sport'], priority: 'routine' }));
    await until(async () => (await got('sportAll')).length === 1, 'the sport item');
    await settled(server);
    expect((await got('sportAll'))[0]?.id).toBe(sport.body.item.id);
    expect(await got('everything')).toHaveLength(1);
    expect(await got('worldFlash')).toHaveLength(1);
  });

  it('alerts again for a correction only when the editor asks, and a kill replaces the alert', async () => {
    const base = { headline: 'Quake hits the coast: 5 dead', topics: ['world'], priority: 'flash' };
    expect((await api(server, 'PUT', '/api/v1/items/push-flash', { ...base, changeNote: 'Adds the toll' })).status).toBe(200);
    expect((await api(server, 'PUT', '/api/v1/items/push-flash', { ...base, headline: 'Quake: 7 dead', changeNote: 'New toll', notify: true })).status).toBe(200);
    await until(async () => (await got('everything')).length === 2, 'the update');
    await settled(server);
    expect((await got('everything'))[1]).toMatchObject({ kind: 'update', title: 'Updated: Quake: 7 dead', body: 'New toll', tag: 'push-flash' });
    expect(await got('worldFlash')).toHaveLength(2);
    expect((await api(server, 'DELETE', '/api/v1/items/push-flash', { reason: 'Wrong location' })).status).toBe(200);
    await until(async () => (await got('worldFlash')).length === 3, 'the withdrawal');
    await settled(server);
    for (const name of ['everything', 'worldFlash']) {
      expect((await got(name))[2]).toMatchObject({ kind: 'withdrawn', id: 'push-flash', tag: 'push-flash', body: 'Wrong location' });
    }
    // Never told of it, never told of its kill.
    expect((await got('sportAll')).some((m) => m.id === 'push-flash')).toBe(false);
  });

  it('removes a subscription the push service says is gone', async () => {
    await push.expire(readers.worldFlash?.clientHash as string);
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'], priority: 'flash' }));
    await until(async () => (await got('everything')).length === 4, 'the next flash');
    await until(async () => (await metric(server, 'newswire_outbound_settled_total{channel="push",outcome="gone"}')) === 1 || undefined, 'the 410');
    await until(async () => (await metric(server, 'newswire_outbound_subscriptions{channel="push"}')) === 2 || undefined, 'two subscriptions left');
  });

  it('refuses subscriptions that are not real push endpoints', async () => {
    const good = await push.subscribe(key);
    const cases: [Record<string, unknown>, string][] = [
      [{ subscription: { endpoint: 'http://push.example.com/x', keys: good.keys } }, 'subscription.endpoint'],
      [{ subscription: { endpoint: 'https://10.0.0.1/x', keys: good.keys } }, 'subscription.endpoint'],
      [{ subscription: { endpoint: 'https://user:pw@push.example.com/x', keys: good.keys } }, 'subscription.endpoint'],
      [{ subscription: { endpoint: good.endpoint, keys: { p256dh: 'short', auth: good.keys.auth } } }, 'subscription.keys.p256dh'],
      [{ subscription: { endpoint: good.endpoint, keys: good.keys }, minPriority: 'loud' }, 'minPriority'],
      [{ subscription: { endpoint: good.endpoint, keys: good.keys }, topics: ['Not A Slug'] }, 'topics.0'],
    ];
    for (const [body, path] of cases) {
      const res = await api(server, 'POST', '/api/v1/push/subscriptions', body, { token: null });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
    const removed = await api(server, 'DELETE', '/api/v1/push/subscriptions', { endpoint: readers.sportAll?.endpoint }, { token: null });
    expect(removed.status).toBe(200);
    expect((await api(server, 'DELETE', '/api/v1/push/subscriptions', { endpoint: readers.sportAll?.endpoint }, { token: null })).status).toBe(404);
  });
});
