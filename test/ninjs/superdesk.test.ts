// Superdesk's HTTP Push transmitter against a real server: the exact
// sequence of requests http_push.py sends, signed with the destination's
// secret token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemIdForUri } from '../../src/ninjs/in.ts';
import { http } from '../support/http.ts';
import { api, cleanup, newItem, startServer, TOKEN, type TestServer } from '../support/server.ts';
import { expectValidNinjs, JPEG, multipart, PNG, pythonDumps, signature, superdeskTransmit } from './support.ts';

const SECRET = 'superdesk-destination-secret-token';
const GUID = 'urn:newsml:localhost:5000:2026-11-30T18:00:00.000000:9f0c2b4e-flood';
const ORIGINAL = '20261130180000/9a836848c3c3387a151dbed96e83b7d5.jpg';
const THUMBNAIL = '20261130180000/a0502320d6d07dd921253171e971943a.png';

/** A text item with a feature picture, as Superdesk's ninjs formatter writes it. */
function superdeskItem(version: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    guid: GUID,
    type: 'text',
    version: String(version),
    versioncreated: new Date().toISOString(),
    firstcreated: '2026-11-30T18:00:00+0000',
    pubstatus: 'usable',
    urgency: 2,
    priority: 2,
    headline: 'Floods cut off Zürich suburbs',
    description_text: 'Rivers burst their banks overnight.',
    body_html: '<p>Rescue teams are on their way.</p>',
    byline: 'Desk',
    language: 'en',
    source: 'Newsroom',
    subject: [{ code: '06000000', name: 'environment', scheme: 'subject_custom' }],
    associations: {
      featuremedia: {
        guid: 'urn:newsml:localhost:5000:picture-1',
        type: 'picture',
        headline: 'Flooded street',
        description_text: 'A flooded street in Zürich',
        renditions: {
          original: { href: 'http://localhost:5000/api/upload-raw/original.jpg', media: ORIGINAL, mimetype: 'image/jpeg', width: 1, height: 1 },
          thumbnail: { href: 'http://localhost:5000/api/upload-raw/thumb.png', media: THUMBNAIL, mimetype: 'image/png', width: 1, height: 1 },
        },
      },
    },
    ...fields,
  };
}

/** A JSON item POSTed as Superdesk pushes it, with `sig` as its signature header (none when undefined). */
function pushItem(server: TestServer, data: string, sig: string | undefined): Promise<Response> {
  return fetch(`${server.url}/api/v1/superdesk/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(sig ? { 'x-superdesk-signature': sig } : {}) },
    body: data,
  });
}

describe('Superdesk HTTP Push', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { SUPERDESK_SECRET: SECRET, MEDIA_MAX_BYTES: '4096' } });
  });
  afterAll(cleanup);

  it('takes a publish with its pictures, a correction and a kill, exactly as http_push.py sends them', async () => {
    const files = { [ORIGINAL]: JPEG, [THUMBNAIL]: PNG };
    const first = await superdeskTransmit(server.url, SECRET, superdeskItem(1), files);
    expect(first.map((step) => `${step.method} ${step.status}`)).toEqual(['GET 404', 'POST 201', 'GET 404', 'POST 201', 'POST 201']);
    const id = itemIdForUri(GUID);
    const published = first.at(-1)?.body;
    expect(published.item).toMatchObject({ id, version: 1, priority: 'bulletin', headline: 'Floods cut off Zürich suburbs', topics: ['environment'] });
    // The picture is our copy of the original rendition, on a stable URL of ours.
    const imageUrl: string = published.item.image.url;
    expect(imageUrl).toMatch(new RegExp(`^${server.url}/media/[A-Za-z0-9_-]{22}\\.jpg$`));
    expect(published.item.image.alt).toBe('A flooded street in Zürich');
    const served = await fetch(imageUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).equals(JPEG)).toBe(true);

    // The correction: the media are there now (200), only the item is pushed.
    const correction = await superdeskTransmit(server.url, SECRET, superdeskItem(2, { headline: 'Floods cut off Zürich suburbs, two missing', ednote: 'Adds missing people' }), files);
    expect(correction.map((step) => `${step.method} ${step.status}`)).toEqual(['GET 200', 'GET 200', 'POST 201']);
    expect(correction[0]?.body.href).toBe(imageUrl);
    expect(correction.at(-1)?.body.item).toMatchObject({ id, version: 2, changeNote: 'Adds missing people', image: { url: imageUrl } });

    // Superdesk retries a push it thinks failed: a replay is acknowledged (201) without a new event.
    const replay = await superdeskTransmit(server.url, SECRET, superdeskItem(2, { headline: 'Floods cut off Zürich suburbs, two missing' }), files);
    expect(replay.at(-1)).toMatchObject({ status: 201, body: { unchanged: true } });

    const ninjs = await (await fetch(`${server.url}/api/v1/items/${encodeURIComponent(id)}`, { headers: { accept: 'application/ninjs+json' } })).json();
    expectValidNinjs(ninjs);
    expect(ninjs.associations[0].renditions[0]).toEqual({ name: 'original', href: imageUrl, contenttype: 'image/jpeg' });

    const kill = await superdeskTransmit(server.url, SECRET, superdeskItem(3, { pubstatus: 'canceled', ednote: 'Kill: legal' }), files);
    expect(kill.at(-1)).toMatchObject({ status: 201, body: { item: { status: 'retracted', reason: 'Kill: legal' } } });
    expect((await api(server, 'GET', `/api/v1/items/${encodeURIComponent(id)}`)).status).toBe(410);
  });

  it('refuses a bad signature with 403 and stores nothing', async () => {
    const guid = 'urn:newsml:localhost:5000:forged';
    const data = pythonDumps({ guid, headline: 'Forged', version: '1' });
    for (const sig of [signature('another-secret-entirely', data), undefined, 'sha1=zz']) {
      const res = await pushItem(server, data, sig);
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe('bad-signature');
    }
    // Signed over other bytes: the same JSON re-serialised is not what was signed.
    const res = await pushItem(server, data, signature(SECRET, JSON.stringify(JSON.parse(data))));
    expect(res.status).toBe(403);
    expect((await api(server, 'GET', `/api/v1/items/${encodeURIComponent(itemIdForUri(guid))}`)).status).toBe(404);

    const form = new FormData();
    form.append('media_id', 'forged/picture.png');
    form.append('media', new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'picture.png');
    const upload = await fetch(`${server.url}/api/v1/superdesk/assets`, { method: 'POST', body: form, headers: { 'x-superdesk-signature': signature(SECRET, 'not the body') } });
    expect(upload.status).toBe(403);
    expect((await fetch(`${server.url}/api/v1/superdesk/assets/forged/picture.png`)).status).toBe(404);
  });

  it('refuses an upload over MEDIA_MAX_BYTES, a file that is no image, and a media id that is a path', async () => {
    const upload = async (mediaId: string, bytes: Buffer, type: string) => {
      const encoded = await multipart({ media_id: mediaId, media: [new Blob([new Uint8Array(bytes)], { type }), 'file'] });
      const res = await fetch(`${server.url}/api/v1/superdesk/assets`, {
        method: 'POST',
        headers: { 'content-type': encoded.type, 'x-superdesk-signature': signature(SECRET, encoded.bytes) },
        body: encoded.bytes,
      });
      return { status: res.status, body: await res.json() };
    };
    const big = Buffer.concat([PNG, Buffer.alloc(5000)]);
    const tooBig = await upload('big/picture.png', big, 'image/png');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload-too-large');

    const html = await upload('fake/picture.jpg', Buffer.from('<html><script>alert(1)</script></html>'), 'image/jpeg');
    expect(html.status).toBe(415);
    expect(html.body.error.fields).toEqual([{ path: 'media', message: 'is not a JPEG, PNG, WebP or GIF image' }]);
    expect((await fetch(`${server.url}/api/v1/superdesk/assets/fake/picture.jpg`)).status).toBe(404);

    const traversal = await upload('../../etc/passwd', PNG, 'image/png');
    expect(traversal.status).toBe(400);
    expect(traversal.body.error.fields[0].path).toBe('media_id');
    expect((await fetch(`${server.url}/api/v1/superdesk/assets/..%2F..%2Fetc%2Fpasswd`)).status).toBe(400);
    expect((await fetch(`${server.url}/media/..%2Fnewswire.db`)).status).toBe(404);
  });

  it('refuses an item body over MAX_BODY_BYTES', async () => {
    const data = pythonDumps(superdeskItem(1, { guid: 'urn:big', body_html: `<p>${'x'.repeat(600_000)}</p>` }));
    const res = await pushItem(server, data, signature(SECRET, data));
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload-too-large');
  });
});

describe('Superdesk signatures and bearer tokens', () => {
  afterAll(cleanup);

  it('count against one failure budget per address', async () => {
    const server = await startServer({ env: { SUPERDESK_SECRET: SECRET, AUTH_FAILURES_PER_MINUTE: '3' } });
    const data = pythonDumps(superdeskItem(1, { guid: 'urn:budget' }));
    const push = (from: string, sig: string) =>
      http(`${server.url}/api/v1/superdesk/items`, { method: 'POST', from, headers: { 'content-type': 'application/json', 'x-superdesk-signature': sig }, body: data });
    const publish = (from: string, token: string) =>
      http(`${server.url}/api/v1/items`, {
        method: 'POST',
        from,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(newItem()),
      });

    // Bad signatures spend the address's budget: then a bearer token is refused there too, even a valid one.
    for (let i = 0; i < 3; i++) expect((await push('127.0.0.70', 'sha1=00')).status).toBe(403);
    const refused = await publish('127.0.0.70', TOKEN);
    expect(refused.status).toBe(429);
    expect(refused.json().error.code).toBe('too-many-auth-failures');
    // And the other way round: guessed tokens spend it, and a correct signature is refused.
    for (let i = 0; i < 3; i++) expect((await publish('127.0.0.71', `guess-${i}-0123456789abcdef`)).status).toBe(403);
    const signedButRefused = await push('127.0.0.71', signature(SECRET, data));
    expect(signedButRefused.status).toBe(429);
    expect(signedButRefused.json().error.message).toMatch(/retry with a valid signature/);
    expect(Number(signedButRefused.headers['retry-after'])).toBeGreaterThan(0);
    // An address that never failed: both work.
    expect((await push('127.0.0.72', signature(SECRET, data))).status).toBe(201);
    expect((await publish('127.0.0.72', TOKEN)).status).toBe(201);
  });
});

describe('Superdesk endpoints without SUPERDESK_SECRET', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(cleanup);

  it('do not exist', async () => {
    const data = pythonDumps({ guid: 'urn:x', headline: 'x' });
    const res = await pushItem(server, data, signature('', data));
    expect(res.status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/superdesk/assets/a.jpg`)).status).toBe(404);
  });
});
