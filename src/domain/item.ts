// The news item: what newsroom tools send, what readers receive.
// Validation lives here so every backend and transport sees the same rules.
import { createHash, randomUUID } from 'node:crypto';
import sanitizeHtml from 'sanitize-html';
import { z } from 'zod';

export const PRIORITIES = ['flash', 'bulletin', 'urgent', 'routine'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const LIMITS = {
  idLength: 128,
  headlineLength: 300,
  summaryLength: 2_000,
  bodyLength: 200_000,
  topicLength: 48,
  topicsPerItem: 12,
  shortTextLength: 200,
  urlLength: 2_048,
  changeNoteLength: 500,
  reasonLength: 500,
} as const;

export const TOPIC_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

// XML 1.0 cannot carry C0 control characters (other than tab, CR, LF) nor
// lone surrogates; C1 controls have no business in news text; bidirectional
// overrides and isolates (U+202A–U+202E, U+2066–U+2069) can make a headline
// read differently from what it says. All are dropped at the door, so every
// feed stays well-formed and every reader sees what the newsroom typed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/g;
export function cleanText(value: string): string {
  return value.toWellFormed().replace(CONTROL_CHARS, '');
}

const text = (max: number) =>
  z
    .string()
    .transform(cleanText)
    .pipe(z.string().trim().max(max, `must be at most ${max} characters`));

const requiredText = (max: number) =>
  z
    .string()
    .transform(cleanText)
    .pipe(z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

// The WHATWG parser forgives a lot (it drops tabs and newlines, reads "\\" as
// "/"): what it forgave is refused, and what it parsed is stored in its
// normal form, so every output (API, feeds, pages) carries the same URL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const URL_FORBIDDEN = /[\u0000-\u0020\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;
const parsedUrl = (value: string) => (URL.canParse(value) ? new URL(value) : null);
const httpUrl = z
  .string()
  .max(LIMITS.urlLength, `must be at most ${LIMITS.urlLength} characters`)
  .refine((value) => {
    const url = parsedUrl(value);
    return url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  }, 'must be an absolute http or https URL')
  // Said only of what is otherwise a URL: one reason per field is enough.
  .refine((value) => !URL_FORBIDDEN.test(value) || parsedUrl(value) === null, 'must not contain spaces or control characters')
  .refine((value) => {
    const url = parsedUrl(value);
    return !url?.username && !url?.password;
  }, 'must not carry a user name or password')
  .transform((value) => (parsedUrl(value) as URL).href)
  .pipe(z.string().max(LIMITS.urlLength, `must be at most ${LIMITS.urlLength} characters once normalised`));

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-05-01T12:00:00Z' });

export const topicSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.topicLength, `must be at most ${LIMITS.topicLength} characters`)
  .regex(TOPIC_PATTERN, 'must be a lowercase slug: letters, digits and single hyphens, e.g. "world-news"');

/** Fields a newsroom may send; the server owns version, dates and status. */
export const itemInputSchema = z
  .strictObject({
    id: z
      .string()
      .min(1, 'must not be empty')
      .max(LIMITS.idLength, `must be at most ${LIMITS.idLength} characters`)
      .regex(ID_PATTERN, 'may hold letters, digits and . _ : - and must start with a letter or digit')
      .optional(),
    headline: requiredText(LIMITS.headlineLength),
    summary: text(LIMITS.summaryLength).optional(),
    body: z.string().max(LIMITS.bodyLength, `must be at most ${LIMITS.bodyLength} characters`).optional(),
    url: httpUrl.optional(),
    topics: z
      .array(topicSchema)
      .min(1, 'needs at least one topic')
      .max(LIMITS.topicsPerItem, `may have at most ${LIMITS.topicsPerItem} topics`)
      .refine((topics) => !topics.includes('all'), '"all" is reserved for the feed of every item'),
    priority: z.enum(PRIORITIES).default('routine'),
    language: z
      .string()
      .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag, e.g. "en" or "pt-BR"')
      .optional(),
    source: text(LIMITS.shortTextLength).optional(),
    byline: text(LIMITS.shortTextLength).optional(),
    image: z
      .strictObject({
        url: httpUrl,
        alt: text(LIMITS.shortTextLength * 2),
      })
      .optional(),
    embargoUntil: isoDate.optional(),
    expiresAt: isoDate.optional(),
  })
  .superRefine((item, ctx) => {
    // A future embargo is fine: the item is held and published when it lifts.
    if (item.expiresAt && Date.parse(item.expiresAt) <= Date.now()) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'is already in the past' });
    } else if (item.expiresAt && item.embargoUntil && Date.parse(item.expiresAt) <= Date.parse(item.embargoUntil)) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be after embargoUntil, or the item would never be seen' });
    }
  });

export type ItemInput = z.input<typeof itemInputSchema>;

export const updateBodySchema = z.object({
  changeNote: text(LIMITS.changeNoteLength).optional(),
  /** Alert readers who were alerted to the item (push) of this correction too. */
  notify: z.boolean({ message: 'must be true or false' }).optional(),
});

export const retractBodySchema = z.object({
  reason: requiredText(LIMITS.reasonLength),
});

/** The content part of an item: validated, sanitized, and without server fields. */
export interface ItemContent {
  id: string;
  headline: string;
  summary?: string;
  body?: string;
  url?: string;
  topics: string[];
  priority: Priority;
  language?: string;
  source?: string;
  byline?: string;
  image?: { url: string; alt: string };
  embargoUntil?: string;
  expiresAt?: string;
}

export type ItemStatus = 'published' | 'retracted' | 'scheduled' | 'cancelled';

/** An item as readers see it. */
export interface Item extends ItemContent {
  version: number;
  publishedAt: string;
  updatedAt: string;
  status: 'published';
  changeNote?: string;
}

/**
 * What a list shows of an item: everything but its body. Frames, snapshots,
 * first paint and lists carry cards; the body is fetched when a story opens.
 */
export type Card = Omit<Item, 'body'>;

/** Cards (no body) for lists and frames, or whole items for feeds and story pages. */
export type Detail = 'card' | 'full';

export function toCard(item: Item): Card {
  const { body: _body, ...card } = item;
  return card;
}

/** What stays visible of a retracted item: enough to remove it everywhere. */
export interface RetractedItem {
  id: string;
  topics: string[];
  version: number;
  publishedAt: string;
  updatedAt: string;
  status: 'retracted';
  reason: string;
}

/**
 * An item held until its embargo lifts. Readers never see it: it has no
 * version and no event until it is released as version 1.
 */
export interface ScheduledItem extends ItemContent {
  embargoUntil: string;
  updatedAt: string;
  status: 'scheduled';
}

/** What a cancel answers: the held item that will now never be published. */
export interface CancelledItem extends Omit<ScheduledItem, 'status'> {
  status: 'cancelled';
}

const BODY_ALLOWLIST: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'h2', 'h3', 'h4', 'strong', 'b', 'em', 'i', 'u', 's', 'sub', 'sup', 'small', 'mark',
    'blockquote', 'q', 'cite', 'ul', 'ol', 'li', 'a', 'figure', 'figcaption', 'img', 'time', 'abbr', 'code', 'pre',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'width', 'height'],
    time: ['datetime'],
    abbr: ['title'],
    q: ['cite'],
    blockquote: ['cite'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  transformTags: {
    a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow' }),
  },
};

const HAS_MARKUP = /<[a-zA-Z!/]/;

/**
 * Item HTML is reduced to an allowlist. Plain text (no tags at all) is turned
 * into paragraphs, so a wire story pasted as text still reads as one.
 */
export function sanitizeBody(body: string): string {
  const cleaned = cleanText(body).trim();
  if (!cleaned) return '';
  if (!HAS_MARKUP.test(cleaned)) {
    return cleaned
      .split(/\n\s*\n/)
      .map((para) => `<p>${escapeHtml(para.trim()).replace(/\n/g, '<br>')}</p>`)
      .join('\n');
  }
  return sanitizeHtml(cleaned, BODY_ALLOWLIST).trim();
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Turns parsed input into item content: an id, sanitized body, deduplicated topics. */
export function toItemContent(input: z.output<typeof itemInputSchema>, fallbackId?: string): ItemContent {
  const content: ItemContent = {
    id: input.id ?? fallbackId ?? randomUUID(),
    headline: input.headline,
    topics: [...new Set(input.topics)],
    priority: input.priority,
  };
  if (input.summary) content.summary = input.summary;
  if (input.body !== undefined) {
    const body = sanitizeBody(input.body);
    if (body) content.body = body;
  }
  if (input.url) content.url = input.url;
  if (input.language) content.language = input.language;
  if (input.source) content.source = input.source;
  if (input.byline) content.byline = input.byline;
  if (input.image) content.image = { url: input.image.url, alt: input.image.alt };
  if (input.embargoUntil) content.embargoUntil = new Date(input.embargoUntil).toISOString();
  if (input.expiresAt) content.expiresAt = new Date(input.expiresAt).toISOString();
  return content;
}

/** Fingerprint of the content, to tell a retry from a conflicting publish. */
export function contentHash(content: ItemContent): string {
  return shortHash(stableStringify(content));
}

/** A short id for a value: 22 base64url characters (132 bits) of its SHA-256. */
export function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** True while the item should show in feeds and lists. */
export function isLive(item: Item, now = Date.now()): boolean {
  return item.status === 'published' && (!item.expiresAt || Date.parse(item.expiresAt) > now);
}

/** True while the content's embargo has not lifted: the item must be held, not published. */
export function isEmbargoed(content: ItemContent, now = Date.now()): content is ItemContent & { embargoUntil: string } {
  return content.embargoUntil !== undefined && Date.parse(content.embargoUntil) > now;
}
