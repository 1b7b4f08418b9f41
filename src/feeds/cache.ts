// Feeds are rendered once per change, never per request. An event marks the
// feeds of its topics stale; the next request renders them again from the
// shared view of that topic. Each render is compressed once (gzip, brotli)
// and kept with its variants. While the store cannot be read, the last
// render is served rather than an error. Entries are bounded in bytes, least
// recently used first out: topics in feed URLs are the client's choice.
import { createHash } from 'node:crypto';
import { ALL_ITEMS, eventTopics, type NewsEvent } from '../domain/event.ts';
import type { Metrics } from '../ops/metrics.ts';
import { type ViewCache, viewItems } from '../views/views.ts';
import { type Coding, compressOnce } from '../http/encoding.ts';
import { CONTENT_TYPES, type FeedFormat, feedLinkHeader, renderFeed } from './render.ts';
import { type WithdrawalOptions, Withdrawals } from './withdrawn.ts';

/** The document in one content coding, with its own strong validator. */
export interface Representation {
  coding: Coding;
  bytes: Buffer;
  /** `"<hash>"` for identity, `"<hash>-gzip"`, `"<hash>-br"`: a strong tag names one sequence of bytes. */
  etag: string;
}

export interface RenderedFeed {
  /** The document encoded once (identity): every uncompressed response sends these bytes. */
  bytes: Buffer;
  lastModified: string;
  contentType: string;
  /** The Link header: the WebSub hub and the feed itself. */
  links: string;
  /** Every variant of this render; identity always, the others when smaller. */
  encodings: { identity: Representation } & Partial<Record<Coding, Representation>>;
}

interface Entry {
  feed: RenderedFeed;
  topic: string;
  /** The invalidation count when its render began: a later one of its topic makes it stale. */
  generation: number;
  /** An item in it expires, or a withdrawal notice leaves it, then: it must be rendered again. */
  staleAtMs: number;
  bytes: number;
}

export interface FeedCacheOptions {
  views: ViewCache;
  metrics: Metrics;
  siteTitle: string;
  maxAgeSeconds: number;
  maxBytes: number;
  /** Absolute links: PUBLIC_URL, or the origin this process settled on. */
  baseUrl: () => string;
  /** Notices in the place of retracted items; without it they just leave their feeds. */
  withdrawals?: WithdrawalOptions;
}

export class FeedCache {
  private readonly entries = new Map<string, Entry>();
  private readonly rendering = new Map<string, { generation: number; feed: Promise<RenderedFeed> }>();
  private generation = 0;
  /** Topic → the invalidation that last touched it ("all" is touched by every event). */
  private readonly touched = new Map<string, number>();
  /** Everything rendered before this invalidation is stale (a new epoch). */
  private floor = 0;
  private bytes = 0;
  private readonly withdrawals: Withdrawals | undefined;

  constructor(private readonly options: FeedCacheOptions) {
    this.withdrawals = options.withdrawals && new Withdrawals(options.withdrawals);
  }

  /** Called for every event this process fans out. */
  invalidate(event: NewsEvent): void {
    const generation = ++this.generation;
    this.touched.set('all', generation);
    for (const topic of eventTopics(event)) this.touched.set(topic, generation);
    if (event.type === 'retracted') this.withdrawals?.invalidate();
  }

  invalidateAll(): void {
    this.floor = ++this.generation;
    this.touched.clear();
    this.withdrawals?.invalidate();
  }

  get size(): { bytes: number; entries: number } {
    return { bytes: this.bytes, entries: this.entries.size };
  }

  /** The current render if it is still fresh: no promise, no render. */
  peek(topic: string, format: FeedFormat): RenderedFeed | undefined {
    const key = `${topic}.${format}`;
    const entry = this.entries.get(key);
    if (!entry || !this.isFresh(entry)) return undefined;
    // Least recently used goes first: a hit moves to the end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.feed;
  }

  get(topic: string, format: FeedFormat): Promise<RenderedFeed> {
    const key = `${topic}.${format}`;
    const fresh = this.peek(topic, format);
    if (fresh) return Promise.resolve(fresh);
    const running = this.rendering.get(key);
    if (running && running.generation >= this.changedAt(topic)) return running.feed;
    const generation = this.generation;
    const stale = this.entries.get(key);
    const feed = this.render(topic, format)
      .then(({ feed, staleAtMs }) => {
        this.store(key, { feed, topic, generation, staleAtMs, bytes: feedBytes(feed) });
        return feed;
      })
      .catch((error: unknown) => {
        if (stale) return stale.feed;
        throw error;
      })
      .finally(() => {
        if (this.rendering.get(key)?.feed === feed) this.rendering.delete(key);
      });
    this.rendering.set(key, { generation, feed });
    return feed;
  }

  private changedAt(topic: string): number {
    return Math.max(this.floor, this.touched.get(topic) ?? 0);
  }

  private isFresh(entry: Entry): boolean {
    return entry.generation >= this.changedAt(entry.topic) && Date.now() < entry.staleAtMs;
  }

  private store(key: string, entry: Entry): void {
    const old = this.entries.get(key);
    // A render begun before an invalidation of its topic answers the requests
    // that waited for it, and is not kept: the next request renders again.
    if (entry.generation < this.changedAt(entry.topic)) return;
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    // One feed may take the whole budget (the others make room): a feed that is never kept would be rendered per request.
    if (entry.bytes > this.options.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [oldest, victim] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= victim.bytes;
    }
    this.options.metrics.cacheBytes.set({ cache: 'feeds' }, this.bytes);
  }

  private async render(topic: string, format: FeedFormat) {
    const view = await this.options.views.get([topic === 'all' ? ALL_ITEMS : topic], 'full');
    const items = viewItems(view);
    const placed = this.withdrawals
      ? await this.withdrawals.place(topic, items)
      : { entries: items, staleAtMs: Number.POSITIVE_INFINITY, leftAtMs: undefined };
    // An empty feed still needs a stable date: the start of its log's life is as good as any.
    const updated = new Date(Math.max(Date.parse(view.at ?? '2000-01-01T00:00:00Z'), placed.leftAtMs ?? 0));
    const baseUrl = this.options.baseUrl();
    const body = renderFeed(format, {
      baseUrl,
      siteTitle: this.options.siteTitle,
      topic,
      entries: placed.entries,
      updated,
      ttlMinutes: Math.max(1, Math.ceil(this.options.maxAgeSeconds / 60)),
    });
    this.options.metrics.feedRenders.inc({ format });
    return {
      feed: await encodeFeed(Buffer.from(body), updated.toUTCString(), CONTENT_TYPES[format], feedLinkHeader(baseUrl, topic, format)),
      staleAtMs: Math.min(view.staleAtMs, placed.staleAtMs),
    };
  }
}

/** The render and its compressed variants, each tagged from the one hash of the document. */
async function encodeFeed(bytes: Buffer, lastModified: string, contentType: string, links: string): Promise<RenderedFeed> {
  const hash = createHash('sha1').update(bytes).digest('base64url');
  const compressed = await compressOnce(bytes);
  const identity: Representation = { coding: 'identity', bytes, etag: `"${hash}"` };
  const encodings: RenderedFeed['encodings'] = { identity };
  if (compressed.gzip) encodings.gzip = { coding: 'gzip', bytes: compressed.gzip, etag: `"${hash}-gzip"` };
  if (compressed.br) encodings.br = { coding: 'br', bytes: compressed.br, etag: `"${hash}-br"` };
  return { bytes, lastModified, contentType, links, encodings };
}

/** What an entry holds: every variant, and some room for its headers. */
function feedBytes(feed: RenderedFeed): number {
  let bytes = 512;
  for (const representation of Object.values(feed.encodings)) bytes += representation?.bytes.length ?? 0;
  return bytes;
}
