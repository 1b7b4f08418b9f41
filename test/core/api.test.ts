// The newsroom API: every write path and every class of bad input.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

const seed = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { MAX_BODY_BYTES: '300000' } });
});
afterAll(cleanup);

describe('publish', () => {
  it('returns 201 with the item, server fields and a cursor', async () => {
    const res = await api(server, 'POST', '/api/v1/items', seed.publish);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/v1/items/${seed.publish.id}`);
    const { item, cursor } = res.body;
    expect(item).toMatchObject({
      id: seed.publish.id,
      headline: seed.publish.headline,
      topics: seed.publish.topics,
      priority: 'urgent',
      version: 1,
      status: 'published',
      source: 'Bangkok One News',
    });
    expect(Date.parse(item.publishedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(item.updatedAt).toBe(item.publishedAt);
    expect(cursor).toMatch(/^[a-z0-9]+-\d+$/);
    // Plain-text body paragraphs become HTML paragraphs.
    expect(item.body.startsWith('<p>Volodymyr Zelensky')).toBe(true);
  });

  it('treats a retry with the same content as idempotent: 200 and no new event', async () => {
    const body = newItem();
    const first = await api(server, 'POST', '/api/v1/items', body);
    expect(first.status).toBe(201);
    const retry = await api(server, 'POST', '/api/v1/items', body);
    expect(retry.status).toBe(200);
    expect(retry.body.item).toEqual(first.body.item);
    const next = await api(server, 'POST', '/api/v1/items', newItem());
    // Exactly one seq was used between the two publishes: the retry appended nothing.
    const seq = (c: string) => Number(c.split('-')[1]);
    expect(seq(next.body.cursor)).toBe(seq(first.body.cursor) + 1);
  });

  it('answers 409 for an existing id with other content', async () => {
    const body = newItem();
    expect((await api(server, 'POST', '/api/v1/items', body)).status).toBe(201);
    const res = await api(server, 'POST', '/api/v1/items', { ...body, headline: 'Something else' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(res.body.error.item.headline).toBe(body.headline);
  });

  it('makes an id when none is given and defaults priority to routine', async () => {
    const res = await api(server, 'POST', '/api/v1/items', { headline: 'No id', topics: ['local'] });
    expect(res.status).toBe(201);
    expect(res.body.item.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.item.priority).toBe('routine');
  });

  it('sanitizes body HTML to the allowlist', async () => {
    const res = await api(server, 'POST', '/api/v1/items', newItem({
      body: '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(1)">x</a><a href="https://example.com">ok</a><img src=x onerror=alert(1)><iframe src="https://evil"></iframe></p>',
    }));
    expect(res.status).toBe(201);
    const body: string = res.body.item.body;
    expect(body).not.toMatch(/script|onclick|onerror|javascript:|iframe/i);
    expect(body).toContain('<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>');
  });

  it('gives field-by-field reasons for invalid items', async () => {
    const res = await api(server, 'POST', '/api/v1/items', {
      id: 'bad id with spaces',
      headline: '   ',
      url: 'javascript:alert(1)',
      topics: ['Not A Slug', 'all'],
      priority: 'breaking',
      language: 'english!',
      image: { url: 'ftp://x/y.png' },
      embargoUntil: 'tomorrow',
      extra: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid-request');
    const paths = res.body.error.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining(['id', 'headline', 'url', 'topics.0', 'topics', 'priority', 'language', 'image.url', 'image.alt', 'embargoUntil']),
    );
    expect(res.body.error.fields.find((f: { path: string }) => f.path === 'url').message).toMatch(/http or https/);
  });

  it('rejects missing topics, too many topics, a too-long headline and unknown fields', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ headline: 'x' }, 'topics'],
      [{ headline: 'x', topics: [] }, 'topics'],
      [{ headline: 'x', topics: Array.from({ length: 13 }, (_, i) => `t${i}`) }, 'topics'],
      [{ headline: 'x'.repeat(301), topics: ['a'] }, 'headline'],
      [{ headline: 'x', topics: ['a'], version: 5 }, '(body)'],
      [{ headline: 'x', topics: ['a'], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ headline: 'x', topics: ['a'], embargoUntil: '2999-01-01T00:00:00Z', expiresAt: '2998-01-01T00:00:00Z' }, 'expiresAt'],
    ];
    for (const [body, path] of cases) {
      const res = await api(server, 'POST', '/api/v1/items', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.error.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
  });

  it('rejects a body that is not JSON, not an object, or too large', async () => {
    const notJson = await api(server, 'POST', '/api/v1/items', '{"headline":', {});
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid-json');
    const wrongType = await api(server, 'POST', '/api/v1/items', 'headline=x', { headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
    const array = await api(server, 'POST', '/api/v1/items', [1, 2]);
    expect(array.status).toBe(400);
    const huge = await api(server, 'POST', '/api/v1/items', newItem({ body: 'x'.repeat(400_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload-too-large');
  });
});

describe('authentication', () => {
  it('answers 401 without a bearer token and 403 with a wrong one', async () => {
    const none = await api(server, 'POST', '/api/v1/items', newItem(), { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const basic = await api(server, 'POST', '/api/v1/items', newItem(), {
      token: null,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.status).toBe(401);
    const wrong = await api(server, 'POST', '/api/v1/items', newItem(), { token: 'x'.repeat(31) });
    expect(wrong.status).toBe(403);
    for (const [method, path] of [['PUT', '/api/v1/items/a'], ['DELETE', '/api/v1/items/a?reason=x']] as const) {
      expect((await api(server, method, path, { headline: 'x', topics: ['a'] }, { token: null })).status).toBe(401);
    }
  });
});

describe('update and retract', () => {
  it('corrects an item: new version, change note, same publishedAt', async () => {
    const created = await api(server, 'POST', '/api/v1/items', newItem({ id: 'story-to-correct' }));
    const { id: _id, ...rest } = seed.update;
    const res = await api(server, 'PUT', '/api/v1/items/story-to-correct', rest);
    expect(res.status).toBe(200);
    expect(res.body.item).toMatchObject({
      id: 'story-to-correct',
      version: 2,
      changeNote: 'Adds the White House reaction',
      publishedAt: created.body.item.publishedAt,
      status: 'published',
    });
    expect(Date.parse(res.body.item.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.item.publishedAt));
    const again = await api(server, 'PUT', '/api/v1/items/story-to-correct', rest);
    expect(again.status).toBe(200);
    expect(again.body.item.version).toBe(2);
    const got = await api(server, 'GET', '/api/v1/items/story-to-correct');
    expect(got.body.item.version).toBe(2);
  });

  it('rejects an update whose body id differs from the path, or a bad change note', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'story-mismatch' }));
    const res = await api(server, 'PUT', '/api/v1/items/story-mismatch', {
      id: 'other',
      headline: 'x',
      topics: ['a'],
      changeNote: 5,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['changeNote', 'id']);
  });

  it('answers 404 for an unknown id', async () => {
    expect((await api(server, 'PUT', '/api/v1/items/nope', { headline: 'x', topics: ['a'] })).status).toBe(404);
    expect((await api(server, 'DELETE', '/api/v1/items/nope?reason=x')).status).toBe(404);
    expect((await api(server, 'GET', '/api/v1/items/nope')).status).toBe(404);
  });

  it('retracts with a reason, then answers 410 Gone for everything about it', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'story-to-kill' }));
    const noReason = await api(server, 'DELETE', '/api/v1/items/story-to-kill');
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.fields[0].path).toBe('reason');
    const res = await api(server, 'DELETE', '/api/v1/items/story-to-kill', { reason: 'Legal: withdrawn' });
    expect(res.status).toBe(200);
    expect(res.body.cursor).toMatch(/-\d+$/);
    expect(res.body.item).toMatchObject({ id: 'story-to-kill', status: 'retracted', reason: 'Legal: withdrawn' });
    const get = await api(server, 'GET', '/api/v1/items/story-to-kill');
    expect(get.status).toBe(410);
    expect(get.body.error.item.reason).toBe('Legal: withdrawn');
    expect((await api(server, 'PUT', '/api/v1/items/story-to-kill', { headline: 'x', topics: ['a'] })).status).toBe(410);
    expect((await api(server, 'DELETE', '/api/v1/items/story-to-kill?reason=again')).status).toBe(410);
    expect((await api(server, 'POST', '/api/v1/items', { id: 'story-to-kill', headline: 'x', topics: ['a'] })).status).toBe(410);
    const list = await api(server, 'GET', '/api/v1/items?limit=100');
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain('story-to-kill');
  });

  it('takes the reason from the query when the body is empty, whatever its Content-Type says', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'kill-by-query' }));
    // As curl sends it: a JSON type, no body, no Content-Length.
    const res = await api(server, 'DELETE', '/api/v1/items/kill-by-query?reason=Legal%20hold', undefined, {
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.body.item).toMatchObject({ status: 'retracted', reason: 'Legal hold' });
    // A body that is there and not JSON is still an error.
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'kill-bad-json' }));
    const bad = await api(server, 'DELETE', '/api/v1/items/kill-bad-json?reason=x', '{nope', { headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid-json');
  });
});

describe('text and links as stored', () => {
  it('stores URLs in their normal form and refuses control characters, spaces and credentials in them', async () => {
    const normal = await api(server, 'POST', '/api/v1/items', newItem({ url: 'HTTP://News.Example.com/a/../b?q=1#top', image: { url: 'http:/\\cdn.example.com/p.jpg', alt: 'A' } }));
    expect(normal.status).toBe(201);
    expect(normal.body.item.url).toBe('http://news.example.com/b?q=1#top');
    expect(normal.body.item.image.url).toBe('http://cdn.example.com/p.jpg');
    for (const url of ['https://example.com/a\r\nSet-Cookie: x=1', 'https://exa\tmple.com/', 'https://example.com/a b', 'https://user:pw@example.com/', 'javascript:alert(1)', '//example.com/x']) {
      const res = await api(server, 'POST', '/api/v1/items', newItem({ url }));
      expect(res.status, url).toBe(400);
      expect(res.body.error.fields[0].path).toBe('url');
    }
    // What the API gave back is what feeds and pages carry.
    const feed = await (await fetch(`${server.url}/feeds/world.json`)).json();
    expect(feed.items.find((i: { id: string }) => i.id.endsWith(normal.body.item.id))?.external_url).toBe('http://news.example.com/b?q=1#top');
  });

  it('removes bidirectional overrides and C1 controls from text', async () => {
    const res = await api(server, 'POST', '/api/v1/items', newItem({ headline: 'Price \u202Efdp.exe\u202C rises \u2066now\u2069\u0085\u009B', summary: 'A\u200Fb' }));
    expect(res.status).toBe(201);
    expect(res.body.item.headline).toBe('Price fdp.exe rises now');
    // Marks that only set direction (RLM) stay: right-to-left languages need them.
    expect(res.body.item.summary).toBe('A\u200Fb');
  });
});

describe('reading', () => {
  it('lists live items newest first, by topic, with a limit', async () => {
    const a = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['list-topic'] }));
    const b = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['list-topic', 'other'] }));
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['unrelated'] }));
    const res = await api(server, 'GET', '/api/v1/items?topic=list-topic&limit=10');
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([b.body.item.id, a.body.item.id]);
    const one = await api(server, 'GET', '/api/v1/items?topic=list-topic&limit=1');
    expect(one.body.items).toHaveLength(1);
    const bad = await api(server, 'GET', '/api/v1/items?topic=Bad!&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['limit', 'topic']);
  });

  it('lists cards (no body) by default and whole items with detail=full', async () => {
    const res = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['detail-topic'], body: 'The whole story.' }));
    const cards = await api(server, 'GET', '/api/v1/items?topic=detail-topic');
    expect(cards.body.items[0]).toMatchObject({ id: res.body.item.id, headline: res.body.item.headline });
    expect(cards.body.items[0].body).toBeUndefined();
    expect(cards.body.cursor).toMatch(/^[a-z0-9]+-\d+$/);
    const whole = await api(server, 'GET', '/api/v1/items?topic=detail-topic&detail=full');
    expect(whole.body.items[0].body).toBe('<p>The whole story.</p>');
    const tooMany = await api(server, 'GET', '/api/v1/items?detail=full&limit=100');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.fields[0].path).toBe('limit');
    // One item: always whole.
    expect((await api(server, 'GET', `/api/v1/items/${res.body.item.id}`)).body.item.body).toBe('<p>The whole story.</p>');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await api(server, 'GET', '/api/v2/nothing');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not-found');
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the per-token budget', async () => {
    const limited = await startServer({ env: { PUBLISH_RATE_PER_MINUTE: '3' } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(limited, 'POST', '/api/v1/items', newItem());
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    await limited.stop();
  });
});
