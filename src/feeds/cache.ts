// Feeds are rendered once per change, never per request. An event marks the
// feeds of its topics stale; the next request renders them again from the
// shared view of that topic. While the store cannot be read, the last render
// is served rather than an error. Entries are bounded in bytes, least
// recently used first out: topics in feed URLs are the client's choice.
import { createHash } from 'node:crypto';
import { ALL_ITEMS, eventTopics, type NewsEvent } from '../domain/event.ts';
import type { Metrics } from '../ops/metrics.ts';
import { type ViewCache, viewItems } from '../views/views.ts';
import { CONTENT_TYPES, type FeedFormat, renderFeed } from './render.ts';

export interface RenderedFeed {
  /** The document encoded once: every response sends these bytes. */
  bytes: Buffer;
  etag: string;
  lastModified: string;
  contentType: string;
}

interface Entry {
  feed: RenderedFeed;
  topic: string;
  /** The invalidation count when its render began: a later one of its topic makes it stale. */
  generation: number;
  /** The first item in it expires then, so it must be rendered again. */
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

  constructor(private readonly options: FeedCacheOptions) {}

  /** Called for every event this process fans out. */
  invalidate(event: NewsEvent): void {
    const generation = ++this.generation;
    this.touched.set('all', generation);
    for (const topic of eventTopics(event)) this.touched.set(topic, generation);
  }

  invalidateAll(): void {
    this.floor = ++this.generation;
    this.touched.clear();
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
        this.store(key, { feed, topic, generation, staleAtMs, bytes: feed.bytes.length + 512 });
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
    // An empty feed still needs a stable date: the start of its log's life is as good as any.
    const updated = new Date(view.at ?? '2000-01-01T00:00:00Z');
    const body = renderFeed(format, {
      baseUrl: this.options.baseUrl(),
      siteTitle: this.options.siteTitle,
      topic,
      items: viewItems(view),
      updated,
      ttlMinutes: Math.max(1, Math.ceil(this.options.maxAgeSeconds / 60)),
    });
    this.options.metrics.feedRenders.inc({ format });
    return {
      feed: {
        bytes: Buffer.from(body),
        etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
        lastModified: updated.toUTCString(),
        contentType: CONTENT_TYPES[format],
      },
      staleAtMs: view.staleAtMs,
    };
  }
}
