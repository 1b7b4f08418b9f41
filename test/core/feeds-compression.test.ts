// Compressed feeds, pages and assets: every variant decodes to the identity
// bytes, Accept-Encoding is read with its q-values, each variant has its own
// strong ETag and any of a render's tags revalidates, HEAD says what GET
// would, and every feed response spells its header names one way. Requests
// go through node:http: fetch would decode bodies and lowercase names.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

const seed = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));
const PUBLIC_URL = 'https://news.example.org';
/** Headers a server adds per response, whatever answers. */
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

let server: TestServer;

interface Raw {
  status: number;
  /** Header names as sent, in order. */
  names: string[];
  headers: Record<string, string>;
  body: Buffer;
}

function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const names = res.rawHeaders.filter((_, i) => i % 2 === 0).filter((name) => !PER_RESPONSE.has(name.toLowerCase()));
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) flat[name] = String(value);
        resolve({ status: res.statusCode ?? 0, names, headers: flat, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const decode = (res: Raw): Buffer =>
  res.headers['content-encoding'] === 'br'
    ? brotliDecompressSync(res.body)
    : res.headers['content-encoding'] === 'gzip'
      ? gunzipSync(res.body)
      : res.body;

beforeAll(async () => {
  server = await startServer({ env: { PUBLIC_URL } });
  for (let n = 0; n < 5; n++) {
    expect((await api(server, 'POST', '/api/v1/items', { ...seed.publish, id: `zip-${n}`, topics: ['zip'] })).status).toBe(201);
  }
});
afterAll(cleanup);

describe('feed variants', () => {
  it('sends the variant Accept-Encoding picks, and each decodes to the identity bytes', async () => {
    for (const format of ['rss', 'atom', 'json']) {
      const path = `/feeds/zip.${format}`;
      const identity = await raw(path);
      expect(identity.status).toBe(200);
      expect(identity.headers['content-encoding']).toBeUndefined();
      expect(identity.headers.vary).toBe('Accept-Encoding');
      const cases: [string, string | undefined][] = [
        ['gzip', 'gzip'],
        ['x-gzip', 'gzip'],
        ['br', 'br'],
        ['gzip, deflate, br', 'br'],
        ['gzip;q=1, br;q=0.5', 'gzip'],
        ['br;q=0, gzip', 'gzip'],
        ['BR;Q=0.8, GZIP;q=0.2', 'br'],
        ['*', 'br'],
        ['identity;q=1, *;q=0.5', undefined],
        ['identity', undefined],
        ['', undefined],
        ['deflate', undefined],
        // Nothing acceptable left: the document as it is (RFC 9110 §12.5.3).
        ['identity;q=0', undefined],
        ['gzip;q=bogus', undefined],
      ];
      for (const [accept, coding] of cases) {
        const res = await raw(path, { 'accept-encoding': accept });
        expect(res.status, `${format} "${accept}"`).toBe(200);
        expect(res.headers['content-encoding'], `${format} "${accept}"`).toBe(coding);
        expect(res.headers.vary).toBe('Accept-Encoding');
        expect(Number(res.headers['content-length'])).toBe(res.body.length);
        expect(decode(res).equals(identity.body), `${format} "${accept}" decodes to the document`).toBe(true);
        if (coding) expect(res.body.length).toBeLessThan(identity.body.length * 0.35);
      }
    }
  });

  it('gives each variant its own strong ETag, and any tag of the render a 304', async () => {
    const path = '/feeds/zip.atom';
    const identity = await raw(path);
    const gzip = await raw(path, { 'accept-encoding': 'gzip' });
    const br = await raw(path, { 'accept-encoding': 'br' });
    const tag = identity.headers.etag as string;
    expect(tag).toMatch(/^"[\w-]+"$/);
    expect(gzip.headers.etag).toBe(`${tag.slice(0, -1)}-gzip"`);
    expect(br.headers.etag).toBe(`${tag.slice(0, -1)}-br"`);

    for (const [accept, held] of [
      ['br', br],
      ['gzip', gzip],
      [undefined, identity],
    ] as const) {
      const headers: Record<string, string> = accept ? { 'accept-encoding': accept } : {};
      const same = await raw(path, { ...headers, 'if-none-match': held.headers.etag as string });
      expect(same.status).toBe(304);
      expect(same.body.length).toBe(0);
      expect(same.headers.etag).toBe(held.headers.etag);
      expect(same.headers.vary).toBe('Accept-Encoding');
      expect(same.headers['last-modified']).toBe(identity.headers['last-modified']);
      expect(same.headers['content-encoding']).toBeUndefined();
    }
    // A reader that now accepts br but holds the gzip variant holds the current document: 304, naming what it holds.
    const switched = await raw(path, { 'accept-encoding': 'br', 'if-none-match': gzip.headers.etag as string });
    expect(switched.status).toBe(304);
    expect(switched.headers.etag).toBe(gzip.headers.etag);
    expect((await raw(path, { 'accept-encoding': 'gzip', 'if-none-match': `"x", W/${br.headers.etag}` })).status).toBe(304);
    expect((await raw(path, { 'accept-encoding': 'gzip', 'if-none-match': '*' })).headers.etag).toBe(gzip.headers.etag);
    const byDate = await raw(path, { 'accept-encoding': 'br', 'if-modified-since': identity.headers['last-modified'] as string });
    expect(byDate.status).toBe(304);
    expect(byDate.headers.etag).toBe(br.headers.etag);
    expect((await raw(path, { 'accept-encoding': 'br', 'if-none-match': '"stale-br"' })).status).toBe(200);

    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['zip'] }));
    for (const held of [identity, gzip, br]) {
      const changed = await raw(path, { 'accept-encoding': 'gzip, br', 'if-none-match': held.headers.etag as string });
      expect(changed.status).toBe(200);
      expect(changed.headers.etag).not.toBe(br.headers.etag);
    }
  });

  it('answers HEAD with the headers GET would send, and no body', async () => {
    for (const accept of ['gzip', 'br', 'identity']) {
      const get = await raw('/feeds/zip.json', { 'accept-encoding': accept });
      const head = await raw('/feeds/zip.json', { 'accept-encoding': accept }, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.names).toEqual(get.names);
      for (const name of ['etag', 'content-encoding', 'content-length', 'content-type', 'last-modified', 'vary']) {
        expect(head.headers[name], `${accept} ${name}`).toBe(get.headers[name]);
      }
      const revalidated = await raw('/feeds/zip.json', { 'accept-encoding': accept, 'if-none-match': get.headers.etag as string }, 'HEAD');
      expect(revalidated.status).toBe(304);
    }
  });

  it('spells its header names one way, whether the request waited for a render or found it cached', async () => {
    for (const accept of ['gzip', 'identity']) {
      await api(server, 'POST', '/api/v1/items', newItem({ topics: ['spelling'] }));
      const rendered = await raw('/feeds/spelling.rss', { 'accept-encoding': accept });
      const cached = await raw('/feeds/spelling.rss', { 'accept-encoding': accept });
      expect(cached.body.equals(rendered.body)).toBe(true);
      expect(cached.names).toEqual(rendered.names);
      expect(rendered.names).toEqual(expect.arrayContaining(['ETag', 'Last-Modified', 'Cache-Control', 'Vary', 'Content-Type', 'Content-Length']));
      expect(rendered.names.filter((name) => /^(etag|last-modified)$/i.test(name))).toEqual(['ETag', 'Last-Modified']);
      const revalidated = await raw('/feeds/spelling.rss', { 'accept-encoding': accept, 'if-none-match': cached.headers.etag as string });
      expect(revalidated.status).toBe(304);
      expect(revalidated.names).toEqual(rendered.names.filter((name) => !/^content-(type|length|encoding)$/i.test(name)));
    }
  });
});

describe('pages and assets', () => {
  it('compresses pages once per render and sends the variant the request accepts', async () => {
    for (const path of ['/', '/?topics=zip', '/items/zip-0', '/newsroom']) {
      const plain = await raw(path);
      expect(plain.status, path).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toContain('Accept-Encoding');
      for (const accept of ['br', 'gzip']) {
        const res = await raw(path, { 'accept-encoding': accept });
        expect(res.headers['content-encoding'], `${path} ${accept}`).toBe(accept);
        expect(res.headers['content-type']).toBe('text/html; charset=UTF-8');
        const html = decode(res).toString();
        expect(html, path).toMatch(/^<!doctype html>/i);
        expect(res.body.length).toBeLessThan(plain.body.length);
      }
    }
  });

  it('compresses scripts and styles once, and leaves the rest to the static server', async () => {
    const files = [
      ['/assets/client.js', 'public/client.js'],
      ['/assets/site.css', 'public/site.css'],
      ['/assets/shared/time.js', 'src/shared/time.js'],
    ];
    for (const [path, file] of files) {
      const bytes = readFileSync(new URL(`../../${file}`, import.meta.url));
      const plain = await raw(path as string);
      expect(plain.status, path).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      expect(plain.body.equals(bytes)).toBe(true);
      for (const [accept, coding] of [
        ['gzip', 'gzip'],
        ['gzip, deflate, br', 'br'],
      ]) {
        const res = await raw(path as string, { 'accept-encoding': accept as string });
        expect(res.headers['content-encoding'], `${path} ${accept}`).toBe(coding);
        expect(res.headers['content-type']).toBe(plain.headers['content-type']);
        expect(res.headers['last-modified']).toBe(plain.headers['last-modified']);
        expect(res.headers.vary).toBe('Accept-Encoding');
        expect(decode(res).equals(bytes)).toBe(true);
        expect(res.body.length).toBeLessThan(bytes.length / 2);
      }
      const head = await raw(path as string, { 'accept-encoding': 'br' }, 'HEAD');
      expect(head.headers['content-encoding']).toBe('br');
      expect(head.body.length).toBe(0);
    }
    // A range is a range of the file as it is.
    const range = await raw('/assets/client.js', { 'accept-encoding': 'br', range: 'bytes=0-9' });
    expect(range.status).toBe(206);
    expect(range.headers['content-encoding']).toBeUndefined();
    // Type definitions stay text, compressed or not.
    const types = await raw('/assets/client.d.ts', { 'accept-encoding': 'br' });
    expect(types.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(types.headers['content-encoding']).toBe('br');
    // Unknown files and names that are not plain file names are the static server's to refuse.
    expect((await raw('/assets/nope.js', { 'accept-encoding': 'br' })).status).toBe(404);
    expect((await raw('/assets/..%2Fpackage.json', { 'accept-encoding': 'br' })).status).toBe(404);
    expect((await raw('/assets/shared/..%2F..%2Fpackage.json', { 'accept-encoding': 'br' })).status).toBe(404);
  });
});
