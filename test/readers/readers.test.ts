// Feeds as real readers take them: newsboat (a desktop reader on libcurl,
// with its own cache) and Universal Feed Parser (the Python library many
// aggregators are built on), each fetching over HTTP with its own client.
// What a reader must see: corrections with their note, a withdrawn story
// replaced by its notice in a cache that already held it, bylines, images,
// and a 304 once nothing changed. (feedparser 6.0 reads RSS and Atom only;
// JSON Feed is read by feedsmith in core/feeds.test.ts.)
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, startServer, type TestServer, tempDir } from '../support/server.ts';

const run = promisify(execFile);
const seed = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));
const FEEDPARSER = new URL('./feedparser-read.py', import.meta.url).pathname;
const BODY_SENTENCE = 'In an evening video message, Zelensky stated';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  expect((await api(server, 'POST', '/api/v1/items', seed.publish)).status).toBe(201);
  const photo = {
    id: 'readers-photo',
    headline: 'Flood waters reach the old town',
    summary: 'The river rose two metres overnight.',
    body: '<p>The river rose two metres overnight.</p>',
    topics: ['world'],
    byline: 'Ana Lima',
    image: { url: 'https://img.example.org/flood.jpg', alt: 'Flooded street' },
  };
  expect((await api(server, 'POST', '/api/v1/items', photo)).status).toBe(201);
  const doomed = { id: 'readers-doomed', headline: 'Minister resigns', body: '<p>Unverified claim about the minister.</p>', topics: ['world'] };
  expect((await api(server, 'POST', '/api/v1/items', doomed)).status).toBe(201);
});
afterAll(cleanup);

/** The newsroom's changes after the readers' first visit, made once whichever test asks first. */
let changes: Promise<void> | undefined;
function correctAndWithdraw(): Promise<void> {
  changes ??= (async () => {
    const { id, ...update } = seed.update;
    expect((await api(server, 'PUT', `/api/v1/items/${id}`, update)).status).toBe(200);
    const reason = { reason: 'The claim could not be verified' };
    expect((await api(server, 'DELETE', '/api/v1/items/readers-doomed', reason)).status).toBe(200);
  })();
  return changes;
}

async function feedResponses(status: number): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`newswire_http_requests_total{route="/feeds/:name",method="GET",status="${status}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('newsboat', () => {
  interface CachedItem {
    guid: string;
    title: string;
    author: string;
    url: string;
    content: string;
  }

  it('keeps its cache true to the feed through a correction and a withdrawal, then revalidates with 304', async () => {
    const home = tempDir('newswire-newsboat-');
    writeFileSync(join(home, 'urls'), `${server.url}/feeds/world.rss\n`);
    writeFileSync(join(home, 'config'), '');
    const reload = () =>
      run('newsboat', ['-u', 'urls', '-c', 'cache.db', '-C', 'config', '-x', 'reload'], {
        cwd: home,
        env: { PATH: process.env.PATH ?? '', HOME: home, TERM: 'dumb' },
        timeout: 30_000,
      });
    const cached = () => {
      const db = new Database(join(home, 'cache.db'), { readonly: true });
      try {
        const rows = db.prepare('SELECT guid, title, author, url, content FROM rss_item').all() as CachedItem[];
        return new Map(rows.map((row) => [row.guid.replace('urn:newswire:item:', ''), row]));
      } finally {
        db.close();
      }
    };

    await reload();
    let items = cached();
    expect([...items.keys()].sort()).toEqual([seed.publish.id, 'readers-doomed', 'readers-photo'].sort());
    expect(items.get(seed.publish.id)?.content).toContain(BODY_SENTENCE);
    expect(items.get(seed.publish.id)?.author).toBe(''); // a source is not an author
    expect(items.get('readers-photo')?.author).toBe('Ana Lima');
    // newsboat keeps enclosures for podcasts (audio, video) only: the picture is seen in the content.
    expect(items.get('readers-photo')?.content).toContain('<img src="https://img.example.org/flood.jpg" alt="Flooded street">');
    expect(items.get('readers-photo')?.url).toBe(`${server.url}/items/readers-photo`);
    expect(items.get('readers-doomed')?.content).toContain('Unverified claim');

    await correctAndWithdraw();
    await reload();
    items = cached();
    const corrected = items.get(seed.publish.id);
    expect(corrected?.content).toMatch(/<strong>Updated [^<]+:<\/strong> Adds the White House reaction/);
    expect(corrected?.content).toContain('The White House');
    const notice = items.get('readers-doomed');
    expect(notice?.title).toBe('WITHDRAWN: The claim could not be verified');
    expect(notice?.content).toContain('The claim could not be verified');
    expect(notice?.content).not.toContain('Unverified claim');

    // newsboat keeps a feed's validators only once the feed is in its cache
    // (from its second visit on): the third visit asks conditionally, and
    // nothing changed since the second, so 304.
    const notModified = await feedResponses(304);
    await reload();
    expect(await feedResponses(304)).toBe(notModified + 1);
    expect(cached().get('readers-doomed')?.title).toBe('WITHDRAWN: The claim could not be verified');
  });
});

describe('Universal Feed Parser', () => {
  interface Parsed {
    status: number;
    etag: string | null;
    encoding: string | null;
    version: string;
    bozo: boolean;
    bozo_exception: string | null;
    title: string;
    hubs: string[];
    entries: { id: string; title: string; link: string; author: string | null; content: string | null; enclosures: { href: string; type: string }[] }[];
  }
  const read = async (path: string, etag?: string): Promise<Parsed> => {
    const args = [FEEDPARSER, `${server.url}${path}`, ...(etag ? [etag] : [])];
    const { stdout } = await run('/usr/bin/python3', args, { timeout: 30_000 });
    return JSON.parse(stdout);
  };

  for (const [path, version] of [
    ['/feeds/world.rss', 'rss20'],
    ['/feeds/world.atom', 'atom10'],
  ] as const) {
    it(`reads ${path} well-formed, compressed, with the hub, the correction, the notice, and a 304 after`, async () => {
      await correctAndWithdraw();
      const feed = await read(path);
      expect(feed.bozo_exception).toBeNull();
      expect(feed).toMatchObject({ status: 200, version, bozo: false, encoding: 'gzip', title: 'Newswire: world' });
      expect(feed.hubs).toEqual([`${server.url}/websub`]);
      const byId = new Map(feed.entries.map((e) => [e.id.replace('urn:newswire:item:', ''), e]));
      const story = byId.get(seed.publish.id);
      expect(story?.title).toBe(seed.update.headline);
      expect(story?.link).toBe(`${server.url}/items/${seed.publish.id}`);
      expect(story?.author ?? null).toBeNull();
      expect(story?.content).toContain(BODY_SENTENCE);
      expect(story?.content).toContain('Adds the White House reaction');
      const photo = byId.get('readers-photo');
      expect(photo?.author).toBe('Ana Lima');
      expect(photo?.enclosures).toEqual([{ href: 'https://img.example.org/flood.jpg', type: 'image/jpeg' }]);
      const notice = byId.get('readers-doomed');
      expect(notice?.title).toBe('WITHDRAWN: The claim could not be verified');
      expect(notice?.content).not.toContain('Unverified claim');

      expect(feed.etag).toMatch(/^".+-gzip"$/);
      const again = await read(path, feed.etag ?? undefined);
      expect(again.status).toBe(304);
      expect(again.entries).toEqual([]);
    });
  }
});
