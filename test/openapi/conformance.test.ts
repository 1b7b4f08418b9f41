// Real answers of a real server process, held to the /openapi.json it
// serves: successes and errors of every documented route, each checked for a
// documented status, content type, headers and body schema. The last test
// fails if a documented answer was never seen here (unless it is listed
// below with the reason it cannot be caused from a test).
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../src/api/openapi.ts';
import { cleanup, newItem, startServer, TOKEN, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { multipart, PNG, signature } from '../ninjs/support.ts';
import { Conformance, request } from './conform.ts';

const SECOND_TOKEN = 'second-publisher-token-0123456789';
const RATE = 80;
const AUTH_FAILURES = 30;
const SUPERDESK_SECRET = 'conformance-superdesk-secret-0123';

/** Documented answers no test here causes, and why. */
const NOT_CAUSED: Record<string, string> = {
  'POST /api/v1/items 503': 'the store must fail a write (the Redis outage and lost-answer tests cover it)',
  'PUT /api/v1/items/{id} 503': 'the store must fail a write',
  'DELETE /api/v1/items/{id} 503': 'the store must fail a write',
  'GET /readyz 503': 'the store or bus must be down',
  'GET /ws 429': 'an address over MAX_CONNECTIONS_PER_ADDRESS (test/abuse covers it)',
  'GET /ws 503': 'the process at its WebSocket ceiling or draining',
  'GET /sse 429': 'an address over MAX_CONNECTIONS_PER_ADDRESS',
  'GET /sse 503': 'the process at its connection ceiling or draining',
  'GET /feeds/{topic}.rss 429': 'over HTTP_RATE_PER_10S (test/abuse covers it)',
  'GET /feeds/{topic}.atom 429': 'over HTTP_RATE_PER_10S',
  'GET /feeds/{topic}.json 429': 'over HTTP_RATE_PER_10S',
  'GET /api/v1/push/key 429': 'over HTTP_RATE_PER_10S',
  'POST /api/v1/keys 409': 'the store must hold MAX_KEYS (2,000) keys',
  'POST /api/v1/ninjs 503': 'the store must fail a write',
  'POST /api/v1/superdesk/items 503': 'the store must fail a write',
};

let server: TestServer;
let doc: OpenApiDocument;
let conform: Conformance;

beforeAll(async () => {
  server = await startServer({
    env: {
      PUBLISHER_TOKENS: `${TOKEN},${SECOND_TOKEN}`,
      MAX_BODY_BYTES: '16384',
      PUBLISH_RATE_PER_MINUTE: String(RATE),
      AUTH_FAILURES_PER_MINUTE: String(AUTH_FAILURES),
      PUSH_MAX_SUBSCRIPTIONS: '1',
      SUPERDESK_SECRET,
      MEDIA_MAX_BYTES: '1024',
    },
  });
  doc = (await request(`${server.url}/openapi.json`)).json() as OpenApiDocument;
  conform = new Conformance(doc);
});

afterAll(async () => {
  await server?.stop();
  await cleanup();
});

/** Sends a request and holds its answer to the document; returns the parsed body. */
async function call(
  method: string,
  template: string,
  path: string,
  init: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const token = init.token === undefined ? server.token : (init.token ?? undefined);
  const answer = await request(`${server.url}${path}`, { method, ...init, ...(token ? { token } : { token: undefined }) });
  const body = conform.check(method, template, answer);
  return { status: answer.status, body, headers: answer.headers };
}

const future = () => new Date(Date.now() + 3_600_000).toISOString();

describe('the newsroom API answers as documented', () => {
  it('publish: 201, 200 (retry), 202 (embargo), 400, 409, 410', async () => {
    const item = newItem({ summary: 'A summary', body: 'Plain text\n\nbecomes paragraphs', url: 'HTTP://Example.COM/a/../b', image: { url: 'https://example.com/p.jpg', alt: 'A picture' }, language: 'en', source: 'Wire', byline: 'A. Writer' });
    const created = await call('POST', '/api/v1/items', '/api/v1/items', { body: item });
    expect(created.status).toBe(201);
    expect(created.body.item.url).toBe('http://example.com/b');
    expect((await call('POST', '/api/v1/items', '/api/v1/items', { body: item })).status).toBe(200);
    expect((await call('POST', '/api/v1/items', '/api/v1/items', { body: { ...item, headline: 'Other' } })).status).toBe(409);
    const held = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ embargoUntil: future() }) });
    expect(held.status).toBe(202);
    expect(held.body.item.status).toBe('scheduled');

    const killed = newItem();
    await call('POST', '/api/v1/items', '/api/v1/items', { body: killed });
    await call('DELETE', '/api/v1/items/{id}', `/api/v1/items/${killed.id}`, { body: { reason: 'Legal' } });
    expect((await call('POST', '/api/v1/items', '/api/v1/items', { body: killed })).status).toBe(410);

    const invalid = await call('POST', '/api/v1/items', '/api/v1/items', { body: { headline: '', topics: ['Not A Slug'] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields.length).toBeGreaterThan(0);
    expect((await call('POST', '/api/v1/items', '/api/v1/items', { body: '{not json' })).body.error.code).toBe('invalid-json');

    // Idempotency-Key: the kept answer, another body under the key, a malformed key.
    const headers = { 'idempotency-key': `conformance-${Date.now()}` };
    const keyed = { headline: 'Published under a key', topics: ['local'] };
    const first = await call('POST', '/api/v1/items', '/api/v1/items', { body: keyed, headers });
    const replay = await call('POST', '/api/v1/items', '/api/v1/items', { body: keyed, headers });
    expect([first.status, replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
    const reused = await call('POST', '/api/v1/items', '/api/v1/items', { body: { ...keyed, headline: 'Other' }, headers });
    expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency-key-reused']);
    const malformed = await call('POST', '/api/v1/items', '/api/v1/items', { body: keyed, headers: { 'idempotency-key': 'two words' } });
    expect(malformed.body.error.fields[0].path).toBe('Idempotency-Key');
  });

  it('correct: 200 (new version, retry, held item), 400, 404, 409, 410', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem() });
    const id: string = body.item.id;
    const path = `/api/v1/items/${id}`;
    const fields = { headline: 'Corrected', topics: ['world'] };
    const corrected = await call('PUT', '/api/v1/items/{id}', path, { body: { ...fields, changeNote: 'Fixed the headline', notify: false } });
    expect(corrected.status).toBe(200);
    expect(corrected.body.item).toMatchObject({ version: 2, changeNote: 'Fixed the headline' });
    const retry = await call('PUT', '/api/v1/items/{id}', path, { body: { ...fields, changeNote: 'Fixed the headline' } });
    expect(retry.body.unchanged).toBe(true);
    expect((await call('PUT', '/api/v1/items/{id}', path, { body: { ...fields, embargoUntil: future() } })).status).toBe(409);
    expect((await call('PUT', '/api/v1/items/{id}', path, { body: { ...fields, id: 'another' } })).status).toBe(400);
    expect((await call('PUT', '/api/v1/items/{id}', '/api/v1/items/no-such-item', { body: fields })).status).toBe(404);

    const held = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ embargoUntil: future() }) });
    const heldAgain = await call('PUT', '/api/v1/items/{id}', `/api/v1/items/${held.body.item.id}`, {
      body: { headline: 'Held, corrected', topics: ['world'], embargoUntil: held.body.item.embargoUntil },
    });
    expect(heldAgain.body.item.status).toBe('scheduled');

    await call('DELETE', '/api/v1/items/{id}', path, { body: { reason: 'Withdrawn' } });
    expect((await call('PUT', '/api/v1/items/{id}', path, { body: fields })).status).toBe(410);
    expect((await call('PUT', '/api/v1/items/{id}', path, { body: fields, token: null })).status).toBe(401);
  });

  it('retract: 200 (retracted, cancelled), 400, 404, 410', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem() });
    const path = `/api/v1/items/${body.item.id}`;
    expect((await call('DELETE', '/api/v1/items/{id}', path, { body: {} })).status).toBe(400);
    const retracted = await call('DELETE', '/api/v1/items/{id}', `${path}?reason=${encodeURIComponent('Legal advice')}`);
    expect(retracted.body.item).toMatchObject({ status: 'retracted', reason: 'Legal advice' });
    expect((await call('DELETE', '/api/v1/items/{id}', path, { body: { reason: 'Again' } })).status).toBe(410);
    expect((await call('DELETE', '/api/v1/items/{id}', '/api/v1/items/no-such-item', { body: { reason: 'x' } })).status).toBe(404);

    const held = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ embargoUntil: future() }) });
    const cancelled = await call('DELETE', '/api/v1/items/{id}', `/api/v1/items/${held.body.item.id}`, { body: { reason: 'Not needed' } });
    expect(cancelled.body.item.status).toBe('cancelled');
  });

  it('read one: 200 (published; held, for its newsroom), 404, 410', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ body: '<p>Body</p>' }) });
    const path = `/api/v1/items/${body.item.id}`;
    const read = await call('GET', '/api/v1/items/{id}', path, { token: null });
    expect(read.body.item.body).toBe('<p>Body</p>');
    const held = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ embargoUntil: future() }) });
    const heldPath = `/api/v1/items/${held.body.item.id}`;
    expect((await call('GET', '/api/v1/items/{id}', heldPath)).body.item.status).toBe('scheduled');
    expect((await call('GET', '/api/v1/items/{id}', heldPath, { token: null })).status).toBe(404);
    await call('DELETE', '/api/v1/items/{id}', path, { body: { reason: 'Gone' } });
    const gone = await call('GET', '/api/v1/items/{id}', path, { token: null });
    expect(gone.body.error.item.status).toBe('retracted');
  });

  it('list: cards, whole items, held items (with a token), 400, 401, 403', async () => {
    await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ topics: ['science'], body: 'A body' }) });
    const cards = await call('GET', '/api/v1/items', '/api/v1/items?topic=science&limit=5', { token: null });
    expect(cards.body.items.length).toBeGreaterThan(0);
    expect(cards.body.items[0].body).toBeUndefined();
    const full = await call('GET', '/api/v1/items', '/api/v1/items?topic=science&detail=full', { token: null });
    expect(full.body.items[0].body).toBeDefined();
    await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ embargoUntil: future() }) });
    const held = await call('GET', '/api/v1/items', '/api/v1/items?status=scheduled');
    expect(held.body.items.every((item: { status: string }) => item.status === 'scheduled')).toBe(true);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?limit=0', { token: null })).status).toBe(400);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?status=scheduled&topic=world')).status).toBe(400);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?status=scheduled', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?status=scheduled', { token: 'wrong-token-0123456789' })).status).toBe(403);
  });

  it('kill list: 200 with the kill and its reason, 400 (topic, hours), 401, 403', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ topics: ['science'] }) });
    await call('DELETE', '/api/v1/items/{id}', `/api/v1/items/${body.item.id}`, { body: { reason: 'Sources withdrew' } });
    const kills = await call('GET', '/api/v1/items', '/api/v1/items?status=retracted&hours=1&limit=50');
    expect(kills.status).toBe(200);
    expect(kills.headers.get('cache-control')).toBe('private, no-store');
    expect(kills.body.cursor).toBeUndefined();
    expect(Date.now() - Date.parse(kills.body.since)).toBeGreaterThan(3_500_000);
    expect(kills.body.items[0]).toMatchObject({ id: body.item.id, status: 'retracted', reason: 'Sources withdrew', topics: ['science'], version: 2 });
    const invalid = await call('GET', '/api/v1/items', '/api/v1/items?status=retracted&topic=science');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields).toEqual([expect.objectContaining({ path: 'topic' })]);
    const tooFarBack = await call('GET', '/api/v1/items', '/api/v1/items?status=retracted&hours=169');
    expect(tooFarBack.body.error.fields).toEqual([expect.objectContaining({ path: 'hours' })]);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?status=retracted', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?status=retracted', { token: 'wrong-token-0123456789' })).status).toBe(403);
  });

  it('readers: 200 counts with a token (a live reader counted), 401, 403', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/sse?topics=conformance-readers`, { signal: controller.signal });
    try {
      const counted = await until(async () => {
        const answer = await call('GET', '/api/v1/readers', '/api/v1/readers');
        return answer.body.topics['conformance-readers'] === 1 ? answer : null;
      }, 'the reader to be counted');
      expect(counted.headers.get('cache-control')).toBe('private, no-store');
      expect(counted.body.total).toBeGreaterThanOrEqual(1);
      expect(counted.body.processes).toBe(1);
    } finally {
      controller.abort();
      await stream.body?.cancel().catch(() => {});
    }
    expect((await call('GET', '/api/v1/readers', '/api/v1/readers', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/readers', '/api/v1/readers', { token: 'wrong-token-0123456789' })).status).toBe(403);
  });

  it('every write refuses the same way: 401, 403, 413, 415, and 429 past the rate', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem() });
    const writes: [string, string, string][] = [
      ['POST', '/api/v1/items', '/api/v1/items'],
      ['PUT', '/api/v1/items/{id}', `/api/v1/items/${body.item.id}`],
      ['DELETE', '/api/v1/items/{id}', `/api/v1/items/${body.item.id}`],
    ];
    for (const [method, template, path] of writes) {
      expect((await call(method, template, path, { body: newItem(), token: null })).status).toBe(401);
      expect((await call(method, template, path, { body: newItem(), token: 'wrong-token-0123456789' })).status).toBe(403);
      expect((await call(method, template, path, { body: newItem({ body: 'x'.repeat(20_000) }) })).status).toBe(413);
      // DELETE reads a JSON body only when one is sent as JSON: otherwise the reason is in the query.
      const expected = method === 'DELETE' ? 400 : 415;
      expect((await call(method, template, path, { body: 'headline', headers: { 'content-type': 'text/plain' } })).status).toBe(expected);
    }
    // The second token spends its budget; every write of it is then refused.
    let last = 0;
    for (let i = 0; i <= RATE && last !== 429; i++) {
      last = (await call('POST', '/api/v1/items', '/api/v1/items', { body: {}, token: SECOND_TOKEN })).status;
    }
    expect(last).toBe(429);
    for (const [method, template, path] of writes.slice(1)) {
      expect((await call(method, template, path, { body: { reason: 'x' }, token: SECOND_TOKEN })).status).toBe(429);
    }
  });
});

describe('push subscriptions answer as documented', () => {
  const keys = { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) };
  const subscription = (n: number) => ({ subscription: { endpoint: `https://push.example.net/send/${n}`, keys }, topics: ['no-such-topic'], minPriority: 'flash' });

  it('key, subscribe (201, 400, 415, 503), unsubscribe (200, 400, 404, 415)', async () => {
    expect((await call('GET', '/api/v1/push/key', '/api/v1/push/key', { token: null })).body.publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await call('POST', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', { body: subscription(1), token: null })).status).toBe(201);
    // PUSH_MAX_SUBSCRIPTIONS=1: the second endpoint is refused.
    expect((await call('POST', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', { body: subscription(2), token: null })).status).toBe(503);
    const bad = { ...subscription(3), subscription: { endpoint: 'http://127.0.0.1/x', keys: { p256dh: 'short', auth: '' } } };
    expect((await call('POST', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', { body: bad, token: null })).status).toBe(400);
    const text = { body: 'x', headers: { 'content-type': 'text/plain' }, token: null };
    expect((await call('POST', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', text)).status).toBe(415);
    const endpoint = subscription(1).subscription.endpoint;
    expect((await call('DELETE', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', { body: { endpoint }, token: null })).status).toBe(200);
    expect((await call('DELETE', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', { body: { endpoint }, token: null })).status).toBe(404);
    expect((await call('DELETE', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', { body: { other: 1 }, token: null })).status).toBe(400);
    expect((await call('DELETE', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', text)).status).toBe(415);
  });
});

describe('publisher keys, history, ninjs, Superdesk and media answer as documented', () => {
  /** A key with every write action but admin: its own write budget, so these tests do not spend the token's. */
  let writer = '';
  /** A key that may only publish, and only to "sport". */
  let sportOnly = '';
  const uri = (name: string) => `urn:newsml:example.com:conformance:${name}-${Math.random().toString(36).slice(2, 10)}`;
  const ninjs = (id: string, version: number, pubstatus = 'usable', extra: Record<string, unknown> = {}) => ({
    uri: id,
    version: String(version),
    pubstatus,
    headlines: [{ role: 'main', value: `Headline ${version}` }],
    subjects: [{ name: 'world' }],
    ...extra,
  });

  it('keys: make (201, 400, 401, 403, 413, 415), list (200, 401, 403), revoke (200, 401, 403, 404)', async () => {
    const made = await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'Conformance writer', actions: ['publish', 'correct', 'kill', 'ingest'] } });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^nwk_/);
    writer = made.body.token;
    const sport = await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'Sports desk', actions: ['publish'], topics: ['sport'] } });
    sportOnly = sport.body.token;
    const invalid = await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: '', actions: ['fly'], topics: [] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['actions.0', 'name', 'topics']);
    expect((await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'x', actions: ['publish'] }, token: null })).status).toBe(401);
    const scoped = await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'x', actions: ['publish'] }, token: sportOnly });
    expect(scoped.body.error).toMatchObject({ code: 'forbidden-action', action: 'admin' });
    expect((await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'x'.repeat(20_000), actions: ['publish'] } })).status).toBe(413);
    expect((await call('POST', '/api/v1/keys', '/api/v1/keys', { body: 'name', headers: { 'content-type': 'text/plain' } })).status).toBe(415);

    const list = await call('GET', '/api/v1/keys', '/api/v1/keys');
    expect(list.body.keys.map((key: { name: string }) => key.name)).toContain('Sports desk');
    expect(JSON.stringify(list.body)).not.toContain('nwk_');
    expect((await call('GET', '/api/v1/keys', '/api/v1/keys', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/keys', '/api/v1/keys', { token: sportOnly })).body.error.code).toBe('forbidden-action');

    const spare = await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'Spare', actions: ['kill'] } });
    const revoked = await call('DELETE', '/api/v1/keys/{id}', `/api/v1/keys/${spare.body.key.id}`);
    expect(revoked.body.key.revokedAt).toBeDefined();
    expect((await call('DELETE', '/api/v1/keys/{id}', '/api/v1/keys/key_0000000000000000')).status).toBe(404);
    expect((await call('DELETE', '/api/v1/keys/{id}', `/api/v1/keys/${spare.body.key.id}`, { token: null })).status).toBe(401);
    expect((await call('DELETE', '/api/v1/keys/{id}', `/api/v1/keys/${spare.body.key.id}`, { token: sportOnly })).body.error.code).toBe('forbidden-action');
    // A key limited to a topic, on an item of another.
    const outside = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ topics: ['world'] }), token: sportOnly });
    expect(outside.body.error).toMatchObject({ code: 'forbidden-topic', topics: ['world'] });
  });

  it('history: 200 (who only with a key), 404, 410 for readers of a killed item', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem(), token: writer });
    const path = `/api/v1/items/${body.item.id}/history`;
    await call('PUT', '/api/v1/items/{id}', `/api/v1/items/${body.item.id}`, { body: { headline: 'Corrected', topics: ['world'], changeNote: 'Fixed' }, token: writer });
    const newsroom = await call('GET', '/api/v1/items/{id}/history', path);
    expect(newsroom.body.versions).toMatchObject([
      { version: 1, event: 'published', by: { name: 'Conformance writer' } },
      { version: 2, event: 'updated', changeNote: 'Fixed' },
    ]);
    const readers = await call('GET', '/api/v1/items/{id}/history', path, { token: null });
    expect(readers.body.versions[0].by).toBeUndefined();
    expect((await call('GET', '/api/v1/items/{id}/history', '/api/v1/items/no-such-item/history', { token: null })).status).toBe(404);
    await call('DELETE', '/api/v1/items/{id}', `/api/v1/items/${body.item.id}`, { body: { reason: 'Legal' }, token: writer });
    const gone = await call('GET', '/api/v1/items/{id}/history', path, { token: null });
    expect(gone.status).toBe(410);
    expect((await call('GET', '/api/v1/items/{id}/history', path)).body.versions.at(-1)).toMatchObject({ event: 'retracted', reason: 'Legal' });
  });

  it('ninjs in: 201, 200, 202, 400, 401, 403 (action, topic), 404, 409, 410, 413, 415', async () => {
    const id = uri('ingest');
    const created = await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(id, 1), token: writer });
    expect(created.status).toBe(201);
    expect(created.body.item.topics).toEqual(['world']);
    const replay = await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(id, 1), token: writer });
    expect(replay.body).toMatchObject({ unchanged: true, ninjs: { uri: id, version: 1 } });
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(id, 2), token: writer })).body.item.version).toBe(2);
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(id, 3, 'withheld'), token: writer })).body.error.code).toBe('already-published');
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(id, 4, 'canceled'), token: writer })).body.item.status).toBe('retracted');
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(id, 5), token: writer })).status).toBe(410);
    const held = await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(uri('held'), 1, 'withheld'), token: writer });
    expect(held.status).toBe(202);
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(uri('never'), 1, 'canceled'), token: writer })).status).toBe(404);
    const invalid = await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: { uri: id, version: 'one', headlines: [] }, token: writer });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields.length).toBeGreaterThan(0);
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(uri('x'), 1), token: null })).status).toBe(401);
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(uri('x'), 1), token: sportOnly })).body.error.code).toBe('forbidden-action');
    const sportIngest = await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'Sports wire', actions: ['ingest'], topics: ['sport'] } });
    const offTopic = await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(uri('x'), 1), token: sportIngest.body.token });
    expect(offTopic.body.error).toMatchObject({ code: 'forbidden-topic', topics: ['world'] });
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: ninjs(uri('x'), 1, 'usable', { body_text: 'x'.repeat(20_000) }), token: writer })).status).toBe(413);
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: 'ninjs', headers: { 'content-type': 'text/plain' }, token: writer })).status).toBe(415);
  });

  it('ninjs out: one item and a list as application/ninjs+json, a kill as pubstatus canceled', async () => {
    const { body } = await call('POST', '/api/v1/items', '/api/v1/items', { body: newItem({ topics: ['science'] }), token: writer });
    const path = `/api/v1/items/${body.item.id}`;
    const one = await call('GET', '/api/v1/items/{id}', `${path}?format=ninjs`, { token: null });
    expect(one.headers.get('content-type')).toMatch(/^application\/ninjs\+json/);
    expect(one.body).toMatchObject({ pubstatus: 'usable', headlines: [{ role: 'main', value: body.item.headline }] });
    const list = await call('GET', '/api/v1/items', '/api/v1/items?topic=science&limit=5', { token: null, headers: { accept: 'application/ninjs+json' } });
    expect(list.body.items[0].uri).toBe(one.body.uri);
    expect((await call('GET', '/api/v1/items', '/api/v1/items?format=ninjs&limit=1000', { token: null })).status).toBe(400);
    await call('DELETE', '/api/v1/items/{id}', path, { body: { reason: 'Legal' }, token: writer });
    const killed = await call('GET', '/api/v1/items/{id}', path, { token: null, headers: { accept: 'application/ninjs+json' } });
    expect(killed.status).toBe(200);
    expect(killed.body.pubstatus).toBe('canceled');
  });

  /** A request signed (or not) as Superdesk signs, held to the document. */
  async function superdesk(method: string, template: string, path: string, body: Buffer | string | undefined, init: { type?: string; signature?: string | null } = {}) {
    const headers: Record<string, string> = {};
    if (init.type) headers['content-type'] = init.type;
    const sig = init.signature === undefined ? (body === undefined ? undefined : signature(SUPERDESK_SECRET, body)) : init.signature;
    if (sig) headers['x-superdesk-signature'] = sig;
    const response = await fetch(`${server.url}${path}`, { method, headers, body: typeof body === 'string' ? body : body && new Uint8Array(body) });
    const text = await response.text();
    return { status: response.status, body: conform.check(method, template, { status: response.status, headers: response.headers, text }) as any };
  }

  it('Superdesk assets and media: 200, 201, 304, 400 (media id, multipart, fields), 403, 404, 413, 415', async () => {
    const mediaId = `20261130120000/${Math.random().toString(16).slice(2)}.png`;
    const assets = '/api/v1/superdesk/assets';
    expect((await superdesk('GET', '/api/v1/superdesk/assets/{mediaId}', `${assets}/${mediaId}`, undefined)).status).toBe(404);
    expect((await superdesk('GET', '/api/v1/superdesk/assets/{mediaId}', `${assets}/-not-an-id`, undefined)).body.error.code).toBe('invalid-media-id');
    const upload = await multipart({ media_id: mediaId, media: new Blob([new Uint8Array(PNG)], { type: 'image/png' }) });
    expect((await superdesk('POST', assets, assets, upload.bytes, { type: upload.type, signature: signature(SUPERDESK_SECRET, 'another body') })).body.error.code).toBe('bad-signature');
    const kept = await superdesk('POST', assets, assets, upload.bytes, { type: upload.type });
    expect(kept.status).toBe(201);
    expect(kept.body).toMatchObject({ media_id: mediaId, mimetype: 'image/png', size: PNG.length });
    const found = await superdesk('GET', '/api/v1/superdesk/assets/{mediaId}', `${assets}/${mediaId}`, undefined);
    expect(found.body.href).toBe(kept.body.href);

    const media = await request(kept.body.href);
    expect(conform.check('GET', '/media/{name}', media)).toBeDefined();
    expect(media.headers.get('content-type')).toBe('image/png');
    const etag = media.headers.get('etag') ?? '';
    expect(conform.check('GET', '/media/{name}', await request(kept.body.href, { headers: { 'if-none-match': etag } }))).toBeUndefined();
    const missing = await request(`${server.url}/media/AAAAAAAAAAAAAAAAAAAAAA.png`);
    expect(missing.status).toBe(404);
    conform.check('GET', '/media/{name}', missing);

    const garbled = await superdesk('POST', assets, assets, 'not a multipart body', { type: 'multipart/form-data; boundary=abc' });
    expect(garbled.body.error.code).toBe('invalid-multipart');
    const noFile = await multipart({ media_id: mediaId });
    expect((await superdesk('POST', assets, assets, noFile.bytes, { type: noFile.type })).body.error.fields).toEqual([{ path: 'media', message: 'must be the file' }]);
    const large = await multipart({ media_id: 'large.png', media: new Blob([new Uint8Array(Buffer.concat([PNG, Buffer.alloc(2_000)]))], { type: 'image/png' }) });
    expect((await superdesk('POST', assets, assets, large.bytes, { type: large.type })).status).toBe(413);
    const text = await multipart({ media_id: 'text.png', media: new Blob(['not an image'], { type: 'image/png' }) });
    expect((await superdesk('POST', assets, assets, text.bytes, { type: text.type })).status).toBe(415);
  });

  it('Superdesk items: 201 (every success), 400, 403 bad signature, 404, 409, 410, 413', async () => {
    const items = '/api/v1/superdesk/items';
    const id = uri('superdesk');
    const pushed = await superdesk('POST', items, items, JSON.stringify(ninjs(id, 1)), { type: 'application/json' });
    expect(pushed.status).toBe(201);
    expect(pushed.body.item.id).toBe(id);
    // A replay is a success too: 201 for the transmitter.
    expect((await superdesk('POST', items, items, JSON.stringify(ninjs(id, 1)), { type: 'application/json' })).body.unchanged).toBe(true);
    const history = await call('GET', '/api/v1/items/{id}/history', `/api/v1/items/${encodeURIComponent(id)}/history`);
    expect(history.body.versions[0].by).toEqual({ key: 'superdesk', name: 'Superdesk HTTP Push' });
    const unsigned = await superdesk('POST', items, items, JSON.stringify(ninjs(id, 2)), { type: 'application/json', signature: null });
    expect(unsigned.body.error.code).toBe('bad-signature');
    expect((await superdesk('POST', items, items, '{not json', { type: 'application/json' })).body.error.code).toBe('invalid-json');
    expect((await superdesk('POST', items, items, JSON.stringify({ uri: id, version: 'two' }), { type: 'application/json' })).status).toBe(400);
    expect((await superdesk('POST', items, items, JSON.stringify(ninjs(id, 2, 'withheld')), { type: 'application/json' })).status).toBe(409);
    expect((await superdesk('POST', items, items, JSON.stringify(ninjs(id, 3, 'canceled')), { type: 'application/json' })).body.item.status).toBe('retracted');
    expect((await superdesk('POST', items, items, JSON.stringify(ninjs(id, 4)), { type: 'application/json' })).status).toBe(410);
    expect((await superdesk('POST', items, items, JSON.stringify(ninjs(uri('never'), 1, 'canceled')), { type: 'application/json' })).status).toBe(404);
    expect((await superdesk('POST', items, items, 'x'.repeat(20_000), { type: 'application/json' })).status).toBe(413);
  });
});

describe('feeds, live connections and probes answer as documented', () => {
  it('feeds: 200 in their content types, 304, 404', async () => {
    for (const format of ['rss', 'atom', 'json']) {
      const template = `/feeds/{topic}.${format}`;
      const first = await request(`${server.url}/feeds/all.${format}`);
      conform.check('GET', template, first);
      const etag = first.headers.get('etag') ?? '';
      conform.check('GET', template, await request(`${server.url}/feeds/all.${format}`, { headers: { 'if-none-match': etag } }));
      const missing = await request(`${server.url}/feeds/Not_A_Topic.${format}`);
      expect(missing.status).toBe(404);
      conform.check('GET', template, missing);
    }
    expect([...conform.seen].filter((s) => s.startsWith('GET /feeds/')).length).toBe(9);
  });

  it('/sse: 200 event stream, 400, 403', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/sse?topics=world`, { signal: controller.signal });
    conform.check('GET', '/sse', { status: stream.status, headers: stream.headers, text: '' });
    controller.abort();
    await stream.body?.cancel().catch(() => {});
    conform.check('GET', '/sse', await request(`${server.url}/sse?cursor=not-a-cursor`));
    conform.check('GET', '/sse', await request(`${server.url}/sse`, { headers: { origin: 'https://elsewhere.example' } }));
  });

  it('/ws: 101 upgrade, 403 for a foreign origin', async () => {
    const open = new WebSocket(`${server.wsUrl}?topics=world&detail=card`);
    const status = await new Promise<number>((resolve, reject) => {
      open.once('upgrade', (response) => resolve(response.statusCode ?? 0));
      open.once('error', reject);
    });
    conform.seen.add(`GET /ws ${status}`);
    expect(status).toBe(101);
    expect(conform.doc.paths['/ws']?.get?.responses['101']).toBeDefined();
    open.close();

    const refused = new WebSocket(server.wsUrl, { origin: 'https://elsewhere.example' });
    const answer = await new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
      refused.once('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve({ status: response.statusCode ?? 0, headers, text });
        });
      });
      refused.once('open', () => reject(new Error('a foreign origin was let in')));
      refused.on('error', () => {});
    });
    expect(answer.status).toBe(403);
    conform.check('GET', '/ws', answer);
    await until(() => open.readyState === WebSocket.CLOSED, 'the WebSocket to close');
  });

  it('probes: /healthz and /readyz', async () => {
    conform.check('GET', '/healthz', await request(`${server.url}/healthz`));
    const ready = await request(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    conform.check('GET', '/readyz', ready);
  });
});

describe('the examples of the reference work as written', () => {
  it('publish, read, correct, retract, subscribe, unsubscribe, make keys and take in ninjs with nothing but the document', async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    const examples = ['publishItem', 'getItem', 'getItemHistory', 'correctItem', 'retractItem', 'subscribePush', 'unsubscribePush', 'createKey', 'listKeys', 'ingestNinjs'];
    for (const id of examples) {
      const found = operations.find(({ op }) => op.operationId === id);
      if (!found) throw new Error(`${id} is not in the document`);
      const { path, method, op } = found;
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => String(op.parameters?.find((p) => p.name === name)?.example));
      const media = op.requestBody?.content['application/json'];
      const bearer = op.security.length > 0 && op.security.every((s) => 'bearer' in s);
      const answer = await request(`${server.url}${url}`, { method: method.toUpperCase(), ...(bearer ? { token: server.token } : {}), ...(media?.example === undefined ? {} : { body: media.example }) });
      conform.check(method.toUpperCase(), path, answer);
      expect(answer.status, `${id}: ${answer.text.slice(0, 300)}`).toBeLessThan(300);
    }
  });
});

// Last: from here on this address is refused wherever a token is read.
describe('an address that keeps failing authentication', () => {
  it('gets 429 with Retry-After, on reads that take a token too', async () => {
    let last = 0;
    for (let i = 0; i <= AUTH_FAILURES && last !== 429; i++) {
      last = (await call('GET', '/api/v1/items', '/api/v1/items?status=scheduled', { token: 'wrong-token-0123456789' })).status;
    }
    expect(last).toBe(429);
    // Every route behind the guard now refuses this address, even with a valid token.
    expect((await call('GET', '/api/v1/keys', '/api/v1/keys')).status).toBe(429);
    expect((await call('POST', '/api/v1/keys', '/api/v1/keys', { body: { name: 'Late', actions: ['publish'] } })).status).toBe(429);
    expect((await call('DELETE', '/api/v1/keys/{id}', '/api/v1/keys/key_0000000000000000')).status).toBe(429);
    expect((await call('POST', '/api/v1/ninjs', '/api/v1/ninjs', { body: {} })).status).toBe(429);
    expect((await call('GET', '/api/v1/readers', '/api/v1/readers')).status).toBe(429);
  });

  it('Superdesk pushes: 429 once an address sent wrong signatures too often', async () => {
    const send = async (path: string, sig: string) => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-superdesk-signature': sig }, body: '{}' });
      return { status: response.status, headers: response.headers, text: await response.text() };
    };
    let last = 0;
    for (let i = 0; i <= AUTH_FAILURES && last !== 429; i++) last = (await send('/api/v1/superdesk/items', 'sha1=0')).status;
    expect(last).toBe(429);
    // Even a good signature is refused until the window passes.
    for (const path of ['/api/v1/superdesk/items', '/api/v1/superdesk/assets']) {
      const answer = await send(path, signature(SUPERDESK_SECRET, '{}'));
      expect(answer.status).toBe(429);
      conform.check('POST', path, answer);
    }
  });
});

describe('coverage', () => {
  it('every documented answer was seen, or is listed with why it cannot be caused here', () => {
    const documented = conform.documented();
    const missing = documented.filter((answer) => !conform.seen.has(answer) && !(answer in NOT_CAUSED));
    expect(missing).toEqual([]);
    // And nothing is listed as not caused that is caused, or no longer documented.
    expect(Object.keys(NOT_CAUSED).filter((answer) => conform.seen.has(answer) || !documented.includes(answer))).toEqual([]);
  });
});
