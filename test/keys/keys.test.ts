// Scoped publisher keys and the audit trail on real server processes, on the
// embedded store and on a real redis-server: keys made, listed and revoked
// through the API; actions and topics enforced; every write in the item's
// history with its key, time and request id (that it outlives the log's
// retention: history-retention.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/http.ts';
import { STORES, storeEnv } from '../support/backend.ts';
import { stopAllRedis } from '../support/redis.ts';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(async () => {
  await cleanup();
  await stopAllRedis();
});

/** Makes a key through the API with the server's admin token; returns its record and token. */
async function makeKey(server: TestServer, body: Record<string, unknown>): Promise<{ key: Record<string, any>; token: string }> {
  const res = await api(server, 'POST', '/api/v1/keys', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { key: Record<string, any>; token: string };
}

describe.each(STORES)('publisher keys and history (%s)', (backend) => {
  let server: TestServer;
  let env: Record<string, string>;
  const tokensMade: string[] = [];
  beforeAll(async () => {
    env = { ...(await storeEnv(backend, `keys${process.pid}`)), AUTH_FAILURES_PER_MINUTE: '100' };
    server = await startServer({ env });
  });

  it('makes, lists and revokes keys; a token is shown once, never listed, never logged', async () => {
    const made = await makeKey(server, { name: 'Sports desk', actions: ['publish', 'correct'], topics: ['sport'] });
    tokensMade.push(made.token);
    expect(made.token).toMatch(/^nwk_[A-Za-z0-9_-]{43}$/);
    expect(made.key).toEqual({
      id: expect.stringMatching(/^key_[0-9a-f]{16}$/),
      name: 'Sports desk',
      actions: ['publish', 'correct'],
      topics: ['sport'],
      createdAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(made.key.createdAt) - Date.now())).toBeLessThan(60_000);

    // The new key works at once on this process.
    const published = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['sport'] }), { token: made.token });
    expect(published.status).toBe(201);

    const list = await api(server, 'GET', '/api/v1/keys');
    expect(list.status).toBe(200);
    expect(list.body.keys).toContainEqual(made.key);
    // The environment's full-power key is listed too, apart from the stored ones.
    expect(list.body.environment).toEqual([{ id: 'token-1', name: 'token-1', actions: ['publish', 'correct', 'kill', 'ingest', 'admin'] }]);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(made.token);
    expect(text).not.toMatch(/"hash"|[0-9a-f]{64}/);

    const revoked = await api(server, 'DELETE', `/api/v1/keys/${made.key.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.key).toEqual({ ...made.key, revokedAt: expect.any(String) });
    // Revoking again changes nothing: the first time stays.
    const again = await api(server, 'DELETE', `/api/v1/keys/${made.key.id}`);
    expect(again.body.key.revokedAt).toBe(revoked.body.key.revokedAt);
    const refused = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['sport'] }), { token: made.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await api(server, 'GET', '/api/v1/keys')).body.keys).toContainEqual(revoked.body.key);

    expect((await api(server, 'DELETE', '/api/v1/keys/key_0000000000000000')).status).toBe(404);
    const envKey = await api(server, 'DELETE', '/api/v1/keys/token-1');
    expect(envKey.status).toBe(404);
    expect(envKey.body.error.message).toContain('PUBLISHER_TOKENS');
  });

  it('refuses bad key requests field by field, and keys without "admin"', async () => {
    const bad = await api(server, 'POST', '/api/v1/keys', { name: ' ', actions: ['publish', 'fly'], topics: ['Not A Slug'], extra: 1 });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'actions.1', 'topics.0']));
    expect((await api(server, 'POST', '/api/v1/keys', { name: 'x', actions: [] })).body.error.fields[0].path).toBe('actions');

    const editor = await makeKey(server, { name: 'Editor', actions: ['publish', 'correct', 'kill'] });
    tokensMade.push(editor.token);
    for (const [method, path, body] of [
      ['GET', '/api/v1/keys', undefined],
      ['POST', '/api/v1/keys', { name: 'sneaky', actions: ['admin'] }],
      ['DELETE', `/api/v1/keys/${editor.key.id}`, undefined],
    ] as const) {
      const res = await api(server, method, path, body, { token: editor.token });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'forbidden-action', action: 'admin' });
      expect(res.body.error.message).toContain('"admin"');
    }
    expect((await api(server, 'GET', '/api/v1/keys', undefined, { token: null })).status).toBe(401);

    // A key made by a key with "admin" can administer too.
    const admin = await makeKey(server, { name: 'Key officer', actions: ['admin'] });
    tokensMade.push(admin.token);
    expect((await api(server, 'GET', '/api/v1/keys', undefined, { token: admin.token })).status).toBe(200);
    // ... and nothing else.
    const publish = await api(server, 'POST', '/api/v1/items', newItem(), { token: admin.token });
    expect(publish.status).toBe(403);
    expect(publish.body.error.code).toBe('forbidden-action');
  });

  it('keeps a desk to its actions and topics (403 forbidden-action / forbidden-topic)', async () => {
    const desk = await makeKey(server, { name: 'Sports desk', actions: ['publish', 'correct'], topics: ['sport', 'football'] });
    tokensMade.push(desk.token);
    const as = { token: desk.token };

    const outside = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['sport', 'politics'] }), as);
    expect(outside.status).toBe(403);
    expect(outside.body.error).toMatchObject({ code: 'forbidden-topic', topics: ['politics'] });
    expect(outside.body.error.message).toContain('"politics"');
    expect(outside.body.error.message).toContain('Sports desk');

    const own = newItem({ topics: ['sport'] });
    expect((await api(server, 'POST', '/api/v1/items', own, as)).status).toBe(201);
    // Into a topic it does not own: refused.
    const into = await api(server, 'PUT', `/api/v1/items/${own.id}`, { ...own, topics: ['sport', 'world'] }, as);
    expect(into.status).toBe(403);
    expect(into.body.error).toMatchObject({ code: 'forbidden-topic', topics: ['world'] });
    // Within its topics: fine.
    expect((await api(server, 'PUT', `/api/v1/items/${own.id}`, { ...own, topics: ['football'], changeNote: 'Moved' }, as)).status).toBe(200);

    // Another desk's item: neither corrected into the desk's topics nor taken out of its own.
    const theirs = (await publishOk(server, { topics: ['world'] })).item;
    const takeOver = await api(server, 'PUT', `/api/v1/items/${theirs.id}`, { ...newItem(), id: theirs.id, topics: ['sport'] }, as);
    expect(takeOver.status).toBe(403);
    expect(takeOver.body.error).toMatchObject({ code: 'forbidden-topic', topics: ['world'] });

    // No "kill" action: it cannot withdraw even its own item.
    const kill = await api(server, 'DELETE', `/api/v1/items/${own.id}`, { reason: 'wrong' }, as);
    expect(kill.status).toBe(403);
    expect(kill.body.error).toMatchObject({ code: 'forbidden-action', action: 'kill' });
    expect(kill.body.error.message).toContain('"kill"');
    expect((await api(server, 'GET', `/api/v1/items/${own.id}`)).status).toBe(200);

    // A killer limited to world may kill a world item, not a sport one.
    const killer = await makeKey(server, { name: 'World kill desk', actions: ['kill'], topics: ['world'] });
    tokensMade.push(killer.token);
    const wrongDesk = await api(server, 'DELETE', `/api/v1/items/${own.id}?reason=x`, undefined, { token: killer.token });
    expect(wrongDesk.status).toBe(403);
    expect(wrongDesk.body.error.code).toBe('forbidden-topic');
    expect((await api(server, 'DELETE', `/api/v1/items/${theirs.id}?reason=Legal`, undefined, { token: killer.token })).status).toBe(200);
  });

  it('records who published, corrected and killed an item, when, and from which request', async () => {
    const desk = await makeKey(server, { name: 'World desk', actions: ['publish', 'correct'], topics: ['world'] });
    const killer = await makeKey(server, { name: 'Standards editor', actions: ['kill'] });
    tokensMade.push(desk.token, killer.token);
    const item = newItem({ topics: ['world'] });
    const before = Date.now();
    const published = await api(server, 'POST', '/api/v1/items', item, { token: desk.token, headers: { 'x-request-id': 'cms-4711:publish' } });
    expect(published.status).toBe(201);
    // An id with characters outside the allowed set is replaced by one of ours.
    const corrected = await api(server, 'PUT', `/api/v1/items/${item.id}`, { ...item, headline: 'Corrected', changeNote: 'Corrects the toll' }, {
      token: desk.token,
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(corrected.status).toBe(200);

    const open = await api(server, 'GET', `/api/v1/items/${item.id}/history`, undefined, { token: null });
    expect(open.status).toBe(200);
    expect(open.body).toEqual({
      id: item.id,
      versions: [
        { version: 1, event: 'published', at: published.body.item.publishedAt },
        { version: 2, event: 'updated', at: corrected.body.item.updatedAt, changeNote: 'Corrects the toll' },
      ],
    });

    const killed = await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'Legal "hold"' }, {
      token: killer.token,
      headers: { 'x-request-id': 'kill-1' },
    });
    expect(killed.status).toBe(200);

    const full = await api(server, 'GET', `/api/v1/items/${item.id}/history`);
    expect(full.status).toBe(200);
    const [v1, v2, v3] = full.body.versions;
    expect(v1).toEqual({
      version: 1,
      event: 'published',
      at: published.body.item.publishedAt,
      by: { key: desk.key.id, name: 'World desk' },
      requestId: 'cms-4711:publish',
    });
    expect(v2).toMatchObject({ version: 2, event: 'updated', changeNote: 'Corrects the toll', by: { key: desk.key.id, name: 'World desk' } });
    expect(v2.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(v3).toEqual({
      version: 3,
      event: 'retracted',
      at: killed.body.item.updatedAt,
      reason: 'Legal "hold"',
      by: { key: killer.key.id, name: 'Standards editor' },
      requestId: 'kill-1',
    });
    for (const v of full.body.versions) expect(Date.parse(v.at)).toBeGreaterThanOrEqual(before - 1_000);
    // PUBLISHER_TOKENS entries are named token-N.
    const byToken = (await publishOk(server)).item;
    const history = await api(server, 'GET', `/api/v1/items/${byToken.id}/history`);
    expect(history.body.versions[0].by).toEqual({ key: 'token-1', name: 'token-1' });

    // A withdrawn item's history is the newsroom's alone; unknown ids are 404.
    const gone = await api(server, 'GET', `/api/v1/items/${item.id}/history`, undefined, { token: null });
    expect(gone.status).toBe(410);
    expect(JSON.stringify(gone.body)).not.toContain('Standards editor');
    expect((await api(server, 'GET', '/api/v1/items/no-such-item/history', undefined, { token: null })).status).toBe(404);
  });

  it('records the release of an embargoed item as the work of the key that scheduled it', async () => {
    const desk = await makeKey(server, { name: 'Embargo desk', actions: ['publish'] });
    tokensMade.push(desk.token);
    const item = newItem({ embargoUntil: new Date(Date.now() + 1_500).toISOString() });
    const held = await api(server, 'POST', '/api/v1/items', item, { token: desk.token, headers: { 'x-request-id': 'embargo-1' } });
    expect(held.status).toBe(202);
    expect((await api(server, 'GET', `/api/v1/items/${item.id}/history`, undefined, { token: null })).status).toBe(404);
    expect((await api(server, 'GET', `/api/v1/items/${item.id}/history`)).body).toEqual({ id: item.id, versions: [] });
    await until(async () => (await api(server, 'GET', `/api/v1/items/${item.id}`, undefined, { token: null })).status === 200, 'the release', 10_000);
    const history = await api(server, 'GET', `/api/v1/items/${item.id}/history`);
    expect(history.body.versions).toEqual([
      { version: 1, event: 'published', at: expect.any(String), by: { key: desk.key.id, name: 'Embargo desk' }, requestId: 'embargo-1' },
    ]);
  });

  it('counts failures on the keys routes and the items routes against one budget per address', async () => {
    const from = backend === 'sqlite' ? '127.0.0.81' : '127.0.0.82';
    const attempt = (path: string, token: string) =>
      http(`${server.url}${path}`, { method: 'GET', from, headers: { authorization: `Bearer ${token}` } });
    // AUTH_FAILURES_PER_MINUTE is 100 here: half the guesses at each route.
    for (let n = 0; n < 50; n++) expect((await attempt('/api/v1/keys', `nwk_guess-${n}-0123456789`)).status).toBe(403);
    for (let n = 0; n < 50; n++) expect((await attempt('/api/v1/items?status=scheduled', `nwk_guess-${n}-0123456789`)).status).toBe(403);
    const refused = await attempt('/api/v1/keys', server.token);
    expect(refused.status).toBe(429);
    expect(refused.json().error.code).toBe('too-many-auth-failures');
  });

  it('never writes a token to the log', async () => {
    expect(tokensMade.length).toBeGreaterThan(4);
    const output = server.output();
    expect(output).toContain('"msg":"key"');
    for (const token of [...tokensMade, server.token]) expect(output).not.toContain(token);
  });
});
