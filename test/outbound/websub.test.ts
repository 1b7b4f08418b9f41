// The WebSub hub with subscribers that follow the spec, on loopback:
// subscribe → challenge → signed delivery of the new feed on publish,
// correction and kill; forged deliveries are detectable; unsubscribe and
// lease expiry stop deliveries; untrusted callbacks are refused.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from '../support/metrics.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { startSubscriber, type Subscriber } from '../support/websub-subscriber.ts';

afterAll(cleanup);

const hub = (server: TestServer, fields: Record<string, string>) =>
  fetch(`${server.url}/websub`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

const quiet = (server: TestServer) => until(async () => (await metric(server, 'newswire_outbound_backlog{channel="websub"}')) === 0 || undefined, 'an empty WebSub queue');

describe('WebSub hub', () => {
  let server: TestServer;
  const base = 'http://127.0.0.1:4999';
  let subscriber: Subscriber;
  const SECRET = 'subscriber-secret-123';

  beforeAll(async () => {
    server = await startServer({ env: { PUBLIC_URL: base, OUTBOUND_ALLOW_HOSTS: '127.0.0.1', WEBSUB_MAX_LEASE_SECONDS: '3' } });
    subscriber = await startSubscriber({ secret: SECRET });
  });
  afterAll(() => subscriber?.stop());

  it('is advertised by every feed: Link headers and links in the documents', async () => {
    for (const format of ['rss', 'atom', 'json']) {
      const res = await fetch(`${server.url}/feeds/world.${format}`);
      expect(res.headers.get('link')).toBe(`<${base}/websub>; rel="hub", <${base}/feeds/world.${format}>; rel="self"`);
      const body = await res.text();
      if (format === 'json') expect(JSON.parse(body).hubs).toEqual([{ type: 'WebSub', url: `${base}/websub` }]);
      else expect(body).toMatch(new RegExp(`<(atom:)?link (href="${base}/websub" rel="hub"|rel="hub" href="${base}/websub")/>`));
      // A conditional poll says the same.
      const again = await fetch(`${server.url}/feeds/world.${format}`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
      expect(again.status).toBe(304);
      expect(again.headers.get('link')).toBe(res.headers.get('link'));
    }
  });

  it('verifies intent, then posts the new feed, signed, on publish, correction and kill', async () => {
    const topic = `${base}/feeds/world.atom`;
    const res = await hub(server, { 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': subscriber.callback, 'hub.secret': SECRET, 'hub.lease_seconds': '3600' });
    expect(res.status).toBe(202);
    await until(() => subscriber.verified.length === 1, 'the challenge');
    expect(subscriber.verified[0]).toMatchObject({ mode: 'subscribe', topic, lease: '3' });
    await until(async () => (await metric(server, 'newswire_outbound_subscriptions{channel="websub"}')) === 1 || undefined, 'the subscription');

    const item = await api(server, 'POST', '/api/v1/items', newItem({ headline: 'Hub delivery one', topics: ['world'] }));
    await until(() => subscriber.deliveries.length === 1, 'the first delivery');
    const first = subscriber.deliveries[0];
    expect(first?.signatureValid).toBe(true);
    expect(first?.contentType).toContain('application/atom+xml');
    expect(first?.body).toContain('Hub delivery one');
    expect(first?.link).toBe(`<${base}/websub>; rel="hub", <${topic}>; rel="self"`);

    // Another topic: no delivery.
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['sport'] }));
    await api(server, 'PUT', `/api/v1/items/${item.body.item.id}`, { headline: 'Hub delivery one, corrected', topics: ['world'] });
    await until(() => subscriber.deliveries.some((d) => d.body.includes('Hub delivery one, corrected')), 'the correction');
    await api(server, 'DELETE', `/api/v1/items/${item.body.item.id}?reason=wrong`);
    await until(() => subscriber.deliveries.some((d) => !d.body.includes('Hub delivery one')), 'the kill');
    await quiet(server);
    expect(subscriber.deliveries.every((d) => d.signatureValid)).toBe(true);
    expect(subscriber.deliveries.length).toBeLessThanOrEqual(3);

    // A delivery forged by someone without the secret is caught by the subscriber.
    await fetch(subscriber.callback, { method: 'POST', headers: { 'content-type': 'application/atom+xml', 'x-hub-signature': `sha256=${createHmac('sha256', 'guess').update('<feed/>').digest('hex')}` }, body: '<feed/>' });
    expect(subscriber.forged).toBe(1);
  });

  it('stops after an unsubscribe, and when the lease ends', async () => {
    const topic = `${base}/feeds/world.atom`;
    expect((await hub(server, { 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.callback': subscriber.callback })).status).toBe(202);
    await until(() => subscriber.verified.some((v) => v.mode === 'unsubscribe'), 'the unsubscribe challenge');
    await until(async () => (await metric(server, 'newswire_outbound_subscriptions{channel="websub"}')) === 0 || undefined, 'no subscription');
    const before = subscriber.deliveries.length;
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'] }));
    await quiet(server);

    // A short lease (the hub grants at most 3 s here): delivered while it lasts, then not.
    const other = await startSubscriber();
    await hub(server, { 'hub.mode': 'subscribe', 'hub.topic': `${base}/feeds/all.json`, 'hub.callback': other.callback });
    await until(async () => (await metric(server, 'newswire_outbound_subscriptions{channel="websub"}')) === 1 || undefined, 'the short subscription');
    const granted = Date.now();
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['tech'] }));
    await until(() => other.deliveries.length === 1, 'a delivery within the lease');
    expect(JSON.parse(other.deliveries[0]?.body ?? '{}').version).toBe('https://jsonfeed.org/version/1.1');
    await until(() => Date.now() > granted + 3_500, 'the end of the lease');
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['tech'] }));
    await quiet(server);
    expect(other.deliveries).toHaveLength(1);
    expect(subscriber.deliveries).toHaveLength(before);
    await other.stop();
  });

  it('refuses callbacks and topics it must not take, and subscriptions the subscriber did not ask for', async () => {
    const topic = `${base}/feeds/world.rss`;
    const bad: [Record<string, string>, string][] = [
      [{ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': 'http://10.1.2.3/cb' }, 'hub.callback'],
      [{ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': 'http://169.254.169.254/latest/meta-data' }, 'hub.callback'],
      [{ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': 'ftp://example.com/cb' }, 'hub.callback'],
      [{ 'hub.mode': 'subscribe', 'hub.topic': 'https://elsewhere.example/feed', 'hub.callback': subscriber.callback }, 'hub.topic'],
      [{ 'hub.mode': 'publish', 'hub.topic': topic, 'hub.callback': subscriber.callback }, 'hub.mode'],
      [{ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': subscriber.callback, 'hub.secret': 'x'.repeat(200) }, 'hub.secret'],
    ];
    for (const [fields, path] of bad) {
      const res = await hub(server, fields);
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect((await res.json()).error.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
    const stranger = await startSubscriber({ refuse: true });
    expect((await hub(server, { 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': stranger.callback })).status).toBe(202);
    await until(() => stranger.verified.length === 1, 'its challenge');
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['world'] }));
    await quiet(server);
    expect(stranger.deliveries).toHaveLength(0);
    await stranger.stop();
  });
});
