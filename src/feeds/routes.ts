// GET /feeds/{topic}.rss|.atom|.json with strong conditional GET. Most
// requests are a poll of a feed that has not changed: they are answered from
// the cached render, with its bytes and headers made once per render.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { problem } from '../api/errors.ts';
import { LIMITS, TOPIC_PATTERN } from '../domain/item.ts';
import type { FeedCache, RenderedFeed } from './cache.ts';
import type { FeedFormat } from './render.ts';

const FEED_NAME = /^(.+)\.(rss|atom|json)$/;

export interface FeedName {
  topic: string;
  format: FeedFormat;
}

export function feedRoutes(cache: FeedCache, options: { maxAgeSeconds: number }) {
  const feeds = new Hono();
  const cacheControl = feedCacheControl(options.maxAgeSeconds);
  const names = new Memo<FeedName | null>(1_000, parseName);

  const respond = (c: Context, feed: RenderedFeed): Response => {
    c.header('ETag', feed.etag);
    c.header('Last-Modified', feed.lastModified);
    c.header('Cache-Control', cacheControl);
    c.header('Vary', 'Accept-Encoding');
    if (notModified(c.req.header('if-none-match'), c.req.header('if-modified-since'), feed.etag, feed.lastModified)) {
      return c.body(null, 304);
    }
    c.header('Content-Type', feed.contentType);
    return c.body(feed.bytes as Uint8Array<ArrayBuffer>, 200);
  };

  feeds.get('/:name', (c): Response | Promise<Response> => {
    const name = names.get(c.req.param('name'));
    if (!name) {
      return problem(c, 404, 'not-found', 'feeds are /feeds/{topic}.rss, .atom or .json; topic "all" is every item');
    }
    const fresh = cache.peek(name.topic, name.format);
    if (fresh) return respond(c, fresh);
    return cache.get(name.topic, name.format).then((feed) => respond(c, feed));
  });
  return feeds;
}

export function feedCacheControl(maxAgeSeconds: number): string {
  return `public, max-age=${maxAgeSeconds}, stale-while-revalidate=${maxAgeSeconds}`;
}

export function parseName(name: string): FeedName | null {
  const match = FEED_NAME.exec(name);
  const topic = match?.[1] ?? '';
  const valid = topic === 'all' || (topic.length <= LIMITS.topicLength && TOPIC_PATTERN.test(topic));
  return match && valid ? { topic, format: match[2] as FeedFormat } : null;
}

/** A bounded map of results of a pure function of a string. */
export class Memo<T> {
  private readonly map = new Map<string, T>();

  constructor(
    private readonly max: number,
    private readonly compute: (key: string) => T,
  ) {}

  get(key: string): T {
    let value = this.map.get(key);
    if (value === undefined && !this.map.has(key)) {
      value = this.compute(key);
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(key, value);
    }
    return value as T;
  }
}

/** RFC 9110 §13.1: If-None-Match wins; If-Modified-Since only when it is absent. */
export function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string,
  lastModified: string,
): boolean {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch === etag) return true;
    if (ifNoneMatch.trim() === '*') return true;
    return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Date.parse(lastModified) <= since;
  }
  return false;
}
