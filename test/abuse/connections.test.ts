// One address against the process's connections: held sockets, new
// connections per second, requests per 10 s, silent and half-sent requests.
// Each limit is reached, and a well-behaved client from another address is
// served all the while.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedWithin, http, rawSocket } from '../support/http.ts';
import { cleanup, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(cleanup);

describe('connections from one address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: {
        MAX_CONNECTIONS_PER_ADDRESS: '40',
        CONNECTIONS_PER_SECOND_PER_ADDRESS: '1000',
        HEADERS_TIMEOUT_SECONDS: '2',
        KEEP_ALIVE_SECONDS: '1',
      },
    });
  });

  it('holds at most the per-address limit; other addresses are served meanwhile; idle ones are let go', async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () => rawSocket(server.port, '127.0.0.10')));
    // Within 1 s: well before the 2 s headers timeout lets go of the held ones too.
    const verdicts = await Promise.all(sockets.map((socket) => closedWithin(socket, 1_000)));
    const cut = verdicts.filter((ms) => ms >= 0).length;
    expect(cut).toBeGreaterThanOrEqual(160);
    const held = sockets.filter((_, i) => verdicts[i] === -1);
    expect(held.length).toBeLessThanOrEqual(40);

    // Another address: served at once.
    const started = Date.now();
    expect((await http(`${server.url}/healthz`, { from: '127.0.0.11' })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);

    // The silent sockets are closed by the server within its timeouts (2 s headers + 1 s keep-alive).
    const closing = await Promise.all(held.map((socket) => closedWithin(socket, 6_000)));
    expect(closing.every((ms) => ms >= 0)).toBe(true);
    // The address is welcome again once its sockets are gone. The client may see
    // the server's FIN before the server has counted the socket out, so a
    // request sent in that instant may still be refused: wait for the count.
    const welcome = await until(
      () => http(`${server.url}/healthz`, { from: '127.0.0.10' }).then((r) => r.status === 200, () => false),
      'the address to be served again once its held sockets are closed',
      3_000,
    );
    expect(welcome).toBe(true);
    const refused = await http(`${server.url}/metrics`);
    expect(refused.body).toMatch(/^newswire_refused_total\{reason="too-many-connections"\} \d+$/m);
  });

  it('closes a request whose headers trickle in (slowloris) within the headers timeout', async () => {
    const socket = await rawSocket(server.port, '127.0.0.12');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: y\r\n'), 300);
    const ms = await closedWithin(socket, 6_000);
    clearInterval(drip);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(4_500);
  });

  it('counts WebSockets per address too', async () => {
    const open: WebSocket[] = [];
    let refused = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const ws = new WebSocket(server.wsUrl, { localAddress: '127.0.0.13' });
        ws.on('error', () => {});
        const ok = await new Promise<boolean>((resolve) => {
          ws.once('open', () => resolve(true));
          ws.once('unexpected-response', () => resolve(false));
          ws.once('close', () => resolve(false));
        });
        if (ok) open.push(ws);
        else refused++;
      }),
    );
    expect(open.length).toBeLessThanOrEqual(40);
    expect(refused).toBeGreaterThanOrEqual(10);
    const other = new WebSocket(server.wsUrl, { localAddress: '127.0.0.14' });
    await new Promise((resolve, reject) => {
      other.once('open', resolve);
      other.once('error', reject);
    });
    other.close();
    for (const ws of open) ws.close();
  });
});

describe('rates from one address', () => {
  it('refuses new connections past the per-second limit, and requests past the per-10 s limit, with 429', async () => {
    const server = await startServer({ env: { CONNECTIONS_PER_SECOND_PER_ADDRESS: '3', HTTP_RATE_PER_10S: '20' } });
    // 30 connections in 10 s allowed: 60 quick ones from one address are not all let in.
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () => http(`${server.url}/healthz`, { from: '127.0.0.20', timeoutMs: 3_000 })),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    expect(failed).toBeGreaterThanOrEqual(25);
    expect((await http(`${server.url}/healthz`, { from: '127.0.0.21' })).status).toBe(200);

    // Requests over one keep-alive connection are counted too; probes are never limited.
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await fetch(`${server.url}/feeds/all.rss`)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const limited = await fetch(`${server.url}/feeds/all.rss`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await limited.json()).error.code).toBe('rate-limited');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.stop();
  });
});
