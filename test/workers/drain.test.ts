// SIGTERM with keep-alive connections open: the process answers what is in
// flight with `Connection: close` and exits as soon as it is out, not after
// the keep-alive timeout or the grace period. An idle keep-alive connection
// is closed at once; one that has not sent its first request yet is answered
// (node counts it busy, not idle).
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(cleanup);

/** A raw HTTP/1.1 connection: what arrived, and whether the server ended it. */
function rawConnection(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  const state = { text: '', ended: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    state.text += chunk;
  });
  socket.on('end', () => {
    state.ended = true;
  });
  socket.on('close', () => {
    state.ended = true;
  });
  socket.on('error', () => {});
  return { socket, state };
}

describe('drain on SIGTERM', () => {
  it('finishes a slow keep-alive request with Connection: close and exits well within the grace period', async () => {
    const server = await startServer({ env: { SHUTDOWN_GRACE_SECONDS: '10', KEEP_ALIVE_SECONDS: '60', REQUEST_TIMEOUT_SECONDS: '60' } });

    // An idle keep-alive connection: one request answered, the connection kept.
    const idle = rawConnection(server.port);
    idle.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: keep-alive\r\n\r\n`);
    await until(() => idle.state.text.includes('"status":"ok"'), 'the idle connection answered');
    expect(idle.state.text).toMatch(/connection: keep-alive/i);

    // A publish whose body arrives slowly: the server has its headers (100 Continue) and waits for the rest.
    const item = newItem({ headline: 'Published while the server drains' });
    const body = JSON.stringify(item);
    const half = Math.floor(body.length / 2);
    const slow = rawConnection(server.port);
    slow.socket.write(
      `POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: keep-alive\r\nAuthorization: Bearer ${server.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await until(() => slow.state.text.includes('100 Continue'), 'the server took the request (100 Continue)');
    slow.socket.write(body.slice(0, half));

    // A connection accepted a moment before the drain that has not sent its request yet.
    const fresh = rawConnection(server.port);
    await new Promise((resolve) => fresh.socket.once('connect', resolve));

    const exited = new Promise<number>((resolve) => server.process.once('exit', () => resolve(Date.now())));
    const signalled = Date.now();
    server.process.kill('SIGTERM');
    // The drain has begun once the idle connection is let go; only then does the rest of the body come.
    await until(() => idle.state.ended, 'the idle keep-alive connection closed by the drain', 3_000);
    slow.socket.write(body.slice(half));
    // The fresh connection is not reset: its first request is answered, and the connection ends with it.
    expect(fresh.state.ended).toBe(false);
    fresh.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    await until(() => fresh.state.ended, 'the fresh connection answered and closed', 3_000);
    expect(fresh.state.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(fresh.state.text).toMatch(/\r\nconnection: close\r\n/i);

    await until(() => slow.state.ended, 'the slow request answered and its connection closed', 3_000);
    const answer = slow.state.text.slice(slow.state.text.indexOf('\r\n\r\n') + 4);
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain(`"id":"${item.id}"`);

    const exitedAt = await exited;
    expect(exitedAt - signalled).toBeLessThan(3_000);
    expect(server.process.exitCode).toBe(0);

    // What it acknowledged while draining is in the log.
    const again = await startServer({ dataDir: server.dataDir });
    const stored = await api(again, 'GET', `/api/v1/items/${item.id}`);
    expect(stored.status).toBe(200);
    await again.stop();
  });
});
