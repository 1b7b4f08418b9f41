// GET /robots.txt, /sitemap.xml (and /sitemap-N.xml when it is an index),
// /sitemap-news.xml: made once per change, each answer the variant its
// Accept-Encoding picks, and 304 when the crawler holds the current one.
import { type Context, Hono } from 'hono';
import { problem } from '../api/errors.ts';
import { acceptedCodings, chooseVariant } from '../http/encoding.ts';
import { SITEMAP_CONTENT_TYPE, type SitemapCache, type SitemapDocument, type SitemapVariant } from './sitemaps.ts';

/** Crawlers revalidate each time (a 304 costs nothing): a kill must leave at once, not after a max-age. */
const CACHE_CONTROL = 'public, no-cache';

export function robotsTxt(baseUrl: string): string {
  return `User-agent: *
Allow: /
Disallow: /newsroom
Disallow: /api/

Sitemap: ${baseUrl}/sitemap.xml
Sitemap: ${baseUrl}/sitemap-news.xml
`;
}

/**
 * RFC 9110 §13.1: If-None-Match wins (a tag of any variant matches: decoded,
 * it is the current document); If-Modified-Since counts only without it.
 */
export function held(document: SitemapDocument, chosen: SitemapVariant, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): SitemapVariant | undefined {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return chosen;
    for (const listed of ifNoneMatch.split(',')) {
      const tag = listed.trim().replace(/^W\//, '');
      for (const variant of Object.values(document.encodings)) if (variant?.etag === tag) return variant;
    }
    return undefined;
  }
  if (ifModifiedSince === undefined) return undefined;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Date.parse(document.lastModified) <= since ? chosen : undefined;
}

export function seoRoutes(sitemaps: SitemapCache, baseUrl: () => string): Hono {
  const routes = new Hono();
  let robots: { base: string; text: string } | undefined;

  routes.get('/robots.txt', (c) => {
    const base = baseUrl();
    if (robots?.base !== base) robots = { base, text: robotsTxt(base) };
    c.header('Cache-Control', 'public, max-age=3600');
    c.header('Content-Type', 'text/plain; charset=utf-8');
    return c.body(robots.text);
  });

  const answer = async (c: Context, file: string) => {
    const document = await sitemaps.document(file);
    if (!document) return problem(c, 404, 'not-found', `there is no ${file}: every story fits in /sitemap.xml`);
    const { variant } = chooseVariant(document.encodings, acceptedCodings(c.req.header('accept-encoding')));
    const match = held(document, variant, c.req.header('if-none-match'), c.req.header('if-modified-since'));
    const sent = match ?? variant;
    c.header('ETag', sent.etag);
    c.header('Last-Modified', document.lastModified);
    c.header('Cache-Control', CACHE_CONTROL);
    c.header('Vary', 'Accept-Encoding');
    if (match) return c.body(null, 304);
    c.header('Content-Type', SITEMAP_CONTENT_TYPE);
    if (sent.coding !== 'identity') c.header('Content-Encoding', sent.coding);
    return c.body(sent.bytes as Uint8Array<ArrayBuffer>, 200);
  };

  routes.get('/sitemap.xml', (c) => answer(c, 'sitemap.xml'));
  routes.get('/sitemap-news.xml', (c) => answer(c, 'sitemap-news.xml'));
  for (let n = 1; n <= sitemaps.maxFiles; n++) routes.get(`/sitemap-${n}.xml`, (c) => answer(c, `sitemap-${n}.xml`));
  return routes;
}
