// Most feed requests are polls of a feed that has not changed. When its
// render is cached, answer straight from node:http with bytes and headers
// made once per render, before the request reaches the web framework.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FeedCache, RenderedFeed } from './cache.ts';
import { feedCacheControl, Memo, notModified, parseName } from './routes.ts';

export interface FeedFastPathOptions {
  maxAgeSeconds: number;
  /** Headers the framework's middleware adds to every /feeds response (security, CORS). */
  baseHeaders: [string, string][];
}

interface Prepared {
  ok: string[];
  notModified: string[];
}

/** Returns true when it answered the request; false to hand it on. */
export function feedFastPath(cache: FeedCache, options: FeedFastPathOptions) {
  const names = new Memo(1_000, (path: string) => (path.startsWith('/feeds/') ? parseName(path.slice(7)) : null));
  const cacheControl = feedCacheControl(options.maxAgeSeconds);
  const prepared = new WeakMap<RenderedFeed, Prepared>();
  const base = options.baseHeaders.flat();

  const headersFor = (feed: RenderedFeed): Prepared => {
    let headers = prepared.get(feed);
    if (!headers) {
      const common = [...base, 'ETag', feed.etag, 'Last-Modified', feed.lastModified, 'Cache-Control', cacheControl, 'Vary', 'Accept-Encoding'];
      headers = {
        ok: [...common, 'Content-Type', feed.contentType, 'Content-Length', String(feed.bytes.length)],
        notModified: common,
      };
      prepared.set(feed, headers);
    }
    return headers;
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.url?.startsWith('/feeds/')) return false;
    const name = names.get(req.url);
    if (!name) return false;
    const feed = cache.peek(name.topic, name.format);
    if (!feed) return false;
    const headers = headersFor(feed);
    const ims = req.headers['if-modified-since'];
    if (notModified(req.headers['if-none-match'], ims, feed.etag, feed.lastModified)) {
      res.writeHead(304, headers.notModified);
      res.end();
    } else {
      res.writeHead(200, headers.ok);
      res.end(req.method === 'HEAD' ? undefined : feed.bytes);
    }
    return true;
  };
}
