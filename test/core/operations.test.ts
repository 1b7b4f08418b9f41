// Configuration at start, health, metrics, pages and graceful shutdown.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, tempDir } from '../support/server.ts';
import { freePort } from '../support/redis.ts';
import { TestClient } from '../support/ws.ts';

afterAll(cleanup);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runWithEnv(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: tempDir(), HOST: '127.0.0.1', PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 15_000,
  });
}

describe('configuration', () => {
  it('stops at start with a message naming each bad variable, in plain words', () => {
    const result = runWithEnv({ PORT: 'eighty', REDIS_URL: 'http://x', WS_MAX_TOPICS: '0', PUBLIC_URL: 'not a url', TRUST_PROXY: '10.0.0.0/99' });
    expect(result.status).toBe(78);
    for (const name of ['PORT', 'REDIS_URL', 'WS_MAX_TOPICS', 'PUBLIC_URL', 'TRUST_PROXY']) expect(result.stderr).toContain(`${name}:`);
    expect(result.stderr).toContain('PORT: must be a whole number from 0 to 65,535 (it is "eighty")');
    expect(result.stderr).toContain('WS_MAX_TOPICS: must be a whole number from 1 to 1,000 (it is "0")');
    expect(result.stderr).not.toMatch(/NaN|Invalid input|expected number/);
    // Secrets are never echoed.
    const secret = runWithEnv({ PUBLISHER_TOKENS: 'short-secret' });
    expect(secret.stderr).toContain('PUBLISHER_TOKENS: each token must be at least 16 characters');
    expect(secret.stderr).not.toContain('short-secret');
  });

  it('refuses to start in production without publisher tokens or a public URL', () => {
    const result = runWithEnv({ NODE_ENV: 'production' });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('PUBLISHER_TOKENS');
    expect(result.stderr).toContain('PUBLIC_URL: is required when NODE_ENV=production');
  });

  it('outside production, makes a token and prints a curl command that works', async () => {
    const server = await startServer({ env: { PUBLISHER_TOKENS: '' } });
    await new Promise((r) => setTimeout(r, 200));
    const match = /Authorization: Bearer (\w+)/.exec(server.output());
    expect(match).not.toBeNull();
    const token = match?.[1] as string;
    expect(server.output()).toContain(`curl -X POST http://127.0.0.1:${server.port}/api/v1/items`);
    expect((await api(server, 'POST', '/api/v1/items', newItem(), { token })).status).toBe(201);
    expect((await api(server, 'POST', '/api/v1/items', newItem(), { token: 'test-publisher-token-0123456789' })).status).toBe(403);
    await server.stop();
  });
});

describe('start-up failures', () => {
  const oneLine = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    return lines[0] as string;
  };

  it('a taken port, an unusable data folder and an unreachable Redis: one clear line and exit 78', async () => {
    const taken = await startServer();
    const port = runWithEnv({ PORT: String(taken.port), LOG_LEVEL: 'silent' });
    expect(port.status).toBe(78);
    expect(oneLine(port.stderr)).toBe(`Cannot start: PORT: 127.0.0.1:${taken.port} is already in use by another process`);
    await taken.stop();

    const file = `${tempDir()}/not-a-folder`;
    writeFileSync(file, 'x');
    const data = runWithEnv({ DATA_DIR: file, LOG_LEVEL: 'silent' });
    expect(data.status).toBe(78);
    expect(oneLine(data.stderr)).toMatch(/^Cannot start: DATA_DIR: cannot open the store in ".*not-a-folder" \(\w+\): it must be a folder this process can write$/);

    const nobody = await freePort();
    const started = Date.now();
    const redis = runWithEnv({ REDIS_URL: `redis://127.0.0.1:${nobody}`, REDIS_CONNECT_TIMEOUT_SECONDS: '1', LOG_LEVEL: 'silent' });
    expect(redis.status).toBe(78);
    expect(oneLine(redis.stderr)).toBe(`Cannot start: REDIS_URL: Redis refuses connections: is it running on that host and port? (redis://127.0.0.1:${nobody})`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('health, metrics and pages', () => {
  it('answers healthz, readyz and Prometheus metrics', async () => {
    const server = await startServer();
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: 'ok', bus: 'ok' } });

    const client = await TestClient.connect(server.wsUrl, { topics: ['metrics'] });
    await client.waitForType('welcome');
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['metrics'] }));
    await client.waitForEvents(1);
    await api(server, 'POST', '/api/v1/items', { headline: '' });
    await api(server, 'POST', '/api/v1/items', newItem(), { token: null });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^newswire_ws_connections 1$/m);
    // Conventional names for process and runtime metrics; HTTP requests by route; refused writes by reason.
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toContain('newswire_process_');
    expect(text).toMatch(/^newswire_http_requests_total\{route="\/api\/v1\/items",method="POST",status="201"\} 1$/m);
    expect(text).toMatch(/^newswire_http_request_duration_seconds_count\{route="\/readyz"\} 1$/m);
    expect(text).toMatch(/^newswire_api_rejected_writes_total\{action="publish",reason="invalid"\} 1$/m);
    expect(text).toMatch(/^newswire_api_rejected_writes_total\{action="publish",reason="no-token"\} 1$/m);
    expect(text).toMatch(/^newswire_auth_failures_total\{reason="missing"\} 1$/m);
    const ceiling = Number(/^newswire_connection_ceiling\{kind="websockets"\} (\d+)$/m.exec(text)?.[1]);
    expect(ceiling).toBeGreaterThan(0);
    expect(ceiling).toBeLessThan(20_000);
    expect(text).toMatch(/^newswire_events_total\{type="published"\} 1$/m);
    expect(text).toMatch(/^newswire_deliveries_total 1$/m);
    expect(text).toMatch(/^newswire_api_writes_total\{action="publish",outcome="appended"\} 1$/m);
    expect(text).toMatch(/^newswire_publish_duration_seconds_count\{action="publish"\} 1$/m);
    expect(text).toContain('newswire_slow_consumer_closes_total 0');
    await client.close();
    await server.stop();
  });

  it('serves metrics only with METRICS_TOKEN, or to loopback clients when none is set', async () => {
    const guarded = await startServer({ env: { METRICS_TOKEN: 'metrics-token-0123456789', TRUST_PROXY: 'loopback' } });
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
    const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    await guarded.stop();
    // Without a token: a request forwarded by a proxy is not a loopback client, whatever its TCP peer.
    const open = await startServer({ env: { TRUST_PROXY: 'loopback' } });
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    const proxied = await fetch(`${open.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect((await proxied.json()).error.message).toContain('METRICS_TOKEN');
    // Type definitions are text, not scripts.
    const types = await fetch(`${open.url}/assets/client.d.ts`);
    expect(types.status).toBe(200);
    expect(types.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(types.headers.get('x-content-type-options')).toBe('nosniff');
    await open.stop();
  });

  it('renders the latest items on the first paint, escaped, with feed links', async () => {
    const server = await startServer();
    await api(server, 'POST', '/api/v1/items', newItem({ headline: '<img src=x onerror=alert(1)> Quake', topics: ['page'] }));
    const res = await fetch(`${server.url}/?topics=page`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; Quake');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('<link rel="alternate" type="application/rss+xml"');
    expect((await fetch(`${server.url}/?topics=BAD!`)).status).toBe(400);
    await server.stop();
  });
});

describe('graceful shutdown', () => {
  it('closes WebSockets with 1001 on SIGTERM and exits cleanly, keeping what was acknowledged', async () => {
    const server = await startServer();
    const client = await TestClient.connect(server.wsUrl);
    await client.waitForType('welcome');
    const published = await api(server, 'POST', '/api/v1/items', newItem());
    await client.waitForEvents(1);
    const exit = server.stop();
    expect(await client.closed).toBe(1001);
    expect(await exit).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
    const again = await startServer({ dataDir: server.dataDir });
    expect((await api(again, 'GET', `/api/v1/items/${published.body.item.id}`)).status).toBe(200);
    await again.stop();
  });

  it('still stops on SIGTERM when nothing reads its logs any more', async () => {
    // A log shipper that died leaves stdout a broken pipe: the last lines
    // cannot be written, and that must not keep the process from exiting.
    const server = await startServer();
    server.process.stdout?.destroy();
    server.process.stderr?.destroy();
    const started = Date.now();
    await server.stop();
    // Ended by itself, not killed after the wait: an exit code, or the
    // broken pipe's own signal once Node restores its default at exit.
    expect([null, 'SIGPIPE']).toContain(server.process.signalCode);
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
