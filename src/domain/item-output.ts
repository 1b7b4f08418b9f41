// Items as the server sends them, as zod schemas: the API description
// (/openapi.json) is generated from these, and the checks at the end make the
// compiler refuse any drift between them and the types in item.ts.
import { z } from 'zod';
import type { Card, CancelledItem, Item, RetractedItem, ScheduledItem } from './item.ts';
import { itemInputSchema, topicSchema } from './item.ts';

const input = itemInputSchema.shape;
/** A time as the server writes it: ISO 8601 with an offset. */
export const isoTime = z.iso.datetime({ offset: true });

/**
 * The content fields, with the same schemas as on input (their output side:
 * cleaned, trimmed, normalised): what is refused on the way in is never sent.
 * The id is always there on the way out; the body is sanitized HTML, whose
 * length the sanitizer may change.
 */
const contentShape = {
  ...input,
  id: input.id.unwrap(),
  body: z.string().optional(),
} as const;

export const itemSchema = z.strictObject({
  ...contentShape,
  version: z.int().min(1),
  publishedAt: isoTime,
  updatedAt: isoTime,
  status: z.literal('published'),
  changeNote: z.string().optional(),
});

/** An item without its body: what lists, frames and snapshots carry. */
export const cardSchema = itemSchema.omit({ body: true });

/** What stays visible of a retracted item: enough to remove it everywhere. */
export const retractedItemSchema = z.strictObject({
  id: contentShape.id,
  topics: z.array(topicSchema),
  version: z.int().min(1),
  publishedAt: isoTime,
  updatedAt: isoTime,
  status: z.literal('retracted'),
  reason: z.string(),
});

const heldShape = {
  ...contentShape,
  embargoUntil: isoTime,
  updatedAt: isoTime,
} as const;

/** An item held until its embargo lifts: no version, no event, seen only by its newsroom. */
export const scheduledItemSchema = z.strictObject({ ...heldShape, status: z.literal('scheduled') });

/** A held item dropped before its release: it will never be published. */
export const cancelledItemSchema = z.strictObject({ ...heldShape, status: z.literal('cancelled') });

// Both directions: a field added to one side and not the other stops the type-check.
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** `agree<Same<Schema output, Type>>()` compiles only when a schema and a type describe the same values. */
export const agree = <_ extends true>() => undefined;
agree<Same<z.output<typeof itemSchema>, Item>>();
agree<Same<z.output<typeof cardSchema>, Card>>();
agree<Same<z.output<typeof retractedItemSchema>, RetractedItem>>();
agree<Same<z.output<typeof scheduledItemSchema>, ScheduledItem>>();
agree<Same<z.output<typeof cancelledItemSchema>, CancelledItem>>();
