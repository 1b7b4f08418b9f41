import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, startServer, type TestServer } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';

const seed = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));

describe('publish reaches a live WebSocket', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(cleanup);

  it('delivers the seed story to a subscriber of one of its topics', async () => {
    const client = await TestClient.connect(server.wsUrl, { topics: ['ukraine'] });
    await client.waitForType('welcome');
    const res = await api(server, 'POST', '/api/v1/items', seed.publish);
    expect(res.status).toBe(201);
    const [event] = await client.waitForEvents(1);
    expect(event?.event).toBe('published');
    expect(event?.item?.id).toBe(seed.publish.id);
    expect(event?.cursor).toBe(res.body.cursor);
    await client.close();
  });
});
