// The feed cache: one render per change, a render that an event overtook is
// served to those who waited for it but never kept, and bytes stay bounded
// whatever topics clients ask for.
import { describe, expect, it } from 'vitest';
import type { NewsEvent } from '../../src/domain/event.ts';
import { FeedCache } from '../../src/feeds/cache.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import type { ViewCache, View } from '../../src/views/views.ts';

function item(id: string, topics: string[], headline = `Headline ${id}`) {
  return { id, headline, topics, priority: 'routine', version: 1, publishedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', status: 'published', body: `<p>${'x'.repeat(2_000)}</p>` };
}

function event(seq: number, topics: string[]): NewsEvent {
  return { seq, type: 'published', at: '2026-01-01T00:00:00.000Z', item: item(`i${seq}`, topics) as NewsEvent['item'] };
}

/** Views whose reads the test completes, returning the current headline of each topic. */
function gatedViews() {
  const headlines = new Map<string, string>();
  let gates: (() => void)[] = [];
  let reads = 0;
  const views = {
    async get(keys: readonly string[]): Promise<View> {
      reads++;
      const topic = keys[0] as string;
      const headline = headlines.get(topic) ?? 'first';
      await new Promise<void>((resolve) => gates.push(resolve));
      const json = JSON.stringify(item(`${topic}-1`, [topic], headline));
      return { epoch: 'e', headSeq: 1, detail: 'full', entries: [{ id: `${topic}-1`, order: 1, json, expiresMs: undefined }], seq: 1, at: undefined, staleAtMs: Number.POSITIVE_INFINITY };
    },
  };
  return {
    views: views as unknown as ViewCache,
    reads: () => reads,
    setHeadline: (topic: string, headline: string) => headlines.set(topic, headline),
    release() {
      const waiting = gates;
      gates = [];
      for (const open of waiting) open();
    },
  };
}

const options = (views: ViewCache, maxBytes = 10 * 1024 * 1024) => ({
  views,
  metrics: createMetrics(),
  siteTitle: 'Test',
  maxAgeSeconds: 60,
  maxBytes,
  baseUrl: () => 'https://news.example.com',
});

describe('FeedCache', () => {
  it('renders once for a rush of requests, and serves the render until an event touches the topic', async () => {
    const gated = gatedViews();
    const cache = new FeedCache(options(gated.views));
    const rush = Array.from({ length: 50 }, () => cache.get('world', 'rss'));
    gated.release();
    const feeds = await Promise.all(rush);
    expect(gated.reads()).toBe(1);
    expect(new Set(feeds).size).toBe(1);
    expect(cache.peek('world', 'rss')).toBe(feeds[0]);
    cache.invalidate(event(2, ['sport']));
    expect(cache.peek('world', 'rss')).toBe(feeds[0]);
    cache.invalidate(event(3, ['world']));
    expect(cache.peek('world', 'rss')).toBeUndefined();
  });

  it('never keeps a render that began before an event of its topic', async () => {
    const gated = gatedViews();
    const cache = new FeedCache(options(gated.views));
    const early = cache.get('world', 'json');
    // The correction lands while the old state is being rendered.
    gated.setHeadline('world', 'corrected');
    cache.invalidate(event(2, ['world']));
    gated.release();
    expect(((await early).bytes.toString())).toContain('first');
    // Served once to whoever waited, then rendered again from the new state.
    expect(cache.peek('world', 'json')).toBeUndefined();
    const next = cache.get('world', 'json');
    gated.release();
    expect((await next).bytes.toString()).toContain('corrected');
    expect(cache.peek('world', 'json')).toBe(await next);
  });

  it('stays within its bytes however many topics are asked for', async () => {
    const gated = gatedViews();
    const cache = new FeedCache(options(gated.views, 1024 * 1024));
    for (let i = 0; i < 500; i++) {
      const feed = cache.get(`topic-${i}`, 'atom');
      gated.release();
      await feed;
    }
    expect(cache.size.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(cache.size.entries).toBeLessThan(500);
  });
});
