// One answer to a feed request, whichever path sends it: the variant its
// Accept-Encoding picks, and 304 when the reader already holds the current
// render. Header names are spelled one way everywhere (`ETag`,
// `Last-Modified`): some feed readers look them up case-sensitively.
import type { RenderedFeed, Representation } from './cache.ts';
import { acceptedCodings, chooseVariant } from '../http/encoding.ts';

export function feedCacheControl(maxAgeSeconds: number): string {
  return `public, max-age=${maxAgeSeconds}, stale-while-revalidate=${maxAgeSeconds}`;
}

/** The variant a request's Accept-Encoding picks among those the render has. */
export function chooseRepresentation(feed: RenderedFeed, acceptEncoding: string | undefined): Representation {
  return chooseVariant(feed.encodings, acceptedCodings(acceptEncoding)).variant;
}

/**
 * The representation the reader already holds, when it is current (a 304),
 * or undefined (a 200). RFC 9110 §13.1: If-None-Match wins, compared weakly,
 * and a tag of any variant of this render matches: the reader's copy, once
 * decoded, is the current document whatever coding brought it. The 304
 * carries the tag it matched, so a cache freshens the variant it holds.
 * If-Modified-Since counts only without If-None-Match.
 */
export function heldRepresentation(
  feed: RenderedFeed,
  chosen: Representation,
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
): Representation | undefined {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch === chosen.etag) return chosen;
    return matchTag(feed, chosen, ifNoneMatch);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Date.parse(feed.lastModified) <= since ? chosen : undefined;
  }
  return undefined;
}

function matchTag(feed: RenderedFeed, chosen: Representation, ifNoneMatch: string): Representation | undefined {
  if (ifNoneMatch.trim() === '*') return chosen;
  for (const listed of ifNoneMatch.split(',')) {
    const tag = listed.trim().replace(/^W\//, '');
    for (const representation of Object.values(feed.encodings)) {
      if (representation?.etag === tag) return representation;
    }
  }
  return undefined;
}

/** The headers of a 200 or a 304 of this representation, in the order and spelling every path sends. */
export function feedHeaders(feed: RenderedFeed, representation: Representation, status: 200 | 304, cacheControl: string): [string, string][] {
  const headers: [string, string][] = [
    ['ETag', representation.etag],
    ['Last-Modified', feed.lastModified],
    ['Cache-Control', cacheControl],
    ['Vary', 'Accept-Encoding'],
    ['Link', feed.links],
  ];
  if (status === 304) return headers;
  headers.push(['Content-Type', feed.contentType]);
  if (representation.coding !== 'identity') headers.push(['Content-Encoding', representation.coding]);
  headers.push(['Content-Length', String(representation.bytes.length)]);
  return headers;
}
