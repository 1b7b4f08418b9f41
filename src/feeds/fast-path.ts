// Every feed request that a render can answer is answered here, straight
// from node:http, before it reaches the web framework: a cached render at
// once, a stale one when its new render is ready. Header blocks are made
// once per variant of a render, and one writer sends every feed response,
// so the headers (and the spelling of their names) never depend on which
// request caused the render.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chooseRepresentation, feedCacheControl, feedHeaders, heldRepresentation } from './answer.ts';
import type { FeedCache, RenderedFeed, Representation } from './cache.ts';
import { Memo } from '../http/memo.ts';
import { REQUEST_ID_HEADER } from '../ops/access-log.ts';
import { parseName } from './routes.ts';

export interface FeedFastPathOptions {
  maxAgeSeconds: number;
  /** Headers the framework's middleware adds to every /feeds response (security, CORS). */
  baseHeaders: [string, string][];
  /** Hands a request to the web app: its feed could not be rendered and nothing older was kept. */
  fallback(req: IncomingMessage, res: ServerResponse, requestId: string): void;
  /** Every response sent, for metrics. */
  answered?(method: string, status: number): void;
}

interface Prepared {
  ok: string[];
  notModified: string[];
}

/** Returns true when it took the request (it answers now or once the render is ready); false to hand it on. */
export function feedFastPath(cache: FeedCache, options: FeedFastPathOptions) {
  const names = new Memo(1_000, (path: string) => (path.startsWith('/feeds/') ? parseName(path.slice(7)) : null));
  const cacheControl = feedCacheControl(options.maxAgeSeconds);
  const prepared = new WeakMap<Representation, Prepared>();
  const base = options.baseHeaders.flat();

  const headersFor = (feed: RenderedFeed, representation: Representation): Prepared => {
    let headers = prepared.get(representation);
    if (!headers) {
      headers = {
        ok: [...base, ...feedHeaders(feed, representation, 200, cacheControl).flat()],
        notModified: [...base, ...feedHeaders(feed, representation, 304, cacheControl).flat()],
      };
      prepared.set(representation, headers);
    }
    return headers;
  };

  /** The prepared block and this response's X-Request-Id, all in one writeHead: Node's fast header path. */
  const withId = (headers: string[], requestId: string): string[] => {
    const all = headers.slice();
    all.push(REQUEST_ID_HEADER, requestId);
    return all;
  };

  const send = (req: IncomingMessage, res: ServerResponse, feed: RenderedFeed, requestId: string): void => {
    const chosen = chooseRepresentation(feed, req.headers['accept-encoding']);
    const held = heldRepresentation(feed, chosen, req.headers['if-none-match'], req.headers['if-modified-since']);
    if (held) {
      res.writeHead(304, withId(headersFor(feed, held).notModified, requestId));
      res.end();
    } else {
      res.writeHead(200, withId(headersFor(feed, chosen).ok, requestId));
      res.end(req.method === 'HEAD' ? undefined : chosen.bytes);
    }
    options.answered?.(req.method ?? 'GET', held ? 304 : 200);
  };

  return (req: IncomingMessage, res: ServerResponse, requestId: string): boolean => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.url?.startsWith('/feeds/')) return false;
    // A query (a reader's cache-buster) changes nothing, as in the app's route.
    const query = req.url.indexOf('?');
    const name = names.get(query < 0 ? req.url : req.url.slice(0, query));
    if (!name) return false;
    const fresh = cache.peek(name.topic, name.format);
    if (fresh) {
      send(req, res, fresh, requestId);
    } else {
      cache.get(name.topic, name.format).then(
        (feed) => send(req, res, feed, requestId),
        () => options.fallback(req, res, requestId),
      );
    }
    return true;
  };
}
