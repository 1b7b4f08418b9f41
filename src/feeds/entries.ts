// What one feed entry says, decided once for every format. A live item
// carries a visible "Updated" line once corrected; a retracted one becomes a
// withdrawal notice under the same id. Plain text is HTML-escaped wherever
// readers treat it as HTML; the body is already sanitized HTML.
import { escapeHtml, type Item, type RetractedItem } from '../domain/item.ts';
import { absoluteTime } from '../pages/time.ts';

/** A live item, or the notice that stands in its place for a while after its withdrawal. */
export type FeedEntry = Item | RetractedItem;

export interface EntryView {
  guid: string;
  /** Plain text. */
  title: string;
  /** RSS <link> and Atom's alternate link. */
  link: string;
  /** Our story page: JSON Feed's url. */
  page: string;
  /** The original story elsewhere: JSON Feed's external_url. */
  external?: string;
  /** ISO 8601. */
  published: string;
  updated: string;
  /** HTML: RSS <description>, Atom <summary>. */
  summaryHtml: string;
  /** HTML: RSS content:encoded, Atom <content>, JSON content_html; absent when the summary says it all. */
  contentHtml?: string;
  /** Plain text: JSON content_text when there is no HTML content. */
  contentText: string;
  /** Plain text: JSON summary. */
  summaryText?: string;
  /** Who wrote it: only the byline. */
  byline?: string;
  /** Who published it first: the item's source, never passed off as its author. */
  publisher?: string;
  image?: { url: string; alt: string; type?: string };
  topics: string[];
  language?: string;
  /** JSON Feed's _newswire extension. */
  extension: Record<string, unknown>;
}

/** Stable, unique, never reused: ids are unique per server and never change. */
export function itemGuid(item: Pick<Item, 'id'>): string {
  return `urn:newswire:item:${item.id}`;
}

/** Our page of an item; once the item is withdrawn it answers 410 with the reason. */
export function itemPage(baseUrl: string, item: Pick<Item, 'id'>): string {
  return `${baseUrl}/items/${encodeURIComponent(item.id)}`;
}

/** The link RSS and Atom have always given: the original story when there is one, so readers' links stay as they were. */
export function itemPermalink(baseUrl: string, item: Pick<Item, 'id' | 'url'>): string {
  return item.url ?? itemPage(baseUrl, item);
}

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

/** The image's media type from its extension, or none: formats that require one then leave the enclosure out. */
export function imageType(url: string): string | undefined {
  const extension = /\.([A-Za-z0-9]+)$/.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return extension ? IMAGE_TYPES[extension] : undefined;
}

export function entryView(entry: FeedEntry, baseUrl: string): EntryView {
  return entry.status === 'retracted' ? noticeView(entry, baseUrl) : itemView(entry, baseUrl);
}

function itemView(item: Item, baseUrl: string): EntryView {
  const text = item.summary ?? item.headline;
  const update = updateLine(item);
  const figure = item.image
    ? `<figure><img src="${escapeHtml(item.image.url)}" alt="${escapeHtml(item.image.alt)}"></figure>`
    : undefined;
  // Readers show the content instead of the summary when there is one: without a body, the summary goes in too.
  const content = update || figure || item.body ? [update, figure, item.body ?? `<p>${escapeHtml(text)}</p>`] : [];
  const view: EntryView = {
    guid: itemGuid(item),
    title: item.headline,
    link: itemPermalink(baseUrl, item),
    page: itemPage(baseUrl, item),
    published: item.publishedAt,
    updated: item.updatedAt,
    summaryHtml: update ? `${update}<p>${escapeHtml(text)}</p>` : escapeHtml(text),
    contentText: text,
    topics: item.topics,
    extension: {
      priority: item.priority,
      version: item.version,
      ...(item.changeNote ? { change_note: item.changeNote } : {}),
      ...(item.source ? { source: item.source } : {}),
      ...(item.expiresAt ? { expires_at: item.expiresAt } : {}),
    },
  };
  const html = content.filter(Boolean).join('\n');
  if (html) view.contentHtml = html;
  if (item.url) view.external = item.url;
  if (item.summary) view.summaryText = item.summary;
  if (item.byline) view.byline = item.byline;
  if (item.source) view.publisher = item.source;
  if (item.language) view.language = item.language;
  if (item.image) {
    view.image = { url: item.image.url, alt: item.image.alt };
    const type = imageType(item.image.url);
    if (type) view.image.type = type;
  }
  return view;
}

/** "Updated 30 Nov 2026, 14:05 UTC: <change note>" on a corrected item: RSS and Atom have nowhere else to say it. */
function updateLine(item: Item): string | undefined {
  if (item.version <= 1) return undefined;
  const when = `Updated ${absoluteTime(item.updatedAt)}`;
  return item.changeNote
    ? `<p><strong>${when}:</strong> ${escapeHtml(item.changeNote)}</p>`
    : `<p><strong>${when}</strong></p>`;
}

/** Titles are read in lists: a long reason is cut there, and given whole in the content. */
const NOTICE_TITLE_REASON = 120;

function noticeView(item: RetractedItem, baseUrl: string): EntryView {
  const line = `<p><strong>Withdrawn ${absoluteTime(item.updatedAt)}:</strong> ${escapeHtml(item.reason)}</p>`;
  const page = itemPage(baseUrl, item);
  return {
    guid: itemGuid(item),
    title: `WITHDRAWN: ${shorten(item.reason, NOTICE_TITLE_REASON)}`,
    // The original story may still be up elsewhere: the link goes to our notice.
    link: page,
    page,
    published: item.publishedAt,
    updated: item.updatedAt,
    summaryHtml: line,
    // Readers that replace an entry's content must not keep the withdrawn story's.
    contentHtml: line,
    contentText: item.reason,
    topics: item.topics,
    extension: { status: 'retracted', version: item.version, reason: item.reason },
  };
}

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const space = text.lastIndexOf(' ', max - 1);
  return `${text.slice(0, space > max / 2 ? space : max - 1).trimEnd()}…`;
}
