// Feed documents from item state: RSS 2.0 and Atom 1.0 written as XML here
// (every element is ours to choose: enclosures with honest types, bylines
// apart from sources), JSON Feed 1.1 as JSON. What each entry says is
// decided once, in entries.ts.
import { escapeHtml } from '../domain/item.ts';
import { type EntryView, entryView, type FeedEntry } from './entries.ts';

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
  /** Newest first: live items, and withdrawal notices in the place of retracted ones. */
  entries: FeedEntry[];
  /** Time of the newest change of this feed. */
  updated: Date;
  ttlMinutes: number;
}

export function renderFeed(format: FeedFormat, ctx: FeedContext): string {
  const views = ctx.entries.map((entry) => entryView(entry, ctx.baseUrl));
  if (format === 'json') return renderJsonFeed(ctx, views);
  return format === 'rss' ? renderRss(ctx, views) : renderAtom(ctx, views);
}

function feedTitle(ctx: FeedContext): string {
  return ctx.topic === 'all' ? ctx.siteTitle : `${ctx.siteTitle}: ${ctx.topic}`;
}

function feedDescription(ctx: FeedContext): string {
  return ctx.topic === 'all' ? `Breaking news from ${ctx.siteTitle}` : `Breaking news on ${ctx.topic}`;
}

function homeUrl(ctx: FeedContext): string {
  return ctx.topic === 'all' ? `${ctx.baseUrl}/` : `${ctx.baseUrl}/?topics=${ctx.topic}`;
}

function feedUrl(ctx: FeedContext, format: FeedFormat): string {
  return `${ctx.baseUrl}/feeds/${ctx.topic}.${format}`;
}

/** The WebSub hub every feed advertises. */
export function hubUrl(baseUrl: string): string {
  return `${baseUrl}/websub`;
}

/** The Link header of a feed response: its hub and itself (WebSub discovery). */
export function feedLinkHeader(baseUrl: string, topic: string, format: FeedFormat): string {
  return `<${hubUrl(baseUrl)}>; rel="hub", <${baseUrl}/feeds/${topic}.${format}>; rel="self"`;
}

// --- XML ------------------------------------------------------------------

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function xmlAttr(value: string): string {
  return xmlText(value).replace(/"/g, '&quot;');
}

function element(name: string, value: string): string {
  return `<${name}>${xmlText(value)}</${name}>`;
}

/** HTML for readers, kept verbatim: a "]]>" inside is split across two sections. */
function cdata(html: string): string {
  return `<![CDATA[${html.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

function block(name: string, lines: (string | undefined | false)[]): string {
  return `<${name}>\n${lines.filter(Boolean).join('\n')}\n</${name}>`;
}

// --- RSS 2.0 ----------------------------------------------------------------

const RSS_NAMESPACES = [
  'xmlns:atom="http://www.w3.org/2005/Atom"',
  'xmlns:content="http://purl.org/rss/1.0/modules/content/"',
  'xmlns:dc="http://purl.org/dc/elements/1.1/"',
  'xmlns:dcterms="http://purl.org/dc/terms/"',
  'xmlns:media="http://search.yahoo.com/mrss/"',
].join(' ');

function renderRss(ctx: FeedContext, views: EntryView[]): string {
  const channel = block('channel', [
    element('title', feedTitle(ctx)),
    element('link', homeUrl(ctx)),
    element('description', feedDescription(ctx)),
    element('language', 'en'),
    element('copyright', `© ${ctx.siteTitle}`),
    element('lastBuildDate', ctx.updated.toUTCString()),
    element('docs', 'https://www.rssboard.org/rss-specification'),
    element('generator', 'newswire'),
    element('ttl', String(ctx.ttlMinutes)),
    `<atom:link href="${xmlAttr(feedUrl(ctx, 'rss'))}" rel="self" type="application/rss+xml"/>`,
    `<atom:link href="${xmlAttr(hubUrl(ctx.baseUrl))}" rel="hub"/>`,
    ...views.map(rssItem),
  ]);
  return `${XML_DECLARATION}\n<rss version="2.0" ${RSS_NAMESPACES}>\n${channel}\n</rss>\n`;
}

/**
 * RSS 2.0 wants an e-mail address in <author> and has no "updated": bylines
 * go to dc:creator, sources to dc:publisher (<source> would need the
 * source's own feed URL, which we do not have), update times to
 * dcterms:modified. <enclosure> requires a type and a length in bytes: it is
 * given when the type is known from the extension, with length 0 for
 * "unknown" (RSS Best Practices Profile); media:content always.
 */
function rssItem(view: EntryView): string {
  const image = view.image;
  return block('item', [
    // Readers treat titles as HTML: a headline's "<" and "&" must reach them as text.
    `<title>${cdata(escapeHtml(view.title))}</title>`,
    element('link', view.link),
    `<guid isPermaLink="false">${xmlText(view.guid)}</guid>`,
    element('pubDate', new Date(view.published).toUTCString()),
    element('dcterms:modified', new Date(view.updated).toISOString()),
    `<description>${cdata(view.summaryHtml)}</description>`,
    view.contentHtml && `<content:encoded>${cdata(view.contentHtml)}</content:encoded>`,
    view.byline && element('dc:creator', view.byline),
    view.publisher && element('dc:publisher', view.publisher),
    ...view.topics.map((topic) => element('category', topic)),
    image?.type && `<enclosure url="${xmlAttr(image.url)}" length="0" type="${image.type}"/>`,
    image && mediaContent(image),
  ]);
}

function mediaContent(image: NonNullable<EntryView['image']>): string {
  const type = image.type ? ` type="${image.type}"` : '';
  const open = `<media:content url="${xmlAttr(image.url)}" medium="image"${type}`;
  return image.alt ? `${open}>${element('media:description', image.alt)}</media:content>` : `${open}/>`;
}

// --- Atom 1.0 ---------------------------------------------------------------

function renderAtom(ctx: FeedContext, views: EntryView[]): string {
  const lines = [
    element('id', feedUrl(ctx, 'atom')),
    element('title', feedTitle(ctx)),
    element('subtitle', feedDescription(ctx)),
    element('updated', ctx.updated.toISOString()),
    element('generator', 'newswire'),
    element('rights', `© ${ctx.siteTitle}`),
    block('author', [element('name', ctx.siteTitle), element('uri', `${ctx.baseUrl}/`)]),
    `<link rel="alternate" href="${xmlAttr(homeUrl(ctx))}"/>`,
    `<link rel="self" href="${xmlAttr(feedUrl(ctx, 'atom'))}" type="application/atom+xml"/>`,
    `<link rel="hub" href="${xmlAttr(hubUrl(ctx.baseUrl))}"/>`,
    ...views.map(atomEntry),
  ];
  const namespaces = 'xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"';
  return `${XML_DECLARATION}\n<feed ${namespaces}>\n${lines.join('\n')}\n</feed>\n`;
}

/** Atom's enclosure link may leave out its length (a hint) and type: only what is known is said. */
function atomEntry(view: EntryView): string {
  const image = view.image;
  const enclosure = image
    ? `<link rel="enclosure" href="${xmlAttr(image.url)}"${image.type ? ` type="${image.type}"` : ''}${image.alt ? ` title="${xmlAttr(image.alt)}"` : ''}/>`
    : undefined;
  return block('entry', [
    `<title type="html">${cdata(escapeHtml(view.title))}</title>`,
    element('id', view.guid),
    `<link href="${xmlAttr(view.link)}"/>`,
    enclosure,
    element('published', new Date(view.published).toISOString()),
    element('updated', new Date(view.updated).toISOString()),
    `<summary type="html">${cdata(view.summaryHtml)}</summary>`,
    view.contentHtml && `<content type="html">${cdata(view.contentHtml)}</content>`,
    view.byline && block('author', [element('name', view.byline)]),
    view.publisher && element('dc:publisher', view.publisher),
    ...view.topics.map((topic) => `<category term="${xmlAttr(topic)}" label="${xmlAttr(topic)}"/>`),
  ]);
}

// --- JSON Feed 1.1 ----------------------------------------------------------

/**
 * JSON Feed 1.1 (https://jsonfeed.org/version/1.1): `url` is our story page,
 * `external_url` the original story; an attachment needs a MIME type, so the
 * image is one only when its type is known.
 */
function renderJsonFeed(ctx: FeedContext, views: EntryView[]): string {
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: feedTitle(ctx),
    home_page_url: homeUrl(ctx),
    feed_url: feedUrl(ctx, 'json'),
    hubs: [{ type: 'WebSub', url: hubUrl(ctx.baseUrl) }],
    description: feedDescription(ctx),
    language: 'en',
    authors: [{ name: ctx.siteTitle, url: `${ctx.baseUrl}/` }],
    items: views.map((view) => ({
      id: view.guid,
      url: view.page,
      ...(view.external ? { external_url: view.external } : {}),
      title: view.title,
      ...(view.contentHtml ? { content_html: view.contentHtml } : { content_text: view.contentText }),
      ...(view.summaryText ? { summary: view.summaryText } : {}),
      ...(view.image ? { image: view.image.url } : {}),
      date_published: view.published,
      date_modified: view.updated,
      ...(view.byline ? { authors: [{ name: view.byline }] } : {}),
      tags: view.topics,
      ...(view.language ? { language: view.language } : {}),
      ...(view.image?.type ? { attachments: [jsonAttachment(view.image)] } : {}),
      _newswire: view.extension,
    })),
  };
  return JSON.stringify(feed);
}

function jsonAttachment(image: NonNullable<EntryView['image']>) {
  return { url: image.url, mime_type: image.type, ...(image.alt ? { title: image.alt } : {}) };
}
