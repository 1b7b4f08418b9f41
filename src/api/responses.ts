// What the API answers, as zod schemas: the source of the responses in
// /openapi.json, and what the conformance tests hold real answers to.
import { z } from 'zod';
import {
  agree,
  cancelledItemSchema,
  cardSchema,
  isoTime,
  itemSchema,
  retractedItemSchema,
  type Same,
  scheduledItemSchema,
} from '../domain/item-output.ts';
import { PRIORITIES, topicSchema } from '../domain/item.ts';
import { KEY_ACTIONS, type PublisherKey } from '../keys/keys.ts';
import { MEDIA_TYPES } from '../media/sniff.ts';
import type { ReaderCounts } from '../presence/presence.ts';
import type { HistoryEntry } from '../store/store.ts';
import type { FieldError } from './errors.ts';

/** `<epoch>-<seq>`: a position in the log, opaque to clients. */
export const cursorSchema = z.string().regex(/^[A-Za-z0-9]{8,32}-\d{1,15}$/);

/** An item as the store holds it (`StoredItem`): published, retracted or held. */
const storedItemSchema = z.union([itemSchema, retractedItemSchema, scheduledItemSchema]);

export const fieldErrorSchema = z.strictObject({
  path: z.string(),
  message: z.string(),
});

/**
 * The one error shape, `{"error": {"code", "message", "fields"?, "item"?}}`,
 * narrowed to the codes one status can carry.
 */
export function errorSchema<const Codes extends readonly [string, ...string[]]>(codes: Codes) {
  return z.strictObject({
    error: z.strictObject({
      code: z.enum(codes),
      message: z.string(),
      fields: z.array(fieldErrorSchema).min(1).optional(),
      item: storedItemSchema.optional(),
      /** forbidden-action: the action the key lacks. */
      action: z.enum(KEY_ACTIONS).optional(),
      /** forbidden-topic: the topics outside the key's. */
      topics: z.array(z.string()).min(1).optional(),
      /** write-outcome-unknown, write-not-replicated on a publish: the item's id, to retry with. */
      id: z.string().optional(),
    }),
  });
}

/** A write the log holds (201, 200); `unchanged` when it was a retry of what is there. */
export const writtenSchema = z.strictObject({
  item: itemSchema,
  cursor: cursorSchema,
});

export const unchangedSchema = z.strictObject({
  item: storedItemSchema,
  cursor: cursorSchema,
  unchanged: z.literal(true),
});

/** A held item: no event, so no cursor. */
export const heldSchema = z.strictObject({ item: scheduledItemSchema });

export const retractedSchema = z.strictObject({
  item: z.union([retractedItemSchema, cancelledItemSchema]),
  cursor: cursorSchema,
});

export const itemResponseSchema = z.strictObject({ item: z.union([itemSchema, scheduledItemSchema]) });

export const itemListSchema = z.strictObject({
  items: z.array(z.union([cardSchema, itemSchema, scheduledItemSchema])),
  cursor: cursorSchema,
});

export const pushKeySchema = z.strictObject({ publicKey: z.string() });

export const pushSubscribedSchema = z.strictObject({
  id: z.string(),
  topics: z.array(topicSchema),
  minPriority: z.enum(PRIORITIES),
});

export const pushRemovedSchema = z.strictObject({ removed: z.literal(true) });

/** The frame of a JSON Feed 1.1 document; its items follow the JSON Feed specification. */
export const jsonFeedSchema = z.looseObject({
  version: z.literal('https://jsonfeed.org/version/1.1'),
  title: z.string(),
  items: z.array(z.looseObject({ id: z.string() })),
});

export const healthSchema = z.strictObject({ status: z.literal('ok') });

export const readinessSchema = z.strictObject({
  status: z.enum(['ready', 'unready']),
  checks: z.record(z.string(), z.string()),
});

/** The key that made a change, as its history names it. */
const madeBySchema = z.strictObject({ key: z.string(), name: z.string() });

/** The kill list (`status=retracted`): items withdrawn since `since`, the latest kill first. */
export const killListSchema = z.strictObject({
  items: z.array(
    retractedItemSchema.extend({
      killedBy: madeBySchema.optional().describe('The key that made the kill, from the history'),
      requestId: z.string().optional().describe('The request that made the kill'),
    }),
  ),
  since: isoTime,
});

/** Readers connected now, summed over every process that reported. */
export const readerCountsSchema = z.strictObject({
  topics: z.record(z.string(), z.int().min(0)),
  everyTopic: z.int().min(0),
  total: z.int().min(0),
  processes: z.int().min(0),
});

/** A publisher key as the API shows it: never its token or hash. */
export const keyRecordSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  actions: z.array(z.enum(KEY_ACTIONS)).min(1),
  topics: z.array(topicSchema).optional(),
  createdAt: isoTime,
  revokedAt: isoTime.optional(),
});

/** A key just made: the only answer that carries its token. */
export const keyCreatedSchema = z.strictObject({ key: keyRecordSchema, token: z.string() });
/** A full-power key from PUBLISHER_TOKENS: not in the store, revoked by removing it from the environment. */
const environmentKeySchema = z.strictObject({ id: z.string(), name: z.string(), actions: z.array(z.enum(KEY_ACTIONS)).min(1) });
export const keyListSchema = z.strictObject({ keys: z.array(keyRecordSchema), environment: z.array(environmentKeySchema) });
export const keyRevokedSchema = z.strictObject({ key: keyRecordSchema });

/** One version of an item; who made it (`by`, `requestId`) only for a request with a valid key. */
export const historyEntrySchema = z.strictObject({
  version: z.int().min(1),
  event: z.enum(['published', 'updated', 'retracted']),
  at: isoTime,
  changeNote: z.string().optional(),
  reason: z.string().optional(),
  by: madeBySchema.optional(),
  requestId: z.string().optional(),
});
export const historySchema = z.strictObject({ id: z.string(), versions: z.array(historyEntrySchema) });

/**
 * An IPTC ninjs document. Read and written by hand (every 1.x, 2.x and 3.x
 * name), so it is described as an object, not as a copy of the IPTC schema.
 */
export const ninjsDocumentSchema = z.looseObject({});
export const ninjsListSchema = z.strictObject({ items: z.array(ninjsDocumentSchema), cursor: cursorSchema });

/** A ninjs version already taken in (a replay, or an older one arriving late): nothing changed. */
export const ninjsUnchangedSchema = z.strictObject({
  unchanged: z.literal(true),
  item: storedItemSchema.optional(),
  ninjs: z.strictObject({ uri: z.string(), version: z.number(), lastVersion: z.number() }),
});

/** Where an uploaded file is served, by its sender's media id. */
export const superdeskAssetSchema = z.strictObject({ media_id: z.string(), href: z.url() });
export const superdeskUploadedSchema = z.strictObject({
  media_id: z.string(),
  href: z.url(),
  mimetype: z.enum(Object.keys(MEDIA_TYPES) as [keyof typeof MEDIA_TYPES]),
  size: z.int().min(1),
});

// The error shape of errors.ts and this one agree, and so do the other answers and their types.
agree<Same<z.output<typeof fieldErrorSchema>, FieldError>>();
agree<Same<z.output<typeof keyRecordSchema>, PublisherKey>>();
agree<Same<z.output<typeof historyEntrySchema>, HistoryEntry>>();
agree<Same<z.output<typeof readerCountsSchema>, ReaderCounts>>();
