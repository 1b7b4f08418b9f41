// Configuration at start, health, metrics, pages and graceful shutdown.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, tempDir } from '../support/server.ts';
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
  it('stops at start with a message naming each bad variable', () => {
    const result = runWithEnv({ PORT: 'eighty', REDIS_URL: 'http://x', WS_MAX_TOPICS: '0', PUBLIC_URL: 'not a url' });
    expect(result.status).toBe(78);
    for (const name of ['PORT', 'REDIS_URL', 'WS_MAX_TOPICS', 'PUBLIC_URL']) expect(result.stderr).toContain(`${name}:`);
  });

  it('refuses to start in production without publisher tokens', () => {
    const result = runWithEnv({ NODE_ENV: 'production' });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('PUBLISHER_TOKENS');
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
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^newswire_ws_connections 1$/m);
    expect(text).toMatch(/^newswire_events_total\{type="published"\} 1$/m);
    expect(text).toMatch(/^newswire_deliveries_total 1$/m);
    expect(text).toMatch(/^newswire_api_writes_total\{action="publish",outcome="appended"\} 1$/m);
    expect(text).toMatch(/^newswire_publish_duration_seconds_count\{action="publish"\} 1$/m);
    expect(text).toContain('newswire_slow_consumer_closes_total 0');
    await client.close();
    await server.stop();
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
});
