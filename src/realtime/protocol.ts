// The WebSocket contract: close codes, the connect query, client frames.
import { z } from 'zod';
import { type Cursor, parseCursor } from '../domain/cursor.ts';
import { itemKey } from '../domain/event.ts';
import { type Detail, ID_PATTERN, LIMITS, topicSchema } from '../domain/item.ts';

export const CLOSE = {
  /** Server shutting down: reconnect (elsewhere) with your cursor. */
  goingAway: 1001,
  /** Frame was not allowed (binary data). */
  unsupported: 1003,
  /** Frame over the size limit (sent by ws itself). */
  tooBig: 1009,
  /** Server at its connection limit, or the log could not be read. */
  tryAgainLater: 1013,
  /** Bad query string or cursor syntax: fix the request. */
  badRequest: 4400,
  /** Send buffer over its bound: reconnect with your cursor, nothing is lost. */
  slowConsumer: 4008,
  /** Too many frames from the client. */
  rateLimited: 4029,
} as const;

const topicList = z.array(z.union([z.literal('all'), topicSchema])).min(1, 'needs at least one topic');

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), topics: topicList }),
  z.strictObject({ type: z.literal('unsubscribe'), topics: topicList }),
  z.strictObject({ type: z.literal('ping') }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Parses `?topics=a,b`: null means every topic. */
export function parseTopicsParam(value: string | null, max: number): { topics: Set<string> | null } | { error: string } {
  if (value === null || value.trim() === '') return { topics: null };
  const parts = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (parts.includes('all')) return { topics: null };
  if (parts.length > max) return { error: `topics: at most ${max} topics per connection` };
  for (const topic of parts) {
    const check = topicSchema.safeParse(topic);
    if (!check.success) return { error: `topics: "${topic.slice(0, 60)}" ${check.error.issues[0]?.message}` };
  }
  return { topics: new Set(parts) };
}

export interface ConnectQuery {
  /** Routing keys: topics and followed items; null follows every topic. */
  keys: Set<string> | null;
  /** Topics as asked for; null: every topic (or none, when only items are followed). */
  topics: string[] | null;
  /** Item ids followed whatever their topics become (a story page). */
  items: string[];
  detail: Detail;
  cursor: Cursor | null;
}

/**
 * `/ws?topics=a,b&items=id&detail=full&cursor=C`. Without topics and items
 * it follows everything; with only items it follows just those items.
 */
export function parseConnectQuery(
  params: URLSearchParams,
  limits: { maxTopics: number; maxItems: number },
): ConnectQuery | { error: string } {
  const topicsParam = params.get('topics');
  const topics = parseTopicsParam(topicsParam, limits.maxTopics);
  if ('error' in topics) return topics;
  const items = (params.get('items') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (items.length > limits.maxItems) return { error: `items: at most ${limits.maxItems} items per connection` };
  const badId = items.find((id) => id.length > LIMITS.idLength || !ID_PATTERN.test(id));
  if (badId !== undefined) return { error: `items: "${badId.slice(0, 60)}" is not an item id` };
  const detail = params.get('detail') ?? 'card';
  if (detail !== 'card' && detail !== 'full') return { error: 'detail: must be "card" (the default) or "full"' };
  const cursorParam = params.get('cursor');
  const cursor = cursorParam ? parseCursor(cursorParam) : null;
  if (cursorParam && !cursor) return { error: 'cursor: not a cursor issued by this server' };
  const asked = topics.topics;
  let keys: Set<string> | null = asked;
  // "all" already covers every item.
  if (items.length && !(topicsParam?.trim() && asked === null)) {
    const itemKeys = items.map(itemKey);
    keys = asked ? new Set([...asked, ...itemKeys]) : new Set(itemKeys);
  }
  return {
    keys,
    topics: keys === null ? null : asked ? [...asked] : [],
    items,
    detail,
    cursor,
  };
}
