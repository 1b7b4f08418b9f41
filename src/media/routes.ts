// Uploaded media on stable URLs: `/media/<name>`. A name is a hash of the
// sender's id plus the extension of the type its bytes are, so its content
// never changes and caches may keep it for good.
import { Hono } from 'hono';
import { problem } from '../api/errors.ts';
import { MEDIA_NAME_PATTERN, type MediaStore } from './store.ts';

export function mediaRoutes(media: MediaStore): Hono {
  const routes = new Hono();
  routes.get('/media/:name', async (c) => {
    const name = c.req.param('name');
    const found = MEDIA_NAME_PATTERN.test(name) ? await media.get(name) : null;
    if (!found) return problem(c, 404, 'not-found', 'no media with this name');
    const etag = `"${name}"`;
    const headers = {
      'Content-Type': found.type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
      ETag: etag,
    };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    return c.body(found.bytes as Uint8Array<ArrayBuffer>, 200, { ...headers, 'Content-Length': String(found.bytes.length) });
  });
  return routes;
}
