// Publisher keys on two server processes sharing one Redis: a key made on one
// works on the other, and a revocation made on one is in force on the other
// within a second, by the change message or, when that is lost, by the
// once-a-second version check. Unknown tokens never reach the store.
import { describe, expect, it } from 'vitest';
import { api, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { useCluster } from './helpers.ts';

const cluster = useCluster(2, { AUTH_FAILURES_PER_MINUTE: '10000', REDIS_KEY_PREFIX: 'keystest' }, { oneByOne: true });

/** 200 when `token` is accepted by `server` (listing held items needs any valid key), else its status. */
async function accepted(server: TestServer, token: string): Promise<number> {
  return (await api(server, 'GET', '/api/v1/items?status=scheduled', undefined, { token })).status;
}

/** Milliseconds until `server` answers `status` for `token`; fails past the deadline. */
async function msUntil(server: TestServer, token: string, status: number, deadlineMs: number, what: string): Promise<number> {
  const started = Date.now();
  await until(async () => (await accepted(server, token)) === status, what, deadlineMs, 10);
  return Date.now() - started;
}

describe('publisher keys across processes', () => {
  it('a key made on one process works on the other, and its revocation is in force there within a second', async () => {
    const [a, b] = cluster.servers as [TestServer, TestServer];
    const made = await api(a, 'POST', '/api/v1/keys', { name: 'Wire desk', actions: ['publish'] });
    expect(made.status).toBe(201);
    const { token, key } = made.body;
    const seen = await msUntil(b, token, 200, 1_000, 'the other process to accept the new key');

    const revoked = await api(a, 'DELETE', `/api/v1/keys/${key.id}`);
    expect(revoked.status).toBe(200);
    const gone = await msUntil(b, token, 403, 1_000, 'the other process to refuse the revoked key');
    const publish = await api(b, 'POST', '/api/v1/items', { headline: 'Should not go out', topics: ['world'] }, { token });
    expect(publish.status).toBe(403);
    console.log(`key in force on the other process after ${seen} ms, revoked there after ${gone} ms`);
  });

  it('a revocation whose message is lost is found by the version check', async () => {
    const [a, b] = cluster.servers as [TestServer, TestServer];
    const made = await api(a, 'POST', '/api/v1/keys', { name: 'Quiet desk', actions: ['publish'] });
    const { token, key } = made.body;
    await msUntil(b, token, 200, 1_000, 'the other process to accept the new key');
    // Revoked behind the servers' backs: the record and the version change, no message is sent.
    const admin = cluster.admin;
    const json = JSON.parse((await admin.hget('keystest:keys', key.id)) as string);
    await admin.hset('keystest:keys', key.id, JSON.stringify({ ...json, revokedAt: new Date().toISOString() }));
    await admin.incr('keystest:keys:ver');
    // Each process finds it on its own next check, at most a second apart.
    const [goneOnA, goneOnB] = await Promise.all([
      msUntil(a, token, 403, 2_500, 'the version check to drop the revoked key on the first process'),
      msUntil(b, token, 403, 2_500, 'the version check to drop the revoked key on the second process'),
    ]);
    const gone = Math.max(goneOnA, goneOnB);
    console.log(`revoked without a message: refused after ${gone} ms`);
  });

  it('a token no key has is answered from memory, never read from the store', async () => {
    const [, b] = cluster.servers as [TestServer, TestServer];
    await cluster.admin.config('RESETSTAT');
    for (let n = 0; n < 40; n++) expect(await accepted(b, `nwk_guess${n}-${'x'.repeat(30)}`)).toBe(403);
    const stats = await cluster.admin.info('commandstats');
    // Reading the keys (HVALS) happens only when their version changes; the version check is one GET a second.
    expect(stats).not.toContain('cmdstat_hvals');
    const gets = Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    expect(gets).toBeLessThan(40);
  });
});
