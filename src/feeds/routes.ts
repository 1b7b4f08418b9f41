// GET /feeds/{topic}.rss|.atom|.json with strong conditional GET.
import { Hono } from 'hono';
import { topicSchema } from '../domain/item.ts';
import { problem } from '../api/errors.ts';
import type { FeedCache } from './cache.ts';
import type { FeedFormat } from './render.ts';

const FEED_NAME = /^(.+)\.(rss|atom|json)$/;

export function feedRoutes(cache: FeedCache, options: { publicUrl: string | undefined; maxAgeSeconds: number }) {
  const feeds = new Hono();
  feeds.get('/:name', async (c) => {
    const match = FEED_NAME.exec(c.req.param('name'));
    const topic = match?.[1] ?? '';
    if (!match || (topic !== 'all' && !topicSchema.safeParse(topic).success)) {
      return problem(c, 404, 'not-found', 'feeds are /feeds/{topic}.rss, .atom or .json; topic "all" is every item');
    }
    const baseUrl = options.publicUrl ?? new URL(c.req.url).origin;
    const feed = await cache.get(topic, match[2] as FeedFormat, baseUrl);
    c.header('ETag', feed.etag);
    c.header('Last-Modified', feed.lastModified);
    c.header('Cache-Control', `public, max-age=${options.maxAgeSeconds}, stale-while-revalidate=${options.maxAgeSeconds}`);
    c.header('Vary', 'Accept-Encoding');
    if (notModified(c.req.header('if-none-match'), c.req.header('if-modified-since'), feed.etag, feed.lastModified)) {
      return c.body(null, 304);
    }
    c.header('Content-Type', feed.contentType);
    return c.body(feed.body, 200);
  });
  return feeds;
}

/** RFC 9110 §13.1: If-None-Match wins; If-Modified-Since only when it is absent. */
export function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string,
  lastModified: string,
): boolean {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true;
    return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Date.parse(lastModified) <= since;
  }
  return false;
}
