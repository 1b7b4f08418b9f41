// Sitemaps (sitemaps.org 0.9) and the Google News sitemap, built once per
// change of the log and shared by every crawler: an event marks them stale,
// the next request builds them again, reading the live cards a page at a
// time through the index (the event loop free between pages), compresses
// each document once, and tags it from a hash of its bytes (the
// same on every process). A request after no change costs no read and no
// render. A kill is an event like any other: the next answer is without it.
// While the store cannot be read, the last build is served.
import { createHash } from 'node:crypto';
import { Counter } from 'prom-client';
import { ALL_ITEMS } from '../domain/event.ts';
import type { Card } from '../domain/item.ts';
import { type Coding, compressOnce } from '../http/encoding.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { ListEntry, Store } from '../store/store.ts';
import { storyUrl } from './structured-data.ts';

/** The protocol's bound: a sitemap file holds at most 50,000 URLs (and 50 MB). */
export const URLS_PER_SITEMAP = 50_000;
/** Stories listed at most (the newest), across sitemap files: bounds the read and what is kept. */
export const MAX_SITEMAP_URLS = 100_000;
/** Google News takes stories of the last two days, at most 1,000 per sitemap. */
export const NEWS_WINDOW_MS = 48 * 3_600_000;
export const NEWS_MAX_URLS = 1_000;

const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const NEWS_NS = 'http://www.google.com/schemas/sitemap-news/0.9';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const SITEMAP_CONTENT_TYPE = 'application/xml; charset=utf-8';

/** What a sitemap needs of a story: a card holds it all. */
export type SitemapStory = Pick<Card, 'id' | 'headline' | 'publishedAt' | 'updatedAt' | 'language'>;

export function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const URLSET_OPEN = `${XML_DECLARATION}<urlset xmlns="${SITEMAP_NS}">\n`;
const NEWS_URLSET_OPEN = `${XML_DECLARATION}<urlset xmlns="${SITEMAP_NS}" xmlns:news="${NEWS_NS}">\n`;
const URLSET_CLOSE = '</urlset>\n';
/** Stories read (one indexed store read) and lines rendered per turn of the event loop: a build never holds it long. */
const PAGE = 2_000;
const SLICE = PAGE;

function urlLine(story: SitemapStory, baseUrl: string): string {
  return `<url><loc>${xmlEscape(storyUrl(baseUrl, story.id))}</loc><lastmod>${story.updatedAt}</lastmod></url>\n`;
}

/** `<urlset>` of stories, newest first, each with its last change as lastmod. */
export function renderUrlset(stories: readonly SitemapStory[], baseUrl: string): string {
  return URLSET_OPEN + stories.map((story) => urlLine(story, baseUrl)).join('') + URLSET_CLOSE;
}

/** `<sitemapindex>` of the numbered files (`/sitemap-1.xml` …), each with its newest change. */
export function renderIndex(lastmods: readonly string[], baseUrl: string): string {
  let out = `${XML_DECLARATION}<sitemapindex xmlns="${SITEMAP_NS}">\n`;
  lastmods.forEach((lastmod, index) => {
    out += `<sitemap><loc>${xmlEscape(`${baseUrl}/sitemap-${index + 1}.xml`)}</loc><lastmod>${lastmod}</lastmod></sitemap>\n`;
  });
  return `${out}</sitemapindex>\n`;
}

/**
 * Google News names languages by their ISO 639 code, except Chinese, which
 * it splits into zh-cn (simplified) and zh-tw (traditional).
 */
export function newsLanguage(tag: string | undefined): string {
  const lower = (tag ?? 'en').toLowerCase();
  const [language = 'en'] = lower.split('-');
  if (language !== 'zh') return language;
  return /-(tw|hk|mo|hant)\b/.test(lower) ? 'zh-tw' : 'zh-cn';
}

/** Stories of the News sitemap: published within the window before `now`, newest first, at most `max`. */
export function newsStories<T extends SitemapStory>(stories: readonly T[], now: number, windowMs = NEWS_WINDOW_MS, max = NEWS_MAX_URLS): T[] {
  const fresh: T[] = [];
  for (const story of stories) {
    const published = Date.parse(story.publishedAt);
    if (published > now - windowMs) fresh.push(story);
    if (fresh.length >= max) break;
  }
  return fresh;
}

export function renderNewsSitemap(stories: readonly SitemapStory[], baseUrl: string, publication: string): string {
  const name = xmlEscape(publication);
  let out = NEWS_URLSET_OPEN;
  for (const story of stories) {
    out += `<url><loc>${xmlEscape(storyUrl(baseUrl, story.id))}</loc><news:news><news:publication><news:name>${name}</news:name><news:language>${newsLanguage(story.language)}</news:language></news:publication><news:publication_date>${story.publishedAt}</news:publication_date><news:title>${xmlEscape(story.headline)}</news:title></news:news></url>\n`;
  }
  return out + URLSET_CLOSE;
}

/** One sitemap document, in each coding it was compressed to, each with its own strong tag. */
export interface SitemapDocument {
  lastModified: string;
  encodings: { identity: SitemapVariant } & Partial<Record<Coding, SitemapVariant>>;
}

export interface SitemapVariant {
  coding: Coding;
  bytes: Buffer;
  etag: string;
}

export type SitemapKind = 'all' | 'news';

interface Build {
  /** File name (`sitemap.xml`, `sitemap-1.xml`, `sitemap-news.xml`) → document. */
  documents: Map<string, SitemapDocument>;
  /** The invalidation count when its read began: any later event makes it stale. */
  generation: number;
  /** A story in it expires, or (news) leaves the window, then: it must be built again. */
  staleAtMs: number;
}

export interface SitemapOptions {
  store: Store;
  metrics: Metrics;
  siteTitle: string;
  baseUrl: () => string;
  /** Overrides for tests; the defaults are the protocol's bounds. */
  urlsPerSitemap?: number;
  maxUrls?: number;
}

export class SitemapCache {
  private generation = 0;
  private readonly builds = new Map<SitemapKind, Build>();
  private readonly building = new Map<SitemapKind, { generation: number; build: Promise<Build> }>();
  private readonly counter: Counter<'sitemap'>;
  readonly urlsPerSitemap: number;
  readonly maxUrls: number;

  constructor(private readonly options: SitemapOptions) {
    this.urlsPerSitemap = Math.min(options.urlsPerSitemap ?? URLS_PER_SITEMAP, URLS_PER_SITEMAP);
    this.maxUrls = options.maxUrls ?? MAX_SITEMAP_URLS;
    this.counter = new Counter({
      name: 'newswire_sitemap_builds_total',
      help: 'Sitemap builds (each one list read of cards and one render): at most one per change of the log',
      labelNames: ['sitemap'] as const,
      registers: [options.metrics.registry],
    });
  }

  /** Numbered sitemap files there can be at most: routes for each. */
  get maxFiles(): number {
    return Math.ceil(this.maxUrls / this.urlsPerSitemap);
  }

  /** Bytes of every kept document in every coding: bounded by maxUrls, not by requests. */
  bytes(): number {
    let total = 0;
    for (const build of this.builds.values()) {
      for (const document of build.documents.values()) for (const variant of Object.values(document.encodings)) total += variant?.bytes.length ?? 0;
    }
    return total;
  }

  /** Every event changes the list of live stories: published, corrected (lastmod) or killed. */
  invalidate(): void {
    this.generation++;
  }

  /** The document named `file` (`sitemap.xml`, `sitemap-N.xml`, `sitemap-news.xml`), or undefined when there is none. */
  async document(file: string): Promise<SitemapDocument | undefined> {
    const build = await this.current(file === 'sitemap-news.xml' ? 'news' : 'all');
    return build.documents.get(file);
  }

  private current(kind: SitemapKind): Promise<Build> {
    const kept = this.builds.get(kind);
    if (kept && kept.generation === this.generation && Date.now() < kept.staleAtMs) return Promise.resolve(kept);
    const running = this.building.get(kind);
    if (running && running.generation === this.generation) return running.build;
    const generation = this.generation;
    const build = this.build(kind, generation, kept)
      .then((made) => {
        // A build an event overtook answers those who waited for it, and is not kept.
        if (made.generation === this.generation) {
          this.builds.set(kind, made);
          this.options.metrics.cacheBytes.set({ cache: 'sitemaps' }, this.bytes());
        }
        return made;
      })
      .catch((error: unknown) => {
        if (kept) return kept;
        throw error;
      })
      .finally(() => {
        if (this.building.get(kind)?.build === build) this.building.delete(kind);
      });
    this.building.set(kind, { generation, build });
    return build;
  }

  private async build(kind: SitemapKind, generation: number, previous: Build | undefined): Promise<Build> {
    const now = Date.now();
    const limit = kind === 'news' ? NEWS_MAX_URLS : this.maxUrls;
    this.counter.inc({ sitemap: kind });
    // The time of the newest event (a kill too): the list's mark, read with one card.
    const mark = (await this.options.store.lists([ALL_ITEMS], 1, 'card')).lists.get(ALL_ITEMS);
    let { stories, staleAtMs } = await walkLive(this.options.store, limit);
    // The newest change: the newest event, or a story leaving when its time was up.
    const leftAtMs = previous && previous.staleAtMs <= now ? previous.staleAtMs : 0;
    const lastModifiedMs = Math.max(Date.parse(mark?.at ?? '2000-01-01T00:00:00Z'), leftAtMs);
    const baseUrl = this.options.baseUrl();
    const documents = new Map<string, SitemapDocument>();

    if (kind === 'news') {
      stories = newsStories(stories, now);
      // The oldest story leaves the window then.
      const oldest = stories.at(-1);
      if (oldest) staleAtMs = Math.min(staleAtMs, Date.parse(oldest.publishedAt) + NEWS_WINDOW_MS);
      documents.set('sitemap-news.xml', await encode(renderNewsSitemap(stories, baseUrl, this.options.siteTitle), lastModifiedMs));
      return { documents, generation, staleAtMs };
    }

    const lines = await inSlices(stories, (s) => urlLine(s, baseUrl));
    const urlset = (start: number, end: number) => URLSET_OPEN + lines.slice(start, end).join('') + URLSET_CLOSE;
    if (stories.length <= this.urlsPerSitemap) {
      documents.set('sitemap.xml', await encode(urlset(0, stories.length), lastModifiedMs));
    } else {
      const starts: number[] = [];
      for (let start = 0; start < stories.length; start += this.urlsPerSitemap) starts.push(start);
      const lastmods = starts.map((start) => newest(stories.slice(start, start + this.urlsPerSitemap)));
      documents.set('sitemap.xml', await encode(renderIndex(lastmods, baseUrl), lastModifiedMs));
      const encoded = await Promise.all(starts.map((start) => encode(urlset(start, start + this.urlsPerSitemap), lastModifiedMs)));
      for (const [index, document] of encoded.entries()) documents.set(`sitemap-${index + 1}.xml`, document);
    }
    return { documents, generation, staleAtMs };
  }
}

/** `map`, a slice per turn of the event loop. */
async function inSlices<T, R>(items: readonly T[], map: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < items.length; start += SLICE) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const end = Math.min(items.length, start + SLICE);
    for (let i = start; i < end; i++) out.push(map(items[i] as T));
  }
  return out;
}

/**
 * Every live story, newest first, at most `limit`: read a page at a time
 * through the index, each page parsed at once and its JSON let go, the event
 * loop free between pages.
 */
export async function walkLive(store: Store, limit: number, pageSize = PAGE): Promise<{ stories: SitemapStory[]; staleAtMs: number }> {
  const stories: SitemapStory[] = [];
  let staleAtMs = Number.POSITIVE_INFINITY;
  let before = Number.MAX_SAFE_INTEGER;
  while (stories.length < limit) {
    const want = Math.min(pageSize, limit - stories.length);
    const page = await store.liveCards(before, want);
    for (const entry of page) {
      stories.push(story(entry));
      if (entry.expiresMs !== undefined && entry.expiresMs < staleAtMs) staleAtMs = entry.expiresMs;
    }
    const last = page.at(-1);
    if (!last || page.length < want) break;
    before = last.order;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { stories, staleAtMs };
}

function story(entry: ListEntry): SitemapStory {
  const card = JSON.parse(entry.json) as Card;
  return { id: card.id, headline: card.headline, publishedAt: card.publishedAt, updatedAt: card.updatedAt, language: card.language };
}

/** The latest lastmod of a file's stories (ISO strings of one format compare as text). */
function newest(stories: readonly SitemapStory[]): string {
  let latest = '';
  for (const s of stories) if (s.updatedAt > latest) latest = s.updatedAt;
  return latest;
}


async function encode(text: string, lastModifiedMs: number): Promise<SitemapDocument> {
  const bytes = Buffer.from(text);
  const hash = createHash('sha1').update(bytes).digest('base64url');
  const compressed = await compressOnce(bytes);
  const encodings: SitemapDocument['encodings'] = { identity: { coding: 'identity', bytes, etag: `"${hash}"` } };
  if (compressed.gzip) encodings.gzip = { coding: 'gzip', bytes: compressed.gzip, etag: `"${hash}-gzip"` };
  if (compressed.br) encodings.br = { coding: 'br', bytes: compressed.br, etag: `"${hash}-br"` };
  // HTTP dates have whole seconds: round up, so If-Modified-Since of this answer matches it.
  return { lastModified: new Date(Math.ceil(lastModifiedMs / 1000) * 1000).toUTCString(), encodings };
}
