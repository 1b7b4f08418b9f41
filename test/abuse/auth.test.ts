// Guessing tokens: every failure is logged (never the token) and counted, and
// an address that keeps failing is refused for a while, valid token or not.
// Forwarded addresses count only from a trusted proxy.
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../support/http.ts';
import { cleanup, newItem, startServer, TOKEN } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(cleanup);

const write = (url: string, token: string, from: string, headers: Record<string, string> = {}) =>
  http(`${url}/api/v1/items`, {
    method: 'POST',
    from,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(newItem()),
  });

describe('failed authentication', () => {
  it('is logged without the token, counted, and an address that keeps failing is refused', async () => {
    const server = await startServer({ env: { AUTH_FAILURES_PER_MINUTE: '5' } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await write(server.url, `guess-${i}-0123456789abcdef`, '127.0.0.60')).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    // Refused now even with the right token: guessing must stop, not slow down.
    const refused = await write(server.url, TOKEN, '127.0.0.60');
    expect(refused.status).toBe(429);
    expect(refused.json().error.code).toBe('too-many-auth-failures');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address with the right token: published.
    expect((await write(server.url, TOKEN, '127.0.0.61')).status).toBe(201);

    // The log is written asynchronously: wait for the write's line.
    const writeLine = /"action":"publish","outcome":"appended","id":"[^"]+","seq":\d+,"token":"token-1","msg":"write"/;
    const log = await until(() => writeLine.test(server.output()) && server.output(), 'the write logged');
    expect(log.match(/"msg":"authentication failed"/g)).toHaveLength(5);
    expect(log).toContain('"address":"127.0.0.60"');
    expect(log).not.toContain('guess-');
    // Every change is logged with the name of the token that made it.
    expect(log).toMatch(writeLine);
    expect(log).not.toContain(TOKEN);
    const metrics = (await http(`${server.url}/metrics`)).body;
    expect(metrics).toMatch(/^newswire_auth_failures_total\{reason="invalid"\} 5$/m);
    expect(metrics).toMatch(/^newswire_auth_failures_total\{reason="refused"\} 4$/m);
    await server.stop();
  });

  it('ignores X-Forwarded-For from anyone but a trusted proxy, and believes it from one', async () => {
    const direct = await startServer({ env: { AUTH_FAILURES_PER_MINUTE: '3' } });
    // Claiming to be someone else each time does not reset the count.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await write(direct.url, 'wrong-token-0123456789', '127.0.0.62', { 'x-forwarded-for': `198.51.100.${i}` })).status);
    expect(statuses.slice(3)).toEqual([429, 429]);
    await direct.stop();

    const proxied = await startServer({ env: { AUTH_FAILURES_PER_MINUTE: '3', TRUST_PROXY: '127.0.0.63' } });
    for (let i = 0; i < 4; i++) await write(proxied.url, 'wrong-token-0123456789', '127.0.0.63', { 'x-forwarded-for': '203.0.113.7' });
    // The forwarded client is refused; another client through the same proxy is not.
    expect((await write(proxied.url, TOKEN, '127.0.0.63', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    expect((await write(proxied.url, TOKEN, '127.0.0.63', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(201);
    expect(proxied.output()).toContain('"address":"203.0.113.7"');
    await proxied.stop();
  });

  it('counts failures on the scheduled list and on a held item against the same budget as writes', async () => {
    const server = await startServer({ env: { AUTH_FAILURES_PER_MINUTE: '6' } });
    const held = newItem({ embargoUntil: new Date(Date.now() + 3_600_000).toISOString() });
    const scheduled = await http(`${server.url}/api/v1/items`, {
      method: 'POST',
      from: '127.0.0.64',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(held),
    });
    expect(scheduled.status).toBe(202);
    const read = (path: string, token?: string) =>
      http(`${server.url}${path}`, { from: '127.0.0.65', headers: token ? { authorization: `Bearer ${token}` } : {} });
    const list = '/api/v1/items?status=scheduled';
    const item = `/api/v1/items/${held.id}`;

    // Readers send no token: a held item is not there for them, and nothing is counted.
    for (let i = 0; i < 8; i++) expect((await read(item)).status).toBe(404);
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) statuses.push((await read(list, `guess-list-${i}-0123456789`)).status);
    for (let i = 0; i < 2; i++) statuses.push((await read(item, `guess-item-${i}-0123456789`)).status);
    for (let i = 0; i < 2; i++) statuses.push((await write(server.url, `guess-write-${i}-0123456789`, '127.0.0.65')).status);
    expect(statuses).toEqual([403, 403, 404, 404, 403, 403]);

    // Six failures on three routes spend the one budget: every route refuses, valid token or not.
    expect((await write(server.url, TOKEN, '127.0.0.65')).status).toBe(429);
    expect((await read(list, TOKEN)).status).toBe(429);
    expect((await read(item, TOKEN)).status).toBe(404);
    // The address that published is not the one guessing.
    expect((await http(`${server.url}${item}`, { from: '127.0.0.64', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

    const metrics = (await http(`${server.url}/metrics`)).body;
    expect(metrics).toMatch(/^newswire_auth_failures_total\{reason="invalid"\} 6$/m);
    expect(metrics).toMatch(/^newswire_auth_failures_total\{reason="refused"\} 3$/m);
    await server.stop();
  });
});

describe('origin behind a proxy', () => {
  it('accepts the public origin although the proxy rewrote Host, and still refuses other sites', async () => {
    const server = await startServer({ env: { PUBLIC_URL: 'https://news.example.com', TRUST_PROXY: 'loopback' } });
    const open = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(server.wsUrl, { origin, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' } });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => {});
      });
    expect(await open('https://news.example.com')).toBe(101);
    expect(await open('https://evil.example')).toBe(403);
    expect(await open('http://news.example.com')).toBe(403);
    await server.stop();
  });
});
