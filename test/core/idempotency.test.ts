// Idempotency-Key on POST: a retry with the same key and body gets the first
// answer again and writes nothing; another body gets a 409; keys belong to
// the publisher key that used them, and outlive a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, publishOk, startServer, TOKEN, type TestServer } from '../support/server.ts';
import { seqOf } from '../support/ws.ts';

const OTHER_TOKEN = 'second-publisher-token-9876543210';

let server: TestServer;
beforeAll(async () => {
  // A second full-power key beside the first.
  server = await startServer({ env: { PUBLISHER_TOKENS: `${TOKEN},${OTHER_TOKEN}`, ALLOWED_ORIGINS: 'https://desk.example' } });
});
afterAll(cleanup);

let n = 0;
const keyed = () => ({ 'idempotency-key': `retry-test-${process.pid}-${Date.now()}-${++n}` });
/** The seq a fresh publish takes: how many events were appended since a cursor. */
async function nextSeq(): Promise<number> {
  return seqOf((await publishOk(server)).cursor);
}

describe('Idempotency-Key on POST /api/v1/items', () => {
  it('a retry with the same key and body gets the first answer, marked as replayed, and writes nothing', async () => {
    const headers = keyed();
    const body = newItem();
    const first = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('content-type')).toMatch(/^application\/json/);
    expect(retry.body).toEqual(first.body);
    expect(await nextSeq()).toBe(seqOf(first.body.cursor) + 1);
  });

  it('an item without an id is the same item on every retry', async () => {
    const headers = keyed();
    const body = { headline: 'Keyed publish without an id', topics: ['local'] };
    const first = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(first.status).toBe(201);
    expect(first.body.item.id).toMatch(/^k-[0-9a-f]{32}$/);
    const retry = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(retry.body.item.id).toBe(first.body.item.id);
    // Without the key, the same body is a new item.
    const unkeyed = await api(server, 'POST', '/api/v1/items', body);
    expect(unkeyed.status).toBe(201);
    expect(unkeyed.body.item.id).not.toBe(first.body.item.id);
  });

  it('the same key with another body is refused with 409 and changes nothing', async () => {
    const headers = keyed();
    const body = newItem();
    expect((await api(server, 'POST', '/api/v1/items', body, { headers })).status).toBe(201);
    const other = await api(server, 'POST', '/api/v1/items', { ...body, headline: 'Another headline' }, { headers });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency-key-reused');
    const stored = await api(server, 'GET', `/api/v1/items/${body.id}`);
    expect(stored.body.item.headline).toBe(body.headline);
    expect(stored.body.item.version).toBe(1);
  });

  it('keeps a refusal by the store as the first outcome too', async () => {
    const body = newItem();
    expect((await api(server, 'POST', '/api/v1/items', body)).status).toBe(201);
    const headers = keyed();
    const conflicting = { ...body, headline: 'Same id, other content' };
    const first = await api(server, 'POST', '/api/v1/items', conflicting, { headers });
    expect(first.status).toBe(409);
    expect(first.body.error.code).toBe('conflict');
    const retry = await api(server, 'POST', '/api/v1/items', conflicting, { headers });
    expect(retry.status).toBe(409);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('does not spend a key on a request that never reached the store', async () => {
    const headers = keyed();
    const bad = await api(server, 'POST', '/api/v1/items', { headline: '', topics: [] }, { headers });
    expect(bad.status).toBe(400);
    const good = await api(server, 'POST', '/api/v1/items', newItem(), { headers });
    expect(good.status).toBe(201);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a key is the publisher key\'s own: another key may use the same string', async () => {
    const headers = keyed();
    const body = { headline: 'Two desks, one key string', topics: ['local'] };
    const mine = await api(server, 'POST', '/api/v1/items', body, { headers });
    const theirs = await api(server, 'POST', '/api/v1/items', body, { headers, token: OTHER_TOKEN });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.body.item.id).not.toBe(mine.body.item.id);
  });

  it('answers requests racing with one key with one write: the others wait or get its answer', async () => {
    const headers = keyed();
    const body = newItem();
    const answers = await Promise.all(Array.from({ length: 6 }, () => api(server, 'POST', '/api/v1/items', body, { headers })));
    const fresh = answers.filter((a) => a.status === 201 && !a.headers.get('idempotent-replayed'));
    expect(fresh).toHaveLength(1);
    for (const answer of answers) {
      if (answer.status === 409) {
        expect(answer.body.error.code).toBe('idempotency-key-in-use');
        expect(answer.headers.get('retry-after')).toBe('1');
      } else {
        expect(answer.status).toBe(201);
        expect(answer.body).toEqual(fresh[0]?.body);
      }
    }
    expect(await nextSeq()).toBe(seqOf(fresh[0]?.body.cursor) + 1);
  });

  it('takes the key as a token or a quoted string, and refuses a malformed one by name', async () => {
    const key = `quoted-${Date.now()}`;
    const body = newItem();
    const plain = await api(server, 'POST', '/api/v1/items', body, { headers: { 'idempotency-key': key } });
    const quoted = await api(server, 'POST', '/api/v1/items', body, { headers: { 'idempotency-key': `"${key}"` } });
    expect(plain.status).toBe(201);
    expect(quoted.headers.get('idempotent-replayed')).toBe('true');
    for (const bad of ['x'.repeat(256), 'two words', '""']) {
      const res = await api(server, 'POST', '/api/v1/items', newItem(), { headers: { 'idempotency-key': bad } });
      expect(res.status).toBe(400);
      expect(res.body.error.fields[0].path).toBe('Idempotency-Key');
    }
  });

  it('holds for ninjs documents too', async () => {
    const headers = keyed();
    const doc = { uri: `urn:newsml:example.com:${Date.now()}:keyed`, version: '1', pubstatus: 'usable', headlines: [{ role: 'main', value: 'A keyed ninjs document' }], subjects: [{ name: 'world' }] };
    const first = await api(server, 'POST', '/api/v1/ninjs', doc, { headers });
    expect(first.status).toBe(201);
    const retry = await api(server, 'POST', '/api/v1/ninjs', doc, { headers });
    expect([retry.status, retry.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(retry.body).toEqual(first.body);
    const other = await api(server, 'POST', '/api/v1/ninjs', { ...doc, version: '2' }, { headers });
    expect(other.body.error.code).toBe('idempotency-key-reused');
  });

  it('may be sent by a newsroom tool in a browser on an allowed origin, which can read the replay mark', async () => {
    const preflight = await fetch(`${server.url}/api/v1/items`, {
      method: 'OPTIONS',
      headers: { origin: 'https://desk.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://desk.example');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    const headers = { ...keyed(), origin: 'https://desk.example' };
    const body = newItem();
    await api(server, 'POST', '/api/v1/items', body, { headers });
    const replay = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(replay.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('idempotent-replayed');
  });

  it('remembers the answer across a restart', async () => {
    const headers = keyed();
    const body = newItem();
    const first = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(first.status).toBe(201);
    server = await server.restart();
    const retry = await api(server, 'POST', '/api/v1/items', body, { headers });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
  });
});
