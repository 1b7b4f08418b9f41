// What an anonymous client chooses (Host, topics in URLs) never selects new
// work or memory without bound: feeds are rendered once per (topic, format),
// never per Host, and the caches stay within their bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, rssMb } from '../support/http.ts';
import { metric } from '../support/metrics.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

afterAll(cleanup);

describe('feeds under made-up hosts and topics', () => {
  let server: TestServer;
  beforeAll(async () => {
    // No PUBLIC_URL (development): the first request's host is taken once, and kept.
    server = await startServer({
      env: { FEED_CACHE_BYTES: '8388608', MAX_BODY_BYTES: '400000', CONNECTIONS_PER_SECOND_PER_ADDRESS: '10000', HTTP_RATE_PER_10S: '100000' },
    });
    const body = `<p>${'Long report. '.repeat(7_000)}</p>`;
    for (let i = 0; i < 30; i++) expect((await api(server, 'POST', '/api/v1/items', newItem({ body, topics: ['world'] }))).status).toBe(201);
  }, 60_000);

  it('renders one feed for any number of Host headers, with links to one origin', async () => {
    const first = await http(`${server.url}/feeds/all.rss`, { headers: { host: `news.localhost:${server.port}` } });
    expect(first.status).toBe(200);
    const before = rssMb(server.process.pid as number);
    const replies = await Promise.all(
      Array.from({ length: 150 }, (_, i) => http(`${server.url}/feeds/all.rss`, { headers: { host: `evil-${i}.example:${server.port}` } })),
    );
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(first.body);
    }
    // The first request this process ever got (a publish, in the set-up) settled its origin.
    expect(first.body).toContain(`${server.url}/`);
    expect(first.body).not.toMatch(/news\.localhost|evil-/);
    expect(await metric(server, 'newswire_feed_renders_total{format="rss"}', NaN)).toBe(1);
    expect(rssMb(server.process.pid as number) - before).toBeLessThan(100);
  });

  it('keeps the feed cache within its bytes however many topics are asked for', async () => {
    const before = rssMb(server.process.pid as number);
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => http(`${server.url}/feeds/made-up-${round}-${i}.json`)));
    }
    // The one topic with big items, over and over between them.
    for (let i = 0; i < 5; i++) expect((await http(`${server.url}/feeds/world.atom`)).status).toBe(200);
    expect(await metric(server, 'newswire_cache_bytes{cache="feeds"}', NaN)).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(rssMb(server.process.pid as number) - before).toBeLessThan(150);
  });
});
