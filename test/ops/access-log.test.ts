// The access log, read from a real server's stdout: one line per request
// on every path (web app, feeds, event streams, WebSockets), the request id
// echoed, the token's name and never the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { http } from '../support/http.ts';
import { api, cleanup, logLines, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

interface AccessLine {
  log?: string;
  msg: string;
  requestId: string;
  method: string;
  route?: string;
  path: string;
  status?: number;
  durationMs?: number;
  bytes?: number;
  address: string;
  token?: string;
  key?: string;
  kind?: string;
}

function accessLines(server: TestServer): AccessLine[] {
  return (logLines(server) as AccessLine[]).filter((line) => line.log === 'access');
}

const lineWith = (server: TestServer, id: string, msg = 'request') => () =>
  accessLines(server).find((line) => line.requestId === id && line.msg === msg);

describe('access log', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(cleanup);

  it('logs a publish with the given request id, its status and the token name, never the token', async () => {
    const res = await api(server, 'POST', '/api/v1/items', newItem(), { headers: { 'x-request-id': 'desk-7:publish.1' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('desk-7:publish.1');
    const line = await until(lineWith(server, 'desk-7:publish.1'), 'the publish in the access log');
    expect(line).toMatchObject({ method: 'POST', route: '/api/v1/items', path: '/api/v1/items', status: 201, token: 'token-1', address: '127.0.0.1' });
    expect(line.key).toBe('token-1');
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(line.bytes).toBeGreaterThan(0);
    expect(server.output()).not.toContain(server.token);
  });

  it('replaces an unsafe request id, and makes one when none is sent', async () => {
    const unsafe = await http(`${server.url}/api/v1/items?limit=1`, { headers: { 'x-request-id': 'a b<script>' } });
    const made = unsafe.headers['x-request-id'] as string;
    expect(made).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(made).not.toBe('a b<script>');
    const tooLong = await http(`${server.url}/healthz`, { headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(tooLong.headers['x-request-id']).not.toBe('x'.repeat(129));
    const line = await until(lineWith(server, made), 'the list in the access log');
    expect(line).toMatchObject({ route: '/api/v1/items', path: '/api/v1/items', status: 200 });
    expect(server.output()).not.toContain('<script>');
  });

  it('logs a failed authentication with 401, without the query string', async () => {
    const res = await api(server, 'POST', '/api/v1/items?token=hunter2-secret', newItem(), {
      token: null,
      headers: { 'x-request-id': 'no-token-1' },
    });
    expect(res.status).toBe(401);
    const line = await until(lineWith(server, 'no-token-1'), 'the refused write in the access log');
    expect(line).toMatchObject({ status: 401, path: '/api/v1/items' });
    expect(line.token).toBeUndefined();
    expect(server.output()).not.toContain('hunter2-secret');
  });

  it('logs feeds answered before the web app, 200 and 304', async () => {
    const first = await http(`${server.url}/feeds/all.rss?cachebuster=1`, { headers: { 'x-request-id': 'feed-1' } });
    expect(first.status).toBe(200);
    expect(first.headers['x-request-id']).toBe('feed-1');
    const again = await http(`${server.url}/feeds/all.rss`, {
      headers: { 'x-request-id': 'feed-2', 'if-none-match': first.headers.etag as string },
    });
    expect(again.status).toBe(304);
    expect(again.headers['x-request-id']).toBe('feed-2');
    expect(await until(lineWith(server, 'feed-1'), 'the feed 200')).toMatchObject({ route: '/feeds/:name', path: '/feeds/all.rss', status: 200 });
    expect(await until(lineWith(server, 'feed-2'), 'the feed 304')).toMatchObject({ route: '/feeds/:name', status: 304 });
    expect(server.output()).not.toContain('cachebuster');
  });

  it('logs a WebSocket at open and at close, with its duration, never its cursor', async () => {
    const ws = new WebSocket(`${server.wsUrl}?topics=world&cursor=zzsecretcursor-1`, { headers: { 'x-request-id': 'ws-1' } });
    const echoed = await new Promise<string | undefined>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(res.headers['x-request-id'] as string | undefined));
      ws.once('error', reject);
    });
    expect(echoed).toBe('ws-1');
    expect(await until(lineWith(server, 'ws-1', 'websocket opened'), 'the open')).toMatchObject({ route: '/ws', status: 101, kind: 'ws' });
    ws.close();
    const closed = await until(lineWith(server, 'ws-1', 'websocket closed'), 'the close');
    expect(closed.durationMs).toBeGreaterThan(0);
    expect(server.output()).not.toContain('zzsecretcursor');
  });

  it('logs an event stream at open and at close', async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/sse?topics=world`, { headers: { 'x-request-id': 'sse-1' }, signal: abort.signal });
    expect(res.headers.get('x-request-id')).toBe('sse-1');
    expect(await until(lineWith(server, 'sse-1', 'stream opened'), 'the stream opening')).toMatchObject({ route: '/sse', status: 200 });
    abort.abort();
    const closed = await until(lineWith(server, 'sse-1', 'stream closed'), 'the stream closing');
    expect(closed.durationMs).toBeGreaterThan(0);
  });
});

describe('ACCESS_LOG=off', () => {
  afterAll(cleanup);

  it('writes no access line, and still answers with a request id', async () => {
    const server = await startServer({ env: { ACCESS_LOG: 'off' } });
    const res = await api(server, 'POST', '/api/v1/items', newItem(), { headers: { 'x-request-id': 'quiet-1' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('quiet-1');
    // The write's own line shows the output is read up to this request.
    await until(() => server.output().includes('"msg":"write"'), 'the write line');
    expect(accessLines(server)).toEqual([]);
  });
});
