// Items out as IPTC ninjs 2.1, checked by ajv against the IPTC's own schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { expectValidNinjs, isValidNinjs } from './support.ts';

async function ninjs(server: TestServer, path: string, init: { token?: string | null; accept?: boolean } = {}) {
  const headers: Record<string, string> = {};
  if (init.accept !== false) headers.accept = 'application/ninjs+json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

describe('items as ninjs 2.1', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(cleanup);

  it('the validator is the real schema: 1.x names and missing uris fail it', () => {
    expect(isValidNinjs({ uri: 'https://x.example/1', headline: 'a 1.x name' })).toBe(false);
    expect(isValidNinjs({ headlines: [{ value: 'no uri' }] })).toBe(false);
    expect(isValidNinjs({ uri: 'https://x.example/1', headlines: [{ value: 'ok' }] })).toBe(true);
  });

  it('maps a published item with every field, and its correction', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const { item } = await publishOk(server, {
      headline: 'Parliament votes on the budget',
      summary: 'The vote is expected tonight.',
      body: '<p>Members debated for <strong>six</strong> hours.</p>',
      topics: ['politics', 'economy'],
      priority: 'urgent',
      language: 'en-GB',
      source: 'Newswire Agency',
      byline: 'Ada Reporter',
      url: 'https://agency.example/story/1',
      image: { url: 'https://img.example/photo.jpg', alt: 'The chamber' },
      expiresAt,
    });
    const first = await ninjs(server, `/api/v1/items/${item.id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/ninjs\+json/);
    expectValidNinjs(first.body);
    expect(first.body).toMatchObject({
      uri: `${server.url}/items/${item.id}`,
      version: '1',
      pubstatus: 'usable',
      urgency: 3,
      firstcreated: item.publishedAt,
      versioncreated: item.updatedAt,
      expires: expiresAt,
      language: 'en-GB',
      headlines: [{ role: 'main', value: 'Parliament votes on the budget' }],
      descriptions: [{ role: 'summary', contenttype: 'text/plain', value: 'The vote is expected tonight.' }],
      bodies: [{ role: 'main', contenttype: 'text/html', value: '<p>Members debated for <strong>six</strong> hours.</p>' }],
      by: 'Ada Reporter',
      copyrightholder: 'Newswire Agency',
      subjects: [
        { name: 'politics', literal: 'politics' },
        { name: 'economy', literal: 'economy' },
      ],
      associations: [
        { name: 'featureimage', type: 'picture', uri: 'https://img.example/photo.jpg', renditions: [{ name: 'original', href: 'https://img.example/photo.jpg', contenttype: 'image/jpeg' }] },
      ],
    });

    const corrected = await api(server, 'PUT', `/api/v1/items/${item.id}`, { ...newItem({ id: item.id, topics: ['politics'], priority: 'flash' }), headline: 'Parliament passes the budget', changeNote: 'The vote passed' });
    expect(corrected.status).toBe(200);
    const second = await ninjs(server, `/api/v1/items/${item.id}?format=ninjs`, { accept: false });
    expect(second.status).toBe(200);
    expectValidNinjs(second.body);
    expect(second.body).toMatchObject({ version: '2', urgency: 1, ednote: 'The vote passed', headlines: [{ value: 'Parliament passes the budget' }] });
    expect(second.body.firstcreated).toBe(item.publishedAt);
  });

  it('maps an item without optional fields', async () => {
    const { item } = await publishOk(server, { headline: 'Short', topics: ['weather'] });
    const res = await ninjs(server, `/api/v1/items/${item.id}`);
    expectValidNinjs(res.body);
    expect(res.body.urgency).toBe(5);
    for (const absent of ['descriptions', 'bodies', 'by', 'associations', 'embargoed', 'expires', 'language', 'ednote']) expect(res.body).not.toHaveProperty(absent);
  });

  it('answers a killed item with pubstatus canceled and the reason, no content', async () => {
    const { item } = await publishOk(server, { headline: 'To be killed', body: '<p>Wrong</p>' });
    expect((await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'Legal: withdrawn' })).status).toBe(200);
    expect((await api(server, 'GET', `/api/v1/items/${item.id}`)).status).toBe(410);
    const res = await ninjs(server, `/api/v1/items/${item.id}`);
    expect(res.status).toBe(200);
    expectValidNinjs(res.body);
    expect(res.body).toMatchObject({ pubstatus: 'canceled', ednote: 'Legal: withdrawn', version: '2' });
    expect(res.body).not.toHaveProperty('headlines');
    expect(res.body).not.toHaveProperty('bodies');
  });

  it('shows a held item to its newsroom only, as withheld with its embargo', async () => {
    const embargo = new Date(Date.now() + 3_600_000).toISOString();
    const held = await api(server, 'POST', '/api/v1/items', newItem({ embargoUntil: embargo }));
    expect(held.status).toBe(202);
    expect((await ninjs(server, `/api/v1/items/${held.body.item.id}`)).status).toBe(404);
    const res = await ninjs(server, `/api/v1/items/${held.body.item.id}`, { token: server.token });
    expect(res.status).toBe(200);
    expectValidNinjs(res.body);
    expect(res.body).toMatchObject({ pubstatus: 'withheld', embargoed: embargo });
  });

  it('lists a topic as ninjs, newest first, with the cursor', async () => {
    const a = await publishOk(server, { topics: ['ninjs-list'], headline: 'First' });
    const b = await publishOk(server, { topics: ['ninjs-list'], headline: 'Second' });
    const res = await ninjs(server, '/api/v1/items?topic=ninjs-list&format=ninjs');
    expect(res.status).toBe(200);
    expect(res.body.cursor).toBe(b.cursor);
    expect(res.body.items.map((doc: any) => doc.uri)).toEqual([`${server.url}/items/${b.item.id}`, `${server.url}/items/${a.item.id}`]);
    for (const doc of res.body.items) expectValidNinjs(doc);
    const bad = await ninjs(server, '/api/v1/items?topic=Not%20A%20Topic&format=ninjs&limit=5000');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: any) => f.path).sort()).toEqual(['limit', 'topic']);
    // Without asking for ninjs, the list is still our cards.
    const plain = await api(server, 'GET', '/api/v1/items?topic=ninjs-list');
    expect(plain.body.items[0].headline).toBe('Second');
    expect(plain.headers.get('vary')).toMatch(/Accept/);
    expect(res.headers.get('vary')).toMatch(/Accept/);
    const one = await api(server, 'GET', `/api/v1/items/${a.item.id}`);
    expect(one.body.item.headline).toBe('First');
    expect(one.headers.get('vary')).toMatch(/Accept/);
  });

  it('answers an unknown id with our 404', async () => {
    const res = await ninjs(server, '/api/v1/items/nope-nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not-found');
  });
});
