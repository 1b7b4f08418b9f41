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
import { acceptedCodings, type Compressed, chooseVariant, compressOnce } from '../http/encoding.ts';
import { parseTopicsParam } from '../realtime/protocol.ts';
import type { HistoryEntry, Store } from '../store/store.ts';
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
  /** A corrected story's history, read once per view of it, like its page. */
  const histories = new WeakMap<View, Promise<HistoryEntry[]>>();
  const notFound = notFoundPage(siteTitle);

  /**
   * The view's page, rendered, encoded and compressed once, and reused while
   * it is fresh: `ttlMs` is how old its relative times may grow (Infinity: it has none).
   */
  const once = (view: View, render: (now: number) => string, ttlMs = RENDER_TTL_MS): Promise<Compressed> => {
    const now = Date.now();
    let page = rendered.get(view);
    if (!page || now - page.at > ttlMs) {
      page = { page: compressOnce(Buffer.from(render(now))), at: now };
      rendered.set(view, page);
    }
    return page.page;
  };

  const html = (c: Context, body: string | Uint8Array<ArrayBuffer>, status: 200 | 400 | 404 | 410 = 200, cacheControl = 'no-cache') => {
    c.header('Cache-Control', cacheControl);
    c.header('Content-Type', 'text/html; charset=UTF-8');
    return c.body(body, status);
  };

  /** A page made once: the variant this request accepts. */
  const compressedHtml = (c: Context, page: Compressed, cacheControl?: string) => {
    const { coding, variant } = chooseVariant(page, acceptedCodings(c.req.header('accept-encoding')));
    c.header('Vary', 'Accept-Encoding');
    if (coding !== 'identity') c.header('Content-Encoding', coding);
    return html(c, variant as Uint8Array<ArrayBuffer>, 200, cacheControl);
  };

  pages.get('/', async (c) => {
    const parsed = parseTopicsParam(c.req.query('topics') ?? null, options.maxTopics);
    if ('error' in parsed) return html(c, badRequestPage(siteTitle, parsed.error), 400);
    // One order for the same set: one view, one render.
    const topics = parsed.topics ? [...parsed.topics].sort() : null;
    const view = await views.get(listKeys(topics), 'card');
    // A topic page links every section too: those come from the shared front-page view.
    const everything = topics ? await views.get(listKeys(null), 'card') : view;
    return compressedHtml(
      c,
      await once(view, (now) =>
        readerPage({
          siteTitle,
          topics,
          items: viewItems(view, options.snapshotItems),
          sectionItems: topics ? viewItems(everything, options.snapshotItems) : undefined,
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
      let history = histories.get(view);
      if (!history) {
        history = item.version > 1 ? store.history(id) : Promise.resolve([]);
        histories.set(view, history);
      }
      const versions = await history.catch(() => {
        histories.delete(view);
        return [];
      });
      return compressedHtml(c, await once(view, () => itemPage({ siteTitle, baseUrl: options.baseUrl() }, item, versions), Number.POSITIVE_INFINITY));
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
