// What search engines and link previews read, over real HTTP from a real
// server: story pages' JSON-LD, Open Graph and canonical link; robots.txt;
// the sitemaps (well-formed, namespaced, updated by publish, correction and
// kill, built once per change, 304 on a held tag); the 410 of a killed story.
import { parseStringPromise } from 'xml2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from '../support/metrics.ts';
import { api, cleanup, newItem, publishOk, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

const BASE = 'https://news.example.org';
const HOSTILE = `Minister's "plan" </script><script>window.__pwned=1</script> & <b>more</b>`;
const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const NEWS_NS = 'http://www.google.com/schemas/sitemap-news/0.9';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ env: { PUBLIC_URL: BASE, SITE_TITLE: 'The Daily "Wire"' } });
});
afterAll(cleanup);

/** Uncompressed unless a test asks (fetch would ask for gzip and br by itself). */
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers: { 'accept-encoding': 'identity', ...headers } });
const page = async (id: string) => (await get(`/items/${encodeURIComponent(id)}`)).text();

function decodeEntities(value: string): string {
  return value
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The JSON-LD blocks of a page, parsed. */
function jsonLd(html: string): Record<string, any>[] {
  return [...html.matchAll(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/g)].map((match) => JSON.parse(match[1] as string));
}

/** `<meta property|name="key" content="…">` of a page, decoded; every value when a key repeats. */
function metaTags(html: string): Map<string, string[]> {
  const tags = new Map<string, string[]>();
  for (const match of html.matchAll(/<meta (?:property|name)="([^"]+)" content="([^"]*)">/g)) {
    const key = match[1] as string;
    tags.set(key, [...(tags.get(key) ?? []), decodeEntities(match[2] as string)]);
  }
  return tags;
}

const canonical = (html: string) => /<link rel="canonical" href="([^"]+)">/.exec(html)?.[1];

async function sitemapUrls(): Promise<Map<string, string>> {
  const doc = await parseStringPromise(await (await get('/sitemap.xml')).text(), { strict: true });
  expect(doc.urlset.$.xmlns).toBe(SITEMAP_NS);
  return new Map((doc.urlset.url ?? []).map((url: any) => [url.loc[0], url.lastmod[0]]));
}

async function newsEntries(): Promise<Map<string, any>> {
  const doc = await parseStringPromise(await (await get('/sitemap-news.xml')).text(), { strict: true });
  expect(doc.urlset.$.xmlns).toBe(SITEMAP_NS);
  expect(doc.urlset.$['xmlns:news']).toBe(NEWS_NS);
  return new Map((doc.urlset.url ?? []).map((url: any) => [url.loc[0], url['news:news'][0]]));
}

const builds = (kind: 'all' | 'news') => metric(server, `newswire_sitemap_builds_total{sitemap="${kind}"}`);

/** Until the clock is past `iso`, so that a correction made now has a later time than it. */
const pastMillisecond = (iso: string) => until(() => Date.now() > Date.parse(iso), `the clock past ${iso}`, 1_000, 1);

describe('story pages', () => {
  it('carry NewsArticle JSON-LD with the required and recommended properties, escaped', async () => {
    const { item } = await publishOk(server, {
      headline: HOSTILE,
      summary: 'Costs & "benefits" <of> it',
      byline: 'By Ana Lima',
      source: 'Wire Agency',
      language: 'pt-BR',
      image: { url: 'https://images.example.org/plan.jpg', alt: 'The "plan" </script>' },
      body: '<p>Body text of the plan.</p>',
      topics: ['politics', 'world'],
    });
    const html = await page(item.id);
    // The hostile headline made no script: one JSON-LD block and the page's own module.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<script>window.__pwned');
    const blocks = jsonLd(html);
    expect(blocks).toHaveLength(1);
    const article = blocks[0] as Record<string, any>;
    const url = `${BASE}/items/${encodeURIComponent(item.id)}`;
    expect(article).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'NewsArticle',
      headline: HOSTILE,
      description: 'Costs & "benefits" <of> it',
      datePublished: item.publishedAt,
      dateModified: item.updatedAt,
      author: [{ '@type': 'Person', name: 'Ana Lima' }],
      publisher: { '@type': 'Organization', name: 'The Daily "Wire"', logo: { '@type': 'ImageObject', url: `${BASE}/assets/favicon.svg` } },
      image: ['https://images.example.org/plan.jpg'],
      isAccessibleForFree: true,
      mainEntityOfPage: { '@type': 'WebPage', '@id': url },
      inLanguage: 'pt-BR',
      url,
    });
    // The logo it names is served.
    expect((await get('/assets/favicon.svg')).status).toBe(200);
    expect(canonical(html)).toBe(url);
  });

  it('name the organisation as author when there is no byline', async () => {
    const { item } = await publishOk(server, { headline: 'Agency copy' });
    const [article] = jsonLd(await page(item.id));
    expect(article?.author).toEqual([{ '@type': 'Organization', name: 'The Daily "Wire"', url: `${BASE}/` }]);
    expect(article?.inLanguage).toBe('en');
    expect(article).not.toHaveProperty('image');
  });

  it('carry Open Graph and Twitter card tags, escaped', async () => {
    const { item } = await publishOk(server, {
      headline: HOSTILE,
      summary: 'A "quoted" <summary>',
      image: { url: 'https://images.example.org/og.jpg', alt: 'Alt "text"' },
    });
    const html = await page(item.id);
    const tags = metaTags(html);
    const url = `${BASE}/items/${encodeURIComponent(item.id)}`;
    expect(tags.get('og:type')).toEqual(['article']);
    expect(tags.get('og:title')).toEqual([HOSTILE]);
    expect(tags.get('og:description')).toEqual(['A "quoted" <summary>']);
    expect(tags.get('og:url')).toEqual([url]);
    expect(tags.get('og:image')).toEqual(['https://images.example.org/og.jpg']);
    expect(tags.get('og:image:alt')).toEqual(['Alt "text"']);
    expect(tags.get('og:site_name')).toEqual(['The Daily "Wire"']);
    expect(tags.get('article:published_time')).toEqual([item.publishedAt]);
    expect(tags.get('article:modified_time')).toEqual([item.updatedAt]);
    expect(tags.get('twitter:card')).toEqual(['summary_large_image']);
    expect(tags.get('twitter:title')).toEqual([HOSTILE]);
    expect(tags.get('twitter:image')).toEqual(['https://images.example.org/og.jpg']);
    // Escaped in attributes: no raw quote or angle bracket of the headline survives.
    expect(html).toContain('content="Minister&#39;s &quot;plan&quot; &lt;/script&gt;&lt;script&gt;');
  });

  it('change dateModified with a correction, and keep datePublished', async () => {
    const { item } = await publishOk(server, { headline: 'First version' });
    const [before] = jsonLd(await page(item.id));
    await pastMillisecond(item.updatedAt);
    const corrected = await api(server, 'PUT', `/api/v1/items/${item.id}`, { ...newItem({ id: item.id, headline: 'Corrected version' }), changeNote: 'Name spelt right' });
    expect(corrected.status).toBe(200);
    const html = await page(item.id);
    const [after] = jsonLd(html);
    expect(after?.headline).toBe('Corrected version');
    expect(after?.datePublished).toBe(before?.datePublished);
    expect(after?.dateModified).toBe(corrected.body.item.updatedAt);
    expect(Date.parse(after?.dateModified)).toBeGreaterThan(Date.parse(before?.dateModified));
    expect(metaTags(html).get('article:modified_time')).toEqual([corrected.body.item.updatedAt]);
  });

  it('front and topic pages carry a canonical link and Open Graph basics', async () => {
    const front = await (await get('/')).text();
    expect(canonical(front)).toBe(`${BASE}/`);
    expect(metaTags(front).get('og:type')).toEqual(['website']);
    expect(metaTags(front).get('og:url')).toEqual([`${BASE}/`]);
    const topic = await (await get('/?topics=world,politics')).text();
    expect(canonical(topic)).toBe(`${BASE}/?topics=politics,world`);
    expect(metaTags(topic).get('og:title')?.[0]).toMatch(/^Politics, world · /);
    expect(jsonLd(topic)).toEqual([]);
  });
});

describe('robots.txt', () => {
  it('allows everything but the newsroom and the API, and names the sitemaps', async () => {
    const res = await get('/robots.txt');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const lines = (await res.text()).split('\n');
    expect(lines).toEqual(expect.arrayContaining(['User-agent: *', 'Allow: /', 'Disallow: /newsroom', 'Disallow: /api/']));
    expect(lines).toEqual(expect.arrayContaining([`Sitemap: ${BASE}/sitemap.xml`, `Sitemap: ${BASE}/sitemap-news.xml`]));
  });
});

describe('sitemaps', () => {
  it('list a new story, update its lastmod after a correction, and drop it when killed', async () => {
    const { item } = await publishOk(server, { headline: 'Sitemap story & "friends"', language: 'fr' });
    const url = `${BASE}/items/${encodeURIComponent(item.id)}`;
    expect((await sitemapUrls()).get(url)).toBe(item.publishedAt);
    const news = (await newsEntries()).get(url);
    expect(news['news:publication'][0]['news:name'][0]).toBe('The Daily "Wire"');
    expect(news['news:publication'][0]['news:language'][0]).toBe('fr');
    expect(news['news:publication_date'][0]).toBe(item.publishedAt);
    expect(news['news:title'][0]).toBe('Sitemap story & "friends"');

    await pastMillisecond(item.updatedAt);
    const corrected = await api(server, 'PUT', `/api/v1/items/${item.id}`, newItem({ id: item.id, headline: 'Sitemap story, corrected', language: 'fr' }));
    expect(corrected.status).toBe(200);
    expect((await sitemapUrls()).get(url)).toBe(corrected.body.item.updatedAt);
    expect((await newsEntries()).get(url)['news:title'][0]).toBe('Sitemap story, corrected');

    expect((await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'Legal' })).status).toBe(200);
    expect((await sitemapUrls()).has(url)).toBe(false);
    expect((await newsEntries()).has(url)).toBe(false);
    const [all, news2] = await Promise.all([get('/sitemap.xml').then((r) => r.text()), get('/sitemap-news.xml').then((r) => r.text())]);
    expect(all).not.toContain(item.id);
    expect(news2).not.toContain('Sitemap story');
  });

  it('answer 304 to a held tag or date, are built once per change, and compressed', async () => {
    await publishOk(server, { headline: 'Conditional story' });
    const first = await get('/sitemap.xml');
    await first.text();
    const etag = first.headers.get('etag') as string;
    const lastModified = first.headers.get('last-modified') as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    expect(first.headers.get('vary')).toBe('Accept-Encoding');

    const [allBuilds, newsBuilds] = [await builds('all'), await builds('news')];
    await get('/sitemap-news.xml').then((r) => r.text());
    const newsAfterOne = await builds('news');
    for (let i = 0; i < 5; i++) {
      expect((await get('/sitemap.xml', { 'if-none-match': etag })).status).toBe(304);
      expect((await get('/sitemap.xml')).status).toBe(200);
      expect((await get('/sitemap-news.xml')).status).toBe(200);
    }
    expect((await get('/sitemap.xml', { 'if-modified-since': lastModified })).status).toBe(304);
    const head = await fetch(`${server.url}/sitemap.xml`, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(etag);
    expect(await head.text()).toBe('');
    expect(await metric(server, 'newswire_cache_bytes{cache="sitemaps"}')).toBeGreaterThan(0);
    // No change: no rebuild of either.
    expect(await builds('all')).toBe(allBuilds);
    expect(newsAfterOne - newsBuilds).toBeLessThanOrEqual(1);
    expect(await builds('news')).toBe(newsAfterOne);

    const gzipped = await get('/sitemap.xml', { 'accept-encoding': 'gzip' });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.headers.get('etag')).toBe(`${etag.slice(0, -1)}-gzip"`);
    expect(await gzipped.text()).toContain('<urlset');
    // Any variant's tag matches: decoded, it is the same document.
    expect((await get('/sitemap.xml', { 'if-none-match': gzipped.headers.get('etag') as string })).status).toBe(304);

    // A change: one new build, new validators.
    await publishOk(server, { headline: 'Another story' });
    const changed = await get('/sitemap.xml', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await builds('all')).toBe(allBuilds + 1);
  });

  it('has no numbered files while every story fits in one', async () => {
    const res = await get('/sitemap-1.xml');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not-found');
  });
});

describe('a killed story', () => {
  it('answers 410 with the notice and reason, noindex, and nothing of its content', async () => {
    const { item } = await publishOk(server, {
      headline: 'Doomed headline words',
      summary: 'Doomed summary words',
      body: '<p>Doomed body words</p>',
      image: { url: 'https://images.example.org/doomed.jpg', alt: 'Doomed alt words' },
    });
    expect(await page(item.id)).toContain('Doomed body words');
    expect((await api(server, 'DELETE', `/api/v1/items/${item.id}`, { reason: 'Defamatory <claim>' })).status).toBe(200);
    const res = await get(`/items/${encodeURIComponent(item.id)}`);
    expect(res.status).toBe(410);
    expect(res.headers.get('x-robots-tag')).toBe('noindex');
    const html = await res.text();
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).toContain('This story was withdrawn');
    expect(html).toContain('Defamatory &lt;claim&gt;');
    expect(jsonLd(html)).toEqual([]);
    expect(html).not.toContain('og:');
    for (const remnant of ['Doomed headline', 'Doomed summary', 'Doomed body', 'doomed.jpg', 'Doomed alt']) expect(html).not.toContain(remnant);
  });
});
