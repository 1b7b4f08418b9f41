// The reader's pages: the front page and topic pages (first paint of the
// latest cards, then live), story pages, the newsroom console shell. Every
// page is rendered once per view and shared: a rush of readers on one page
// costs one render per event (and, on pages with relative times, one per half
// minute), compressed once per render (gzip, brotli): each request sends the
// variant it accepts.
import { type Context, Hono } from 'hono';
import { formatCursor } from '../domain/cursor.ts';
import { itemKey } from '../domain/event.ts';
import { ID_PATTERN } from '../domain/item.ts';
import { type Compressed, compressOnce, sendVariant } from '../http/encoding.ts';
import { parseTopicsParam } from '../realtime/protocol.ts';
import type { Store } from '../store/store.ts';
import { listKeys, type View, type ViewCache, viewItems } from '../views/views.ts';
import { badRequestPage, notFoundPage, withdrawnPage } from './layout.ts';
import { newsroomPage } from './newsroom.ts';
import { itemPage, readerPage } from './reader.ts';

/** Relative times ("5 min ago") in a shared render may be this old; the page refreshes them itself. */
const RENDER_TTL_MS = 30_000;

export interface PageOptions {
  store: Store;
  views: ViewCache;
  siteTitle: string;
  /** Cards on a first paint. */
  snapshotItems: number;
  /** Topics one page may combine: each costs a list read. */
  maxTopics: number;
  /** The public base (PUBLIC_URL) for canonical links and structured data. */
  baseUrl: () => string;
}

export function pageRoutes(options: PageOptions): Hono {
  const { store, views, siteTitle } = options;
  const pages = new Hono();
  const rendered = new WeakMap<View, { page: Promise<Compressed>; at: number }>();
  const notFound = notFoundPage(siteTitle);

  /**
   * The view's page, rendered (with whatever else it reads), encoded and
   * compressed once, and reused while it is fresh: `ttlMs` is how old its
   * relative times may grow (Infinity: it has none). A render that fails is
   * not kept: the next request tries again.
   */
  const once = (view: View, render: (now: number) => string | Promise<string>, ttlMs = RENDER_TTL_MS): Promise<Compressed> => {
    const now = Date.now();
    let page = rendered.get(view);
    if (!page || now - page.at > ttlMs) {
      const made = Promise.resolve(render(now)).then((text) => compressOnce(Buffer.from(text)));
      const kept = { page: made, at: now };
      made.catch(() => {
        if (rendered.get(view) === kept) rendered.delete(view);
      });
      page = kept;
      rendered.set(view, page);
    }
    return page.page;
  };

  const htmlHeaders = (c: Context, cacheControl = 'no-cache') => {
    c.header('Cache-Control', cacheControl);
    c.header('Content-Type', 'text/html; charset=UTF-8');
  };

  const html = (c: Context, body: string | Uint8Array<ArrayBuffer>, status: 200 | 400 | 404 | 410 = 200) => {
    htmlHeaders(c);
    return c.body(body, status);
  };

  /** A page made once: the variant this request accepts. */
  const compressedHtml = (c: Context, page: Compressed, cacheControl?: string) => {
    htmlHeaders(c, cacheControl);
    return sendVariant(c, page);
  };

  pages.get('/', async (c) => {
    const parsed = parseTopicsParam(c.req.query('topics') ?? null, options.maxTopics);
    if ('error' in parsed) return html(c, badRequestPage(siteTitle, parsed.error), 400);
    // One order for the same set: one view, one render.
    const topics = parsed.topics ? [...parsed.topics].sort() : null;
    const view = await views.get(listKeys(topics), 'card');
    return compressedHtml(
      c,
      await once(view, async (now) =>
        readerPage({
          siteTitle,
          topics,
          items: viewItems(view, options.snapshotItems),
          // A topic page links every section too: those come from the shared front-page view.
          sectionItems: topics ? viewItems(await views.get(listKeys(null), 'card'), options.snapshotItems) : undefined,
          cursor: formatCursor(view.epoch, view.headSeq),
          now,
          baseUrl: options.baseUrl(),
        }),
      ),
    );
  });

  pages.get('/items/:id', async (c) => {
    const id = c.req.param('id');
    if (!ID_PATTERN.test(id)) return html(c, notFound, 404);
    const view = await views.get([itemKey(id)], 'full');
    const [item] = viewItems(view);
    // Story pages show absolute times only: a render lasts as long as its view.
    if (item) {
      const site = { siteTitle, baseUrl: options.baseUrl() };
      // A corrected story lists its updates: their history is read once per view, with the render.
      const page = once(view, async () => itemPage(site, item, item.version > 1 ? await store.history(id) : []), Number.POSITIVE_INFINITY);
      // History unreadable: the story without it, this time only.
      return compressedHtml(c, await page.catch(() => compressOnce(Buffer.from(itemPage(site, item)))));
    }
    // Not live: withdrawn, expired, held or unknown. Only a withdrawal says so.
    const stored = await store.getItem(id);
    if (stored?.status === 'retracted') {
      // Search engines drop a 410 at once; the header says so to those that read no HTML.
      c.header('X-Robots-Tag', 'noindex');
      return html(c, withdrawnPage(siteTitle, stored.reason), 410);
    }
    return html(c, notFound, 404);
  });

  // Newsroom console: a static shell; the token lives in the tab, never in a cookie.
  const newsroomShell = compressOnce(Buffer.from(newsroomPage(siteTitle)));
  pages.get('/newsroom', async (c) => compressedHtml(c, await newsroomShell, 'no-store'));
  return pages;
}
