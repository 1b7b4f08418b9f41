// Feeds are rendered once per change, never per request. An event marks the
// feeds it touches stale; the next request renders them again. While the
// store cannot be read, the last render is served rather than an error.
import { createHash } from 'node:crypto';
import { eventTopics, type NewsEvent } from '../domain/event.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';
import { CONTENT_TYPES, type FeedFormat, renderFeed } from './render.ts';

export interface RenderedFeed {
  body: string;
  /** The body encoded once: every response sends these bytes. */
  bytes: Buffer;
  etag: string;
  lastModified: string;
  contentType: string;
}

interface Entry {
  feed: RenderedFeed;
  topic: string;
  stale: boolean;
  /** The first item in it expires then, so it must be rendered again. */
  staleAtMs: number;
}

export interface FeedCacheOptions {
  store: Store;
  metrics: Metrics;
  siteTitle: string;
  items: number;
  maxAgeSeconds: number;
}

const MAX_ENTRIES = 2_000;

export class FeedCache {
  private readonly entries = new Map<string, Entry>();
  private readonly rendering = new Map<string, Promise<RenderedFeed>>();

  constructor(private readonly options: FeedCacheOptions) {}

  /** Called for every event this process fans out. */
  invalidate(event: NewsEvent): void {
    const topics = eventTopics(event);
    for (const entry of this.entries.values()) {
      if (entry.topic === 'all' || topics.includes(entry.topic)) entry.stale = true;
    }
  }

  invalidateAll(): void {
    for (const entry of this.entries.values()) entry.stale = true;
  }

  /** The current render if it is still fresh: no promise, no render. */
  peek(topic: string, format: FeedFormat, baseUrl: string): RenderedFeed | undefined {
    const entry = this.entries.get(`${topic}\n${format}\n${baseUrl}`);
    return entry && !entry.stale && (entry.staleAtMs === Number.POSITIVE_INFINITY || Date.now() < entry.staleAtMs)
      ? entry.feed
      : undefined;
  }

  async get(topic: string, format: FeedFormat, baseUrl: string): Promise<RenderedFeed> {
    const key = `${topic}\n${format}\n${baseUrl}`;
    const entry = this.entries.get(key);
    if (entry && !entry.stale && Date.now() < entry.staleAtMs) return entry.feed;
    const running = this.rendering.get(key);
    if (running) return running;
    const render = this.render(topic, format, baseUrl)
      .then(({ feed, staleAtMs }) => {
        if (this.entries.size >= MAX_ENTRIES && !this.entries.has(key)) this.entries.clear();
        this.entries.set(key, { feed, topic, stale: false, staleAtMs });
        return feed;
      })
      .catch((error: unknown) => {
        if (entry) return entry.feed;
        throw error;
      })
      .finally(() => this.rendering.delete(key));
    this.rendering.set(key, render);
    return render;
  }

  private async render(topic: string, format: FeedFormat, baseUrl: string) {
    const snapshot = await this.options.store.snapshot(topic === 'all' ? undefined : topic, this.options.items);
    // An empty feed still needs a stable date: the start of its log's life is as good as any.
    const updated = new Date(snapshot.topicAt ?? '2000-01-01T00:00:00Z');
    const body = renderFeed(format, {
      baseUrl,
      siteTitle: this.options.siteTitle,
      topic,
      items: snapshot.items,
      updated,
      ttlMinutes: Math.max(1, Math.ceil(this.options.maxAgeSeconds / 60)),
    });
    this.options.metrics.feedRenders.inc({ format });
    const expiries = snapshot.items.flatMap((item) => (item.expiresAt ? [Date.parse(item.expiresAt)] : []));
    return {
      feed: {
        body,
        bytes: Buffer.from(body),
        etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
        lastModified: updated.toUTCString(),
        contentType: CONTENT_TYPES[format],
      },
      staleAtMs: expiries.length ? Math.min(...expiries) : Number.POSITIVE_INFINITY,
    };
  }
}
