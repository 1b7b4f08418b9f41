// The reader's pages: the front page and topic pages (first paint of the
// latest cards, then live), story pages, the newsroom console shell. Every
// page is rendered once per view and shared: a rush of readers on one page
// costs one render per event (and one per half minute, for relative times).
import { type Context, Hono } from 'hono';
import { formatCursor } from '../domain/cursor.ts';
import { itemKey } from '../domain/event.ts';
import { ID_PATTERN } from '../domain/item.ts';
import { parseTopicsParam } from '../realtime/protocol.ts';
import type { Store } from '../store/store.ts';
import { listKeys, type View, type ViewCache, viewItems } from '../views/views.ts';
import { badRequestPage, notFoundPage, withdrawnPage } from './layout.ts';
import { newsroomPage } from './newsroom.ts';
import { itemPage, readerPage } from './reader.ts';

/** Relative times ("5 min ago") in a shared render may be this old; the page refreshes them itself. */
const RENDER_TTL_MS = 30_000;
const encoder = new TextEncoder();

export interface PageOptions {
  store: Store;
  views: ViewCache;
  siteTitle: string;
  /** Cards on a first paint. */
  snapshotItems: number;
  /** Topics one page may combine: each costs a list read. */
  maxTopics: number;
}

export function pageRoutes(options: PageOptions): Hono {
  const { store, views, siteTitle } = options;
  const pages = new Hono();
  const rendered = new WeakMap<View, { bytes: Uint8Array<ArrayBuffer>; at: number }>();

  /** The view's page, rendered and encoded once, and reused while it is fresh. */
  const once = (view: View, render: (now: number) => string): Uint8Array<ArrayBuffer> => {
    const now = Date.now();
    let page = rendered.get(view);
    if (!page || now - page.at > RENDER_TTL_MS) {
      page = { bytes: encoder.encode(render(now)), at: now };
      rendered.set(view, page);
    }
    return page.bytes;
  };

  const html = (c: Context, body: string | Uint8Array<ArrayBuffer>, status: 200 | 400 | 404 | 410 = 200) => {
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Type', 'text/html; charset=UTF-8');
    return c.body(body, status);
  };

  pages.get('/', async (c) => {
    const parsed = parseTopicsParam(c.req.query('topics') ?? null, options.maxTopics);
    if ('error' in parsed) return html(c, badRequestPage(siteTitle, parsed.error), 400);
    // One order for the same set: one view, one render.
    const topics = parsed.topics ? [...parsed.topics].sort() : null;
    const view = await views.get(listKeys(topics), 'card');
    return html(
      c,
      once(view, (now) =>
        readerPage({
          siteTitle,
          topics,
          items: viewItems(view, options.snapshotItems),
          cursor: formatCursor(view.epoch, view.headSeq),
          now,
        }),
      ),
    );
  });

  pages.get('/items/:id', async (c) => {
    const id = c.req.param('id');
    if (!ID_PATTERN.test(id)) return html(c, notFoundPage(siteTitle), 404);
    const view = await views.get([itemKey(id)], 'full');
    const [item] = viewItems(view);
    if (item) return html(c, once(view, () => itemPage(siteTitle, item)));
    // Not live: withdrawn, expired, held or unknown. Only a withdrawal says so.
    const stored = await store.getItem(id);
    if (stored?.status === 'retracted') return html(c, withdrawnPage(siteTitle, stored.reason), 410);
    return html(c, notFoundPage(siteTitle), 404);
  });

  // Newsroom console: a static shell; the token lives in the tab, never in a cookie.
  const console = newsroomPage(siteTitle);
  pages.get('/newsroom', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.html(console);
  });
  return pages;
}
