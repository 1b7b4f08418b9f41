// The WebSocket contract: close codes and client frames.
import { z } from 'zod';
import { topicSchema } from '../domain/item.ts';

export const CLOSE = {
  /** Server shutting down: reconnect (elsewhere) with your cursor. */
  goingAway: 1001,
  /** Frame was not allowed (binary data). */
  unsupported: 1003,
  /** Frame over the size limit (sent by ws itself). */
  tooBig: 1009,
  /** Server at its connection limit. */
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
