// Feed documents from item state. Plain-text fields are HTML-escaped before
// they go into elements that readers treat as HTML; the body is already
// sanitized HTML.
import { Feed } from 'feed';
import { escapeHtml, type Item } from '../domain/item.ts';

export type FeedFormat = 'rss' | 'atom' | 'json';

export const CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

export interface FeedContext {
  /** Absolute base URL, without trailing slash. */
  baseUrl: string;
  siteTitle: string;
  topic: string;
  items: Item[];
  /** Time of the newest event that touched this feed. */
  updated: Date;
  ttlMinutes: number;
}

/** Stable, unique, never reused: ids are unique per server and never change. */
export function itemGuid(item: Pick<Item, 'id'>): string {
  return `urn:newswire:item:${item.id}`;
}

export function itemPermalink(baseUrl: string, item: Pick<Item, 'id' | 'url'>): string {
  return item.url ?? `${baseUrl}/items/${encodeURIComponent(item.id)}`;
}

function feedTitle(ctx: FeedContext): string {
  return ctx.topic === 'all' ? ctx.siteTitle : `${ctx.siteTitle}: ${ctx.topic}`;
}

function homeUrl(ctx: FeedContext): string {
  return ctx.topic === 'all' ? `${ctx.baseUrl}/` : `${ctx.baseUrl}/?topics=${ctx.topic}`;
}

function feedUrl(ctx: FeedContext, format: FeedFormat): string {
  return `${ctx.baseUrl}/feeds/${ctx.topic}.${format}`;
}

/** The item's HTML for feed readers: its image, then its body (or summary). */
function contentHtml(item: Item): string | undefined {
  const parts: string[] = [];
  if (item.image) {
    parts.push(`<figure><img src="${escapeHtml(item.image.url)}" alt="${escapeHtml(item.image.alt)}"></figure>`);
  }
  if (item.body) parts.push(item.body);
  if (!parts.length) return undefined;
  // A CDATA section ends at "]]>": make sure none can occur inside one.
  return parts.join('\n').replaceAll(']]>', ']]&gt;');
}

function buildXmlFeed(ctx: FeedContext): Feed {
  const feed = new Feed({
    id: feedUrl(ctx, 'atom'),
    title: feedTitle(ctx),
    description: ctx.topic === 'all' ? `Breaking news from ${ctx.siteTitle}` : `Breaking news on ${ctx.topic}`,
    link: homeUrl(ctx),
    language: 'en',
    updated: ctx.updated,
    generator: 'newswire',
    ttl: ctx.ttlMinutes,
    feedLinks: { rss: feedUrl(ctx, 'rss'), atom: feedUrl(ctx, 'atom'), json: feedUrl(ctx, 'json') },
    author: { name: ctx.siteTitle, link: `${ctx.baseUrl}/` },
    copyright: `© ${ctx.siteTitle}`,
  });
  for (const item of ctx.items) {
    const content = contentHtml(item);
    const byline = item.byline ?? item.source;
    feed.addItem({
      title: escapeHtml(item.headline),
      id: itemGuid(item),
      guid: itemGuid(item),
      link: itemPermalink(ctx.baseUrl, item),
      date: new Date(item.updatedAt),
      published: new Date(item.publishedAt),
      description: escapeHtml(item.summary ?? item.headline),
      ...(content ? { content } : {}),
      ...(byline ? { author: [{ name: byline }] } : {}),
      category: item.topics.map((topic) => ({ name: topic, term: topic })),
    });
  }
  return feed;
}

export function renderFeed(format: FeedFormat, ctx: FeedContext): string {
  if (format === 'json') return renderJsonFeed(ctx);
  const feed = buildXmlFeed(ctx);
  return format === 'rss' ? renderRss(feed, ctx) : feed.atom1();
}

/**
 * RSS 2.0 has no "updated" element and wants e-mail addresses in <author>:
 * bylines go to dc:creator and update times to dcterms:modified instead.
 */
function renderRss(feed: Feed, ctx: FeedContext): string {
  for (const [index, entry] of feed.items.entries()) {
    const item = ctx.items[index] as Item;
    const extensions = [{ name: 'dcterms:modified', objects: { _text: new Date(item.updatedAt).toISOString() } }];
    if (entry.author?.[0]?.name) extensions.push({ name: 'dc:creator', objects: { _text: entry.author[0].name } });
    entry.author = undefined;
    entry.extensions = extensions;
  }
  return feed
    .rss2()
    .replace(
      /<rss version="2.0"[^>]*>/,
      '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">',
    );
}

/** JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written directly. */
function renderJsonFeed(ctx: FeedContext): string {
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: feedTitle(ctx),
    home_page_url: homeUrl(ctx),
    feed_url: feedUrl(ctx, 'json'),
    description: ctx.topic === 'all' ? `Breaking news from ${ctx.siteTitle}` : `Breaking news on ${ctx.topic}`,
    language: 'en',
    authors: [{ name: ctx.siteTitle, url: `${ctx.baseUrl}/` }],
    items: ctx.items.map((item) => {
      const content = contentHtml(item);
      const byline = item.byline ?? item.source;
      return {
        id: itemGuid(item),
        url: itemPermalink(ctx.baseUrl, item),
        title: item.headline,
        ...(content ? { content_html: content } : { content_text: item.summary ?? item.headline }),
        ...(item.summary ? { summary: item.summary } : {}),
        ...(item.image ? { image: item.image.url } : {}),
        date_published: item.publishedAt,
        date_modified: item.updatedAt,
        ...(byline ? { authors: [{ name: byline }] } : {}),
        tags: item.topics,
        ...(item.language ? { language: item.language } : {}),
        _newswire: {
          priority: item.priority,
          version: item.version,
          ...(item.changeNote ? { change_note: item.changeNote } : {}),
          ...(item.source ? { source: item.source } : {}),
          ...(item.expiresAt ? { expires_at: item.expiresAt } : {}),
        },
      };
    }),
  };
  return JSON.stringify(feed);
}
