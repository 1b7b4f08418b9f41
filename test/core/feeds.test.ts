// Feeds: content types, validity (parsed by real feed parsers, checked
// against the W3C validator's rules), escaping, conditional GET, and what
// readers are told: corrections with their note, withdrawals as notices,
// images as enclosures, links, bylines apart from sources.
// Compression: feeds-compression.test.ts; notices leaving: feeds-withdrawn.test.ts.
import { readFileSync } from 'node:fs';
import { parseFeed } from 'feedsmith';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStringPromise } from 'xml2js';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

const seed = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let server: TestServer;
const PUBLIC_URL = 'https://news.example.org';

beforeAll(async () => {
  server = await startServer({ env: { PUBLIC_URL, FEED_MAX_AGE_SECONDS: '120' } });
  expect((await api(server, 'POST', '/api/v1/items', seed.publish)).status).toBe(201);
  await api(server, 'POST', '/api/v1/items', {
    id: 'escaping-test',
    headline: 'AT&T <script>alert("x")</script> ]]> "quoted"',
    summary: 'Less < more & "quotes"',
    body: '<p>Fine</p><script>alert(1)</script>]]>',
    topics: ['tech'],
    priority: 'flash',
    byline: 'Jane Doe',
    image: { url: 'https://img.example.org/photo.jpg', alt: 'A "photo" <here>' },
  });
});
afterAll(cleanup);

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

describe('formats', () => {
  it('serves RSS 2.0 that parses and follows the validator rules', async () => {
    const res = await get('/feeds/all.rss');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const xml = await res.text();
    const parsed = await new Parser().parseString(xml);
    expect(parsed.title).toBe('Newswire');
    expect(parsed.items.map((i) => i.guid)).toEqual(['urn:newswire:item:escaping-test', `urn:newswire:item:${seed.publish.id}`]);
    const doc = await parseStringPromise(xml, { strict: true });
    const channel = doc.rss.channel[0];
    for (const field of ['title', 'link', 'description', 'lastBuildDate', 'ttl']) expect(channel[field], field).toBeDefined();
    expect(channel.link[0]).toBe(`${PUBLIC_URL}/`);
    expect(channel.ttl[0]).toBe('2');
    expect(channel.lastBuildDate[0]).toMatch(RFC822);
    const self = channel['atom:link'][0].$;
    expect(self).toEqual({ href: `${PUBLIC_URL}/feeds/all.rss`, rel: 'self', type: 'application/rss+xml' });
    const guids = channel.item.map((i: any) => i.guid[0]._);
    expect(new Set(guids).size).toBe(guids.length);
    for (const item of channel.item) {
      expect(item.pubDate[0]).toMatch(RFC822);
      expect(item['dcterms:modified'][0]).toMatch(RFC3339);
      expect(item.title[0].length).toBeGreaterThan(0);
      expect(item.author, 'RSS author wants an e-mail: bylines go to dc:creator').toBeUndefined();
    }
    const seedItem = channel.item.find((i: any) => i.guid[0]._.endsWith(seed.publish.id));
    expect(seedItem.link[0]).toBe(`${PUBLIC_URL}/items/${seed.publish.id}`);
    expect(seedItem['content:encoded'][0]).toContain('<p>Volodymyr Zelensky');
    // A source is not an author: no byline, no dc:creator.
    expect(seedItem['dc:creator']).toBeUndefined();
    expect(seedItem['dc:publisher'][0]).toBe('Bangkok One News');
    expect(seedItem.category.map((c: any) => c._ ?? c)).toEqual(seed.publish.topics);
    // <enclosure> needs url, a length in bytes (0: unknown) and a MIME type.
    for (const item of channel.item) {
      for (const enclosure of item.enclosure ?? []) {
        expect(enclosure.$.url).toMatch(/^https?:\/\//);
        expect(enclosure.$.length).toMatch(/^\d+$/);
        expect(enclosure.$.type).toMatch(/^[a-z]+\/[\w.+-]+$/);
      }
    }
  });

  it('serves Atom 1.0 that parses and has the required elements', async () => {
    const res = await get('/feeds/ukraine.atom');
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await res.text();
    const { format, feed } = parseFeed(xml) as { format: string; feed: any };
    expect(format).toBe('atom');
    expect(feed.title.value ?? feed.title).toBe('Newswire: ukraine');
    expect(feed.entries).toHaveLength(1);
    const doc = await parseStringPromise(xml, { strict: true });
    const root = doc.feed;
    expect(root.$.xmlns).toBe('http://www.w3.org/2005/Atom');
    expect(root.id[0]).toBe(`${PUBLIC_URL}/feeds/ukraine.atom`);
    expect(root.updated[0]).toMatch(RFC3339);
    expect(root.author[0].name[0]).toBe('Newswire');
    expect(root.link.map((l: any) => l.$.rel)).toEqual(expect.arrayContaining(['alternate', 'self']));
    const entry = root.entry[0];
    expect(entry.id[0]).toBe(`urn:newswire:item:${seed.publish.id}`);
    expect(entry.updated[0]).toMatch(RFC3339);
    expect(entry.published[0]).toMatch(RFC3339);
    // The feed names an author, so an entry without a byline needs none; a source is not one.
    expect(entry.author).toBeUndefined();
    expect(entry['dc:publisher'][0]).toBe('Bangkok One News');
  });

  it('serves JSON Feed 1.1', async () => {
    const res = await get('/feeds/tech.json');
    expect(res.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const feed = await res.json();
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.feed_url).toBe(`${PUBLIC_URL}/feeds/tech.json`);
    expect(feed.home_page_url).toBe(`${PUBLIC_URL}/?topics=tech`);
    expect(feed.authors).toEqual([{ name: 'Newswire', url: `${PUBLIC_URL}/` }]);
    expect(feed.author).toBeUndefined();
    const [item] = feed.items;
    expect(item).toMatchObject({
      id: 'urn:newswire:item:escaping-test',
      url: `${PUBLIC_URL}/items/escaping-test`,
      title: 'AT&T <script>alert("x")</script> ]]> "quoted"',
      authors: [{ name: 'Jane Doe' }],
      image: 'https://img.example.org/photo.jpg',
      attachments: [{ url: 'https://img.example.org/photo.jpg', mime_type: 'image/jpeg', title: 'A "photo" <here>' }],
      tags: ['tech'],
      _newswire: { priority: 'flash', version: 1 },
    });
    expect(item.external_url).toBeUndefined();
    expect(item.content_html).not.toContain('<script');
    expect(item.date_published).toMatch(RFC3339);
    expect((parseFeed(JSON.stringify(feed)) as { format: string }).format).toBe('json');
  });

  it('escapes text that readers treat as HTML and never breaks CDATA', async () => {
    for (const format of ['rss', 'atom']) {
      const xml = await (await get(`/feeds/tech.${format}`)).text();
      expect(xml).not.toContain('<script');
      expect(xml).toContain('AT&amp;T &lt;script&gt;');
      const doc = await parseStringPromise(xml, { strict: true });
      expect(doc).toBeTruthy();
      const parsed = await new Parser().parseString(xml);
      expect(parsed.items[0]?.title).toContain('AT&amp;T &lt;script&gt;');
    }
  });

  it('answers 404 for an unknown format or a malformed topic, and an empty feed for a quiet topic', async () => {
    expect((await get('/feeds/all.xml')).status).toBe(404);
    expect((await get('/feeds/Bad_Topic.rss')).status).toBe(404);
    const quiet = await get('/feeds/nothing-here-yet.rss');
    expect(quiet.status).toBe(200);
    const parsed = await new Parser().parseString(await quiet.text());
    expect(parsed.items).toHaveLength(0);
  });
});

describe('changes', () => {
  it('shows corrections with their note where every reader sees it, and withdrawals as notices in place', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'feed-correct', topics: ['feed-changes'], summary: 'What happened' }));
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'feed-kill', topics: ['feed-changes'], body: '<p>Soon gone</p>' }));
    const before = await (await get('/feeds/feed-changes.json')).json();
    expect(before.items.map((i: any) => i.id)).toEqual(['urn:newswire:item:feed-kill', 'urn:newswire:item:feed-correct']);
    await new Promise((r) => setTimeout(r, 20));
    await api(server, 'PUT', '/api/v1/items/feed-correct', {
      headline: 'Corrected',
      summary: 'What happened',
      topics: ['feed-changes'],
      changeNote: 'Name fixed & <spelled> right',
    });
    expect((await api(server, 'DELETE', '/api/v1/items/feed-kill?reason=Sources could not be confirmed')).status).toBe(200);

    const after = await (await get('/feeds/feed-changes.json')).json();
    const [notice, corrected] = after.items;
    expect(corrected).toMatchObject({ title: 'Corrected', _newswire: { version: 2, change_note: 'Name fixed & <spelled> right' } });
    expect(corrected.content_html).toMatch(/^<p><strong>Updated \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC:<\/strong> Name fixed &amp; &lt;spelled&gt; right<\/p>/);
    expect(corrected.content_html).toContain('<p>What happened</p>');
    expect(Date.parse(corrected.date_modified)).toBeGreaterThan(Date.parse(corrected.date_published));
    // The withdrawn story keeps its place and its id, as a notice: the reason, no body.
    expect(notice).toMatchObject({
      id: 'urn:newswire:item:feed-kill',
      url: `${PUBLIC_URL}/items/feed-kill`,
      title: 'WITHDRAWN: Sources could not be confirmed',
      tags: ['feed-changes'],
      _newswire: { status: 'retracted', reason: 'Sources could not be confirmed' },
    });
    expect(notice.content_html).toContain('Sources could not be confirmed');
    expect(notice.content_html).not.toContain('Soon gone');
    expect(notice.authors).toBeUndefined();

    const rssXml = await (await get('/feeds/feed-changes.rss')).text();
    const rss = await new Parser({ customFields: { item: ['dcterms:modified'] } }).parseString(rssXml);
    expect(rss.items.map((i) => i.guid)).toEqual(['urn:newswire:item:feed-kill', 'urn:newswire:item:feed-correct']);
    const [rssNotice, rssCorrected] = rss.items as any[];
    expect(rssNotice.title).toBe('WITHDRAWN: Sources could not be confirmed');
    expect(rssNotice.contentSnippet).toMatch(/^Withdrawn .+ UTC: Sources could not be confirmed$/);
    expect(rssNotice['content:encoded']).not.toContain('Soon gone');
    expect(rssCorrected.title).toBe('Corrected');
    // Readers that show only the description, and those that show the content, both see the note.
    expect(rssCorrected.contentSnippet).toMatch(/^Updated .+ UTC: Name fixed & <spelled> right\nWhat happened$/);
    expect(rssCorrected['content:encodedSnippet']).toMatch(/^Updated .+ UTC: Name fixed & <spelled> right/);
    expect(Date.parse(rssCorrected['dcterms:modified'])).toBe(Date.parse(corrected.date_modified));
    expect(await parseStringPromise(rssXml, { strict: true })).toBeTruthy();

    const atomXml = await (await get('/feeds/feed-changes.atom')).text();
    const { feed: atom } = parseFeed(atomXml) as { feed: any };
    const [atomNotice, atomCorrected] = atom.entries;
    expect(atomNotice.id).toBe('urn:newswire:item:feed-kill');
    expect(atomNotice.title.value).toBe('WITHDRAWN: Sources could not be confirmed');
    expect(atomCorrected.summary.value).toMatch(/^<p><strong>Updated .+ UTC:<\/strong> Name fixed &amp; &lt;spelled&gt; right<\/p>/);
    expect(atomCorrected.content.value).toMatch(/^<p><strong>Updated .+ UTC:<\/strong> Name fixed/);
    expect(Date.parse(atomCorrected.updated)).toBe(Date.parse(corrected.date_modified));
    expect(Date.parse(atomNotice.updated)).toBeGreaterThan(Date.parse(atomNotice.published));
    expect(await parseStringPromise(atomXml, { strict: true })).toBeTruthy();

    // The feed of every item carries the notice too; other topics' feeds do not.
    const all = await (await get('/feeds/all.json')).json();
    expect(all.items.map((i: any) => i.id)).toContain('urn:newswire:item:feed-kill');
    const world = await (await get('/feeds/world.json')).json();
    expect(world.items.map((i: any) => i.id)).not.toContain('urn:newswire:item:feed-kill');
  });
});

describe('what readers are told', () => {
  it('gives images as enclosures with a type only when it is known', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({
      id: 'feed-image-unknown',
      topics: ['feed-images'],
      image: { url: 'https://img.example.org/render?id=7', alt: '' },
    }));
    await api(server, 'POST', '/api/v1/items', newItem({
      id: 'feed-image-png',
      topics: ['feed-images'],
      image: { url: 'https://img.example.org/chart.PNG', alt: 'A chart' },
    }));
    const rssXml = await (await get('/feeds/feed-images.rss')).text();
    const { feed: rss } = parseFeed(rssXml) as { feed: any };
    const [png, unknown] = rss.items;
    expect(png.enclosures).toEqual([{ url: 'https://img.example.org/chart.PNG', length: 0, type: 'image/png' }]);
    expect(png.media.contents).toEqual([{ url: 'https://img.example.org/chart.PNG', type: 'image/png', medium: 'image', description: { value: 'A chart' } }]);
    // RSS requires a type on <enclosure>: none is guessed, Media RSS says what is known.
    expect(unknown.enclosures).toBeUndefined();
    expect(unknown.media.contents).toEqual([{ url: 'https://img.example.org/render?id=7', medium: 'image' }]);
    expect((await new Parser().parseString(rssXml)).items[0]?.enclosure).toEqual({ url: 'https://img.example.org/chart.PNG', length: '0', type: 'image/png' });

    const { feed: atom } = parseFeed(await (await get('/feeds/feed-images.atom')).text()) as { feed: any };
    const enclosures = atom.entries.map((entry: any) => entry.links.filter((link: any) => link.rel === 'enclosure'));
    expect(enclosures).toEqual([
      [{ href: 'https://img.example.org/chart.PNG', rel: 'enclosure', type: 'image/png', title: 'A chart' }],
      [{ href: 'https://img.example.org/render?id=7', rel: 'enclosure' }],
    ]);

    const json = await (await get('/feeds/feed-images.json')).json();
    expect(json.items[0]).toMatchObject({
      image: 'https://img.example.org/chart.PNG',
      attachments: [{ url: 'https://img.example.org/chart.PNG', mime_type: 'image/png', title: 'A chart' }],
    });
    expect(json.items[1].image).toBe('https://img.example.org/render?id=7');
    expect(json.items[1].attachments).toBeUndefined();
  });

  it('links JSON Feed items to our page and the original story; RSS and Atom keep their links', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'feed-link', topics: ['feed-links'], url: 'https://wire.example.com/story/1' }));
    const json = await (await get('/feeds/feed-links.json')).json();
    expect(json.items[0]).toMatchObject({ url: `${PUBLIC_URL}/items/feed-link`, external_url: 'https://wire.example.com/story/1' });
    const rss = await new Parser().parseString(await (await get('/feeds/feed-links.rss')).text());
    expect(rss.items[0]?.link).toBe('https://wire.example.com/story/1');
    const { feed: atom } = parseFeed(await (await get('/feeds/feed-links.atom')).text()) as { feed: any };
    expect(atom.entries[0].links).toEqual([{ href: 'https://wire.example.com/story/1' }]);
  });

  it('takes the author from the byline only, and gives the source as the publisher', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'feed-source-only', topics: ['feed-people'], source: 'Agence Example' }));
    await api(server, 'POST', '/api/v1/items', newItem({ id: 'feed-both', topics: ['feed-people'], source: 'Agence Example', byline: 'Ana Lima' }));
    const rssXml = await (await get('/feeds/feed-people.rss')).text();
    const [both, sourceOnly] = (await new Parser().parseString(rssXml)).items as any[];
    expect(both.creator).toBe('Ana Lima');
    expect(sourceOnly.creator).toBeUndefined();
    const { feed: rss } = parseFeed(rssXml) as { feed: any };
    expect(rss.items.map((item: any) => item.dc)).toEqual([
      { creators: ['Ana Lima'], publishers: ['Agence Example'] },
      { publishers: ['Agence Example'] },
    ]);
    const { feed: atom } = parseFeed(await (await get('/feeds/feed-people.atom')).text()) as { feed: any };
    expect(atom.entries.map((entry: any) => entry.authors)).toEqual([[{ name: 'Ana Lima' }], undefined]);
    expect(atom.entries.map((entry: any) => entry.dc)).toEqual([{ publishers: ['Agence Example'] }, { publishers: ['Agence Example'] }]);
    const json = await (await get('/feeds/feed-people.json')).json();
    expect(json.items.map((item: any) => item.authors)).toEqual([[{ name: 'Ana Lima' }], undefined]);
    expect(json.items.map((item: any) => item._newswire.source)).toEqual(['Agence Example', 'Agence Example']);
  });
});

describe('conditional GET', () => {
  it('gives 200, then 304 for If-None-Match and If-Modified-Since, then 200 after a new event', async () => {
    const first = await get('/feeds/cond.rss');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') as string;
    const lastModified = first.headers.get('last-modified') as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toContain('max-age=120');
    await first.text();

    const byTag = await get('/feeds/cond.rss', { 'if-none-match': etag });
    expect(byTag.status).toBe(304);
    expect(await byTag.text()).toBe('');
    expect(byTag.headers.get('etag')).toBe(etag);
    expect((await get('/feeds/cond.rss', { 'if-none-match': `"other", ${etag}` })).status).toBe(304);
    expect((await get('/feeds/cond.rss', { 'if-modified-since': lastModified })).status).toBe(304);
    // If-None-Match wins over If-Modified-Since.
    expect((await get('/feeds/cond.rss', { 'if-none-match': '"stale"', 'if-modified-since': lastModified })).status).toBe(200);

    await new Promise((r) => setTimeout(r, 1_100));
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['cond'] }));
    const changed = await get('/feeds/cond.rss', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Date.parse(changed.headers.get('last-modified') as string)).toBeGreaterThan(Date.parse(lastModified));
    expect((await get('/feeds/cond.rss', { 'if-modified-since': lastModified })).status).toBe(200);
    // Another topic's event leaves this feed's validators alone.
    const tag = changed.headers.get('etag') as string;
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['not-cond'] }));
    expect((await get('/feeds/cond.rss', { 'if-none-match': tag })).status).toBe(304);
  });
});

describe('cached answers', () => {
  it('answer a poll of an unchanged feed with the same headers and bytes as the render', async () => {
    await api(server, 'POST', '/api/v1/items', newItem({ topics: ['fast-path'] }));
    const names = (res: Response) =>
      [...res.headers.keys()].filter((name) => !['date', 'connection', 'keep-alive', 'content-length'].includes(name)).sort();
    const rendered = await get('/feeds/fast-path.atom');
    const renderedBody = await rendered.text();
    const cached = await get('/feeds/fast-path.atom');
    expect(await cached.text()).toBe(renderedBody);
    expect(names(cached)).toEqual(names(rendered));
    for (const name of ['etag', 'last-modified', 'cache-control', 'content-type', 'content-security-policy', 'access-control-allow-origin']) {
      expect(cached.headers.get(name), name).toBe(rendered.headers.get(name));
    }
    const etag = cached.headers.get('etag') as string;
    const revalidated = await get('/feeds/fast-path.atom', { 'if-none-match': etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(revalidated.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await fetch(`${server.url}/feeds/fast-path.atom`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    // A query string changes nothing; a malformed topic goes on to the app, which refuses it.
    const withQuery = await get('/feeds/fast-path.atom?x=1', { 'if-none-match': etag });
    expect(withQuery.status).toBe(304);
    expect(names(withQuery)).toEqual(names(revalidated));
    expect((await get('/feeds/NOPE.atom')).status).toBe(404);
  });
});
