// ninjs documents of all three generations in, as our events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemIdForUri } from '../../src/ninjs/in.ts';
import { api, cleanup, startServer, type TestServer } from '../support/server.ts';
import { expectValidNinjs } from './support.ts';

const TOPIC_MAP = JSON.stringify({ 'http://cv.iptc.org/newscodes/mediatopic/11000000': 'politics', 'subject:15000000': 'sport', '*': 'wire' });

describe('ninjs in', () => {
  let server: TestServer;
  /** The log's head: unchanged when no event was appended. */
  const head = async () => (await api(server, 'GET', '/api/v1/items?limit=1')).body.cursor as string;
  const push = (doc: unknown, token?: string | null) => api(server, 'POST', '/api/v1/ninjs', doc, { token });

  beforeAll(async () => {
    server = await startServer({ env: { NINJS_TOPIC_MAP: TOPIC_MAP } });
  });
  afterAll(cleanup);

  it('takes a 1.x document (guid, headline, body_html, subject) as a publish', async () => {
    const doc = {
      guid: 'urn:newsml:agency.example:2026:quake-1',
      type: 'text',
      version: '1',
      pubstatus: 'usable',
      urgency: 1,
      headline: 'Earthquake shakes the capital',
      description_text: 'A strong earthquake was felt.',
      body_html: '<p>Buildings swayed.</p><script>alert(1)</script>',
      byline: 'Staff',
      language: 'en',
      subject: [{ code: '15000000', scheme: 'subject', name: 'sport' }, { code: '06000000', name: 'Environmental issue' }],
      keywords: ['Breaking'],
    };
    const res = await push(doc);
    expect(res.status).toBe(201);
    expect(res.body.item).toMatchObject({
      id: 'urn:newsml:agency.example:2026:quake-1',
      version: 1,
      priority: 'flash',
      headline: 'Earthquake shakes the capital',
      summary: 'A strong earthquake was felt.',
      body: '<p>Buildings swayed.</p>',
      byline: 'Staff',
      topics: ['sport', 'environmental-issue', 'breaking'],
    });
    expect(res.headers.get('location')).toBe(`/api/v1/items/${encodeURIComponent(res.body.item.id)}`);
  });

  it('takes a 2.x document, a correction by a higher version, and ignores replays and older versions', async () => {
    const uri = 'https://agency.example/items/2026/budget vote';
    const doc = {
      uri,
      version: '1',
      urgency: 3,
      headlines: [{ role: 'main', value: 'Budget vote tonight' }],
      descriptions: [{ role: 'summary', value: 'Members will vote.' }],
      bodies: [{ contenttype: 'text/html', value: '<p>The vote is at eight.</p>' }],
      subjects: [{ uri: 'http://cv.iptc.org/newscodes/mediatopic/11000000', name: 'politics' }],
      infosources: [{ name: 'Agency' }],
      expires: new Date(Date.now() + 86_400_000).toISOString(),
    };
    const first = await push(doc);
    expect(first.status).toBe(201);
    const id = itemIdForUri(uri);
    expect(first.body.item).toMatchObject({ id, priority: 'urgent', topics: ['politics'], source: 'Agency', version: 1 });

    const correction = await push({ ...doc, version: '2', headlines: [{ role: 'main', value: 'Budget passes' }], ednote: 'Result in' });
    expect(correction.status).toBe(200);
    expect(correction.body.item).toMatchObject({ id, version: 2, headline: 'Budget passes', changeNote: 'Result in' });
    expect(correction.body.cursor).not.toBe(first.body.cursor);

    const before = await head();
    for (const replay of [{ ...doc, version: '2', headlines: [{ value: 'Budget passes' }] }, doc]) {
      const res = await push(replay);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ unchanged: true, ninjs: { uri, lastVersion: 2 }, item: { version: 2, headline: 'Budget passes' } });
    }
    expect(await head()).toBe(before);

    // What went in comes out as valid ninjs under our own uri.
    const out = await fetch(`${server.url}/api/v1/items/${encodeURIComponent(id)}?format=ninjs`);
    const ninjs = await out.json();
    expectValidNinjs(ninjs);
    expect(ninjs).toMatchObject({ version: '2', urgency: 3, ednote: 'Result in' });
  });

  it('takes a 3.x document (camelCase) and its pubStatus canceled as a kill', async () => {
    const uri = 'urn:uuid:6b4c0f8e-3.x-story';
    const doc = {
      uri,
      version: '1',
      pubStatus: 'usable',
      firstCreated: '2026-11-30T10:00:00Z',
      versionCreated: '2026-11-30T10:00:00Z',
      headlines: [{ value: 'Minister resigns' }],
      copyrightHolder: 'Agency',
      subjects: [{ name: 'Politique intérieure' }],
    };
    const res = await push(doc);
    expect(res.status).toBe(201);
    expect(res.body.item).toMatchObject({ id: uri, source: 'Agency', topics: ['politique-interieure'] });

    const kill = await push({ uri, version: '2', pubStatus: 'canceled', edNote: 'Wrong person named' });
    expect(kill.status).toBe(200);
    expect(kill.body.item).toMatchObject({ status: 'retracted', reason: 'Wrong person named' });
    expect((await api(server, 'GET', `/api/v1/items/${encodeURIComponent(uri)}`)).status).toBe(410);

    const before = await head();
    const again = await push({ uri, version: '3', pubStatus: 'canceled' });
    expect(again.status).toBe(200);
    expect(again.body.unchanged).toBe(true);
    expect(await head()).toBe(before);
    const unknown = await push({ uri: 'urn:never-seen', pubstatus: 'canceled' });
    expect(unknown.status).toBe(404);
  });

  it('holds a withheld document until a usable version releases it', async () => {
    const uri = 'urn:agency:withheld-1';
    const held = await push({ uri, version: '1', pubstatus: 'withheld', headlines: [{ value: 'Results under embargo' }] });
    expect(held.status).toBe(202);
    expect(held.body.item).toMatchObject({ status: 'scheduled', embargoUntil: '9999-12-31T00:00:00.000Z' });
    expect((await api(server, 'GET', `/api/v1/items/${encodeURIComponent(uri)}`, undefined, { token: null })).status).toBe(404);

    const embargo = new Date(Date.now() + 3_600_000).toISOString();
    const still = await push({ uri, version: '2', pubstatus: 'withheld', embargoed: embargo, headlines: [{ value: 'Results under embargo' }] });
    expect(still.status).toBe(200);
    expect(still.body.item).toMatchObject({ status: 'scheduled', embargoUntil: embargo });

    const released = await push({ uri, version: '3', pubstatus: 'usable', headlines: [{ value: 'Results are out' }] });
    expect(released.status).toBe(200);
    expect(released.body.item).toMatchObject({ status: 'published', version: 1, headline: 'Results are out' });
    expect(released.body.cursor).toBeTruthy();
    // Readers have it now: withheld can no longer take it back.
    const late = await push({ uri, version: '4', pubstatus: 'withheld', headlines: [{ value: 'x' }] });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('already-published');
  });

  it('gives the fallback topic when no subject maps to one', async () => {
    const res = await push({ uri: 'urn:agency:no-subjects', headlines: [{ value: 'Plain' }] });
    expect(res.status).toBe(201);
    expect(res.body.item.topics).toEqual(['wire']);
  });

  it('answers bad documents with paths into the document', async () => {
    const res = await push({ version: 'two', urgency: 12, headlines: [{ value: 7 }], pubstatus: 'gone' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid-request');
    expect(res.body.error.fields.map((f: any) => f.path).sort()).toEqual(['headlines.0.value', 'pubstatus', 'urgency', 'uri', 'version']);

    const long = await push({ uri: 'urn:agency:long', headlines: [{ value: 'x'.repeat(301) }], bodies: [{ value: 'y'.repeat(200_001) }] });
    expect(long.status).toBe(400);
    expect(long.body.error.fields.map((f: any) => f.path).sort()).toEqual(['bodies.0.value', 'headlines.0.value']);

    const noHeadline = await push({ uri: 'urn:agency:nothing' });
    expect(noHeadline.status).toBe(400);
    expect(noHeadline.body.error.fields).toEqual([{ path: 'headlines', message: 'needs a headline (1.x: headline)' }]);

    const notJson = await api(server, 'POST', '/api/v1/ninjs', '{"uri":', { headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid-json');
  });

  it('needs a publisher token, like every write', async () => {
    expect((await push({ uri: 'urn:x', headlines: [{ value: 'x' }] }, null)).status).toBe(401);
    expect((await push({ uri: 'urn:x', headlines: [{ value: 'x' }] }, 'wrong-token-0123456789')).status).toBe(403);
  });

  it('keeps the versions it took in across a restart (in the store file)', async () => {
    server = await server.restart();
    const uri = 'https://agency.example/items/2026/budget vote';
    const before = await head();
    const res = await push({ uri, version: '2', headlines: [{ value: 'Budget passes' }] });
    expect(res.body).toMatchObject({ unchanged: true, ninjs: { lastVersion: 2 } });
    expect(await head()).toBe(before);
  });
});
