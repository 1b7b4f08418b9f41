// GET /feeds/{topic}.rss|.atom|.json with strong conditional GET, in every
// content coding the render has. On a running server the node:http fast path
// (fast-path.ts) sends every feed response it can; this route answers
// in-process requests, and those whose render failed with nothing older to
// serve (the app's error handler then answers 503).
import { Hono } from 'hono';
import { problem } from '../api/errors.ts';
import { LIMITS, TOPIC_PATTERN } from '../domain/item.ts';
import { chooseRepresentation, feedCacheControl, feedHeaders, heldRepresentation } from './answer.ts';
import type { FeedCache } from './cache.ts';
import { Memo } from '../http/memo.ts';
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

  feeds.get('/:name', async (c) => {
    const name = names.get(c.req.param('name'));
    if (!name) {
      return problem(c, 404, 'not-found', 'feeds are /feeds/{topic}.rss, .atom or .json; topic "all" is every item');
    }
    const feed = cache.peek(name.topic, name.format) ?? (await cache.get(name.topic, name.format));
    const chosen = chooseRepresentation(feed, c.req.header('accept-encoding'));
    const held = heldRepresentation(feed, chosen, c.req.header('if-none-match'), c.req.header('if-modified-since'));
    for (const [header, value] of feedHeaders(feed, held ?? chosen, held ? 304 : 200, cacheControl)) c.header(header, value);
    return held ? c.body(null, 304) : c.body(chosen.bytes as Uint8Array<ArrayBuffer>, 200);
  });
  return feeds;
}

export function parseName(name: string): FeedName | null {
  const match = FEED_NAME.exec(name);
  const topic = match?.[1] ?? '';
  const valid = topic === 'all' || (topic.length <= LIMITS.topicLength && TOPIC_PATTERN.test(topic));
  return match && valid ? { topic, format: match[2] as FeedFormat } : null;
}
