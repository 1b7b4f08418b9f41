// What this server's routes take and answer, for /openapi.json: each section
// names the zod schemas its routes already use (items.ts, push.ts,
// domain/item.ts) and the response schemas of responses.ts. A route module
// added later describes itself in a section of its own and joins the list in
// `newswireApiDocument`.
import { z } from 'zod';
import type { Config } from '../config.ts';
import {
  cancelledItemSchema,
  cardSchema,
  itemSchema,
  retractedItemSchema,
  scheduledItemSchema,
} from '../domain/item-output.ts';
import { HISTORY_LIMIT } from '../store/store.ts';
import { ID_PATTERN, itemInputSchema, LIMITS, retractBodySchema, topicSchema, updateBodySchema } from '../domain/item.ts';
import { KEY_ID_PATTERN, KEY_NAME_LENGTH, keyInputSchema, MAX_KEYS } from '../keys/keys.ts';
import { MEDIA_TYPES } from '../media/sniff.ts';
import { idempotencyKeySchema } from '../idempotency/middleware.ts';
import { MEDIA_NAME_PATTERN } from '../media/store.ts';
import type { NinjsSettings } from '../ninjs/config.ts';
import { MEDIA_ID, MEDIA_ID_MAX } from '../ninjs/routes.ts';
import { KILL_LIST_HOURS, KILL_LIST_MAX_HOURS } from './desk.ts';
import { listQuerySchema } from './items.ts';
import { type ApiParameter, type ApiResponse, type ApiSection, buildOpenApiDocument, type OpenApiDocument } from './openapi.ts';
import { pushSubscriptionSchemas } from './push.ts';
import {
  cursorSchema,
  errorSchema,
  fieldErrorSchema,
  healthSchema,
  heldSchema,
  historyEntrySchema,
  historySchema,
  keyCreatedSchema,
  keyListSchema,
  keyRecordSchema,
  keyRevokedSchema,
  killListSchema,
  ninjsDocumentSchema,
  ninjsListSchema,
  ninjsUnchangedSchema,
  superdeskAssetSchema,
  superdeskUploadedSchema,
  itemListSchema,
  itemResponseSchema,
  jsonFeedSchema,
  pushKeySchema,
  pushRemovedSchema,
  pushSubscribedSchema,
  readerCountsSchema,
  readinessSchema,
  retractedSchema,
  unchangedSchema,
  writtenSchema,
} from './responses.ts';

/** One schema per status of the error shape, with the codes that status carries. */
const errors = {
  400: errorSchema(['invalid-request', 'invalid-json', 'invalid-media-id', 'invalid-multipart']),
  401: errorSchema(['unauthorized']),
  403: errorSchema(['forbidden', 'forbidden-action', 'forbidden-topic', 'bad-signature']),
  404: errorSchema(['not-found']),
  409: errorSchema(['conflict', 'already-published', 'too-many-keys', 'idempotency-key-reused', 'idempotency-key-in-use']),
  410: errorSchema(['gone']),
  413: errorSchema(['payload-too-large']),
  415: errorSchema(['unsupported-media-type']),
  429: errorSchema(['rate-limited', 'too-many-auth-failures']),
  503: errorSchema(['store-unavailable', 'write-outcome-unknown', 'write-not-replicated', 'too-many-subscriptions']),
};

/** How the live endpoints refuse a connection (before any frame). */
const liveRefusalSchema = errorSchema([
  'bad-request',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'too-many-requests',
  'service-unavailable',
]);

/** The PUT body: the item's fields, and what a correction says about itself. */
const updateRequestSchema = z.strictObject({ ...itemInputSchema.shape, ...updateBodySchema.shape });

const at = '2026-05-01T12:00:00.000Z';
const cursor = 'k3x9m2p7q1w8e5r4-42';
const inputExample = {
  id: 'quake-2026-05-01',
  headline: 'Magnitude 6.1 earthquake strikes off the coast',
  summary: 'No tsunami warning was issued.',
  body: '<p>The quake struck at 11:58 local time.</p>',
  topics: ['world', 'science'],
  priority: 'bulletin',
  source: 'Newswire',
};
const itemExample = { ...inputExample, version: 1, publishedAt: at, updatedAt: at, status: 'published' };
const { body: _body, ...cardExample } = itemExample;
const scheduledExample = { ...inputExample, embargoUntil: '2026-05-02T06:00:00.000Z', updatedAt: at, status: 'scheduled' };
const retractedExample = {
  id: inputExample.id,
  topics: inputExample.topics,
  version: 2,
  publishedAt: at,
  updatedAt: '2026-05-01T12:30:00.000Z',
  status: 'retracted',
  reason: 'Legal advice',
};
const problemExample = (code: string, message: string, extra: Record<string, unknown> = {}) => ({ error: { code, message, ...extra } });

const tooMany: ApiResponse = {
  description: 'Over `PUBLISH_RATE_PER_MINUTE` writes for this token, or this address failed authentication too often',
  schema: errors[429],
  headers: { 'Retry-After': 'seconds to wait' },
  example: problemExample('rate-limited', 'at most 600 writes per minute per token'),
};
// `satisfies`, not a type: each status stays known, so a route picks one without a cast.
const writeErrors = {
  400: {
    description: 'Invalid JSON or invalid fields: each field with its reason',
    schema: errors[400],
    example: problemExample('invalid-request', '1 field(s) are not valid: see "fields"', {
      fields: [{ path: 'headline', message: 'must not be empty' }],
    }),
  },
  401: {
    description: 'No bearer token',
    schema: errors[401],
    headers: { 'WWW-Authenticate': 'Bearer realm="newsroom"' },
    example: problemExample('unauthorized', 'send "Authorization: Bearer <token>" with a publisher token'),
  },
  403: {
    description: 'A token that is not a publisher\'s (`forbidden`), a key without the action (`forbidden-action`, with `action`) or limited to other topics (`forbidden-topic`, with `topics`)',
    schema: errors[403],
    example: problemExample('forbidden-action', 'the key "Sports desk" may not kill: it needs the "kill" action', { action: 'kill' }),
  },
  413: { description: 'Body over `MAX_BODY_BYTES`', schema: errors[413] },
  415: { description: 'Body not sent as `application/json`', schema: errors[415] },
  429: tooMany,
  503: {
    description:
      'The store cannot be written: nothing was saved (`store-unavailable`); or the write was sent and its answer lost (`write-outcome-unknown`), or not enough replicas confirmed it (`write-not-replicated`): it may have been saved, and a publish names its `id`; a retry with that id, or the same `Idempotency-Key`, is safe',
    schema: errors[503],
    headers: { 'Retry-After': 'seconds to wait' },
    example: problemExample(
      'write-outcome-unknown',
      'the write was sent to the store but its answer was lost: it may have been saved (readers may have it) or not; a retry with the same id, or the same Idempotency-Key, is safe and tells which',
      { id: 'quake-2026-05-01' },
    ),
  },
} satisfies Record<number, ApiResponse>;
/** POST writes keep the first answer per key (of the publisher key) for 24 hours. */
const idempotencyKeyParameter: ApiParameter = {
  name: 'Idempotency-Key',
  in: 'header',
  schema: idempotencyKeySchema,
  description:
    'Makes a retry safe without an id: the same key with the same path and body gets the first answer again (`Idempotent-Replayed: true`) and writes nothing; another body is `409 idempotency-key-reused`; while the first runs, `409 idempotency-key-in-use`. A publish without an `id` takes one made from the key. 1 to 255 visible ASCII characters, bare or quoted; kept 24 hours per publisher key',
  example: '4f9c2a7e-1d3b-4e8a-9c61-0b7d2f5e8a13',
};
const idempotencyConflicts = '; with an `Idempotency-Key`, that key used for another body (`idempotency-key-reused`) or still running (`idempotency-key-in-use`, with `Retry-After`)';
const withoutStatus = (responses: Record<number, ApiResponse>, status: number) =>
  Object.fromEntries(Object.entries(responses).filter(([code]) => Number(code) !== status));
const notPublisher = problemExample('forbidden', 'this token may not publish');
const notFound: ApiResponse = { description: 'No item with this id', schema: errors[404], example: problemExample('not-found', 'no item with this id') };
const gone: ApiResponse = {
  description: 'The item was retracted: only what removes it everywhere remains',
  schema: errors[410],
  example: problemExample('gone', 'this item was retracted', { item: retractedExample }),
};
const idParameter = {
  name: 'id',
  in: 'path' as const,
  schema: z.string().max(LIMITS.idLength).regex(ID_PATTERN),
  description: "The item's id (the newsroom's own, or the one the server made)",
  example: 'quake-2026-05-01',
};
const location = { Location: 'the URL of the item' };
const NINJS_DESCRIPTION =
  'An IPTC ninjs document (https://iptc.org/std/ninjs/): the server sends ninjs 2.1 (JSON Schema: http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json) and takes in 1.x, 2.x and 3.x. Read field by field, not held to a copy of that schema here; see the README, "ninjs".';
const formatParameter = {
  name: 'format',
  in: 'query' as const,
  schema: z.literal('ninjs'),
  description: '`ninjs`: answer IPTC ninjs 2.1 (`application/ninjs+json`), as `Accept: application/ninjs+json` does',
};
const ninjsExample = {
  uri: 'https://news.example.com/items/quake-2026-05-01',
  standard: { name: 'ninjs', version: '2.1', schema: 'http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json' },
  type: 'text',
  representationtype: 'full',
  pubstatus: 'usable',
  urgency: 2,
  version: '1',
  versioncreated: at,
  firstcreated: at,
  headlines: [{ role: 'main', value: inputExample.headline }],
  subjects: [{ name: 'world', literal: 'world', uri: 'https://news.example.com/?topics=world' }],
  altids: [{ role: 'newswire-id', value: inputExample.id }],
};

export interface DocumentLimits {
  /** Most cards one list may ask for. */
  listLimit: number;
  /** Most whole items one list may ask for (`detail=full`). */
  fullListLimit: number;
  /** Topics one push subscription may name. */
  pushMaxTopics: number;
}

function itemsSection(limits: DocumentLimits): ApiSection {
  const input = itemInputSchema.shape;
  return {
    tag: 'Items',
    description: 'Publish, correct, retract and read news items. Writes take a publisher token.',
    schemas: [
      { schema: itemInputSchema, id: 'ItemInput', description: 'An item as a newsroom sends it; the server owns version, dates and status' },
      { schema: updateRequestSchema, id: 'ItemCorrection', description: 'The whole new version of an item, with an optional change note' },
      { schema: retractBodySchema, id: 'Retraction', description: 'Why an item is withdrawn (a "kill")' },
      { schema: itemSchema, id: 'Item', description: 'A published item as readers see it' },
      { schema: cardSchema, id: 'Card', description: 'An item without its body: what lists, frames and snapshots carry' },
      { schema: scheduledItemSchema, id: 'ScheduledItem', description: 'An item held until its embargo lifts; only its newsroom sees it' },
      { schema: cancelledItemSchema, id: 'CancelledItem', description: 'A held item dropped before its release' },
      { schema: retractedItemSchema, id: 'RetractedItem', description: 'What remains of a retracted item' },
      { schema: writtenSchema, id: 'Written', description: 'A write the log holds, with its position' },
      { schema: unchangedSchema, id: 'Unchanged', description: 'A retry of what the log already holds: no new event' },
      { schema: heldSchema, id: 'Held', description: 'An item held under embargo: no event, so no cursor' },
      { schema: retractedSchema, id: 'Retracted', description: 'A retraction (or the cancel of a held item), with its position' },
      { schema: itemResponseSchema, id: 'ItemResponse', description: 'One item' },
      { schema: historySchema, id: 'ItemHistory', description: "An item's versions, oldest first" },
      { schema: historyEntrySchema, id: 'HistoryEntry', description: 'One version: what changed it and when; who (`by`, `requestId`) only for its newsroom' },
      { schema: ninjsDocumentSchema, id: 'NinjsDocument', description: NINJS_DESCRIPTION },
      { schema: ninjsListSchema, id: 'NinjsList', description: 'Whole items as ninjs documents, newest first, and the position they were read at' },
      { schema: itemListSchema, id: 'ItemList', description: 'Items newest first (held items: earliest release first), and the position they were read at' },
      { schema: killListSchema, id: 'KillList', description: 'Items withdrawn since `since`, the latest kill first: each with its reason, `updatedAt` being the time of the kill' },
      { schema: fieldErrorSchema, id: 'FieldError', description: 'Why one field is not valid' },
      { schema: errors[400], id: 'BadRequest', description: 'The error shape, invalid request' },
      { schema: errors[401], id: 'Unauthorized', description: 'The error shape, no token' },
      { schema: errors[403], id: 'Forbidden', description: 'The error shape, a token that may not do this: not a publisher\'s, a key without the action (`action`) or limited to other topics (`topics`), or a wrong Superdesk signature' },
      { schema: errors[404], id: 'NotFound', description: 'The error shape, nothing here' },
      { schema: errors[409], id: 'Conflict', description: 'The error shape, a conflicting write; `item` is what the server holds' },
      { schema: errors[410], id: 'Gone', description: 'The error shape, a retracted item; `item` is what remains of it' },
      { schema: errors[413], id: 'PayloadTooLarge', description: 'The error shape, body too large' },
      { schema: errors[415], id: 'UnsupportedMediaType', description: 'The error shape, body not JSON' },
      { schema: errors[429], id: 'TooManyRequests', description: 'The error shape, over a limit' },
      { schema: errors[503], id: 'Unavailable', description: 'The error shape, try again later' },
      { schema: cursorSchema, description: 'A position in the log (`<epoch>-<seq>`), opaque to clients: resume with it on `/ws` or `/sse`' },
      { schema: input.id, description: "The newsroom's own id; made by the server when absent" },
      { schema: input.headline, description: `Required; at most ${LIMITS.headlineLength} characters once control characters are removed and spaces trimmed (as in every text field)` },
      { schema: input.summary, description: `A standfirst of plain text, at most ${LIMITS.summaryLength} characters` },
      { schema: input.body, description: 'HTML, reduced to an allowlist; plain text becomes paragraphs' },
      { schema: input.url, description: 'The original story (http or https), stored in its normal form' },
      { schema: input.topics, description: 'Lowercase slugs; `all` is reserved for the feed of every item' },
      { schema: input.priority, description: '`flash` interrupts, `bulletin` is breaking, `urgent` is marked, `routine` is everything else' },
      { schema: input.language, description: 'A BCP 47 language tag' },
      { schema: input.source, description: `Who supplied the story (an agency, a desk), at most ${LIMITS.shortTextLength} characters` },
      { schema: input.byline, description: `Who wrote it, at most ${LIMITS.shortTextLength} characters` },
      { schema: retractBodySchema.shape.reason, description: `Why, shown to readers in place of the item; at most ${LIMITS.reasonLength} characters` },
      { schema: input.image, description: `One picture (http or https) with its alternative text (at most ${LIMITS.shortTextLength * 2} characters)` },
      { schema: input.embargoUntil, description: 'In the future: the item is held (`202`) and published when it lifts' },
      { schema: input.expiresAt, description: 'When the item leaves lists and feeds; after `embargoUntil`' },
      { schema: updateBodySchema.shape.changeNote, description: `What changed, shown to readers as "Updated <time>: <note>"; at most ${LIMITS.changeNoteLength} characters` },
      { schema: updateBodySchema.shape.notify, description: 'Alert readers who were alerted to the item (push) of this correction too' },
    ],
    operations: [
      {
        method: 'post',
        path: '/api/v1/items',
        operationId: 'publishItem',
        summary: 'Publish an item',
        description:
          'Acknowledged once the log holds it (`201`), then fanned out. A retry with the same id and content is `200` with `unchanged: true` and no new event; the same id with other content is `409`. With `embargoUntil` in the future the item is held: `202`, `status: "scheduled"`.',
        auth: 'required',
        parameters: [idempotencyKeyParameter],
        body: { schema: itemInputSchema, example: inputExample },
        responses: {
          201: { description: 'Published (or, with `Idempotent-Replayed: true`, the kept answer of an earlier request with the same `Idempotency-Key`)', schema: writtenSchema, headers: location, example: { item: itemExample, cursor } },
          200: { description: 'A retry of what the log holds: no new event', schema: unchangedSchema, example: { item: itemExample, cursor, unchanged: true } },
          202: { description: 'Held until its embargo lifts', schema: heldSchema, headers: location, example: { item: scheduledExample } },
          ...writeErrors,
          409: {
            description: `An item with this id exists with other content: correct it with PUT${idempotencyConflicts}`,
            schema: errors[409],
            example: problemExample('conflict', 'an item with this id exists with other content: use PUT to correct it', { item: itemExample }),
          },
          410: gone,
        },
      },
      {
        method: 'put',
        path: '/api/v1/items/{id}',
        operationId: 'correctItem',
        summary: 'Correct or update an item',
        description:
          'The whole new version (the id in the body, if any, must match the path). Readers see it replace the old version in place. A held item stays held (`200 {item}`, no cursor); an embargo in the future on a published item is `409 already-published`.',
        auth: 'required',
        parameters: [idParameter],
        body: { schema: updateRequestSchema, example: { ...inputExample, headline: 'Magnitude 6.3 earthquake strikes off the coast', changeNote: 'Magnitude revised' } },
        responses: {
          200: {
            description: 'The new version (with its cursor), a retry of it (`unchanged`), or a held item updated',
            schema: z.union([writtenSchema, unchangedSchema, heldSchema]),
            example: { item: { ...itemExample, version: 2, changeNote: 'Magnitude revised' }, cursor },
          },
          ...writeErrors,
          404: notFound,
          409: { description: 'Readers already have this item: a future embargo cannot hold it back', schema: errors[409] },
          410: gone,
        },
      },
      {
        method: 'delete',
        path: '/api/v1/items/{id}',
        operationId: 'retractItem',
        summary: 'Retract (kill) an item',
        description:
          'Removes the item from every feed, page and open connection; only a notice with the reason remains. The reason comes in the body or as `?reason=`. A held item is cancelled instead (`status: "cancelled"`).',
        auth: 'required',
        parameters: [idParameter, { name: 'reason', in: 'query', schema: retractBodySchema.shape.reason, description: 'Why, when there is no body' }],
        body: { schema: retractBodySchema, required: false, example: { reason: 'Legal advice' } },
        responses: {
          200: { description: 'Retracted (or cancelled)', schema: retractedSchema, example: { item: retractedExample, cursor } },
          // A body that is not JSON is not read (the reason may be in the query): no 415.
          ...withoutStatus(writeErrors, 415),
          404: notFound,
          410: gone,
        },
      },
      {
        method: 'get',
        path: '/api/v1/items/{id}',
        operationId: 'getItem',
        summary: 'Read one item',
        description:
          'The whole item with its body. A held item exists only for its newsroom: without a token it is `404`. With `Accept: application/ninjs+json` or `?format=ninjs` the item is an IPTC ninjs 2.1 document (`application/ninjs+json`); a retracted item is then `200` with `pubstatus: "canceled"`, so that a ninjs consumer learns of the kill.',
        auth: 'optional',
        parameters: [idParameter, formatParameter],
        responses: {
          200: {
            description: 'The item (JSON, or ninjs when asked for)',
            schema: itemResponseSchema,
            example: { item: itemExample },
            headers: { Vary: '`Accept`: the same path answers JSON or ninjs' },
            variants: [{ contentType: 'application/ninjs+json', schema: ninjsDocumentSchema, example: ninjsExample }],
          },
          404: notFound,
          410: gone,
        },
      },
      {
        method: 'get',
        path: '/api/v1/items/{id}/history',
        operationId: 'getItemHistory',
        summary: "An item's versions",
        description: `Oldest first, at most ${HISTORY_LIMIT} (the latest). Who made each version (\`by\`: the key's id and name) and the request (\`requestId\`) are the newsroom's: only a request with a valid token gets them. A retracted item's history is the newsroom's alone (\`410\` for readers); a held item has none for readers (\`404\`).`,
        auth: 'optional',
        parameters: [idParameter],
        responses: {
          200: {
            description: 'The versions',
            schema: historySchema,
            example: {
              id: inputExample.id,
              versions: [
                { version: 1, event: 'published', at, by: { key: 'key_0123456789abcdef', name: 'World desk' }, requestId: 'b3f1c2d4e5' },
                { version: 2, event: 'updated', at: '2026-05-01T12:10:00.000Z', changeNote: 'Magnitude revised', by: { key: 'key_0123456789abcdef', name: 'World desk' } },
              ],
            },
          },
          404: notFound,
          410: { ...gone, description: 'The item was retracted: its history is the newsroom\'s (send a token)' },
        },
      },
      {
        method: 'get',
        path: '/api/v1/items',
        operationId: 'listItems',
        summary: 'List the latest items',
        description:
          'Cards (no body) newest first, the same list the pages show; `detail=full` gives whole items. `status=scheduled` lists held items, earliest release first, and takes a token. `status=retracted` is the kill list and takes a token: `{"items": [RetractedItem…], "since"}`, the items withdrawn in the last `hours`, the latest kill first (no cursor: a kill list is not a position to resume from). With `Accept: application/ninjs+json` or `?format=ninjs` (and no `status` other than `published`) the items are whole IPTC ninjs 2.1 documents, `limit` at most ' +
          `${limits.fullListLimit}, \`detail\` ignored: \`{"items": [ninjs…], "cursor"}\` as \`application/ninjs+json\`.`,
        auth: 'optional',
        parameters: [formatParameter],
        query: {
          schema: listQuerySchema(limits),
          notes: {
            topic: 'One topic, or `all` (every item, the default)',
            limit: `How many: at most ${limits.listLimit} cards, ${limits.fullListLimit} with \`detail=full\``,
            status: '`scheduled` lists held items, `retracted` the kill list (either: publisher token required; no topic)',
            hours: `With \`status=retracted\`: how far back the kill list looks, in hours (default ${KILL_LIST_HOURS}, at most ${KILL_LIST_MAX_HOURS})`,
            detail: '`card` (no body) or `full` (whole items)',
          },
        },
        responses: {
          200: {
            description: 'The items and the position they were read at (JSON, or ninjs when asked for); with `status=retracted`, the kill list and the time it starts at',
            schema: z.union([itemListSchema, killListSchema]),
            example: { items: [cardExample], cursor },
            headers: { Vary: '`Accept`: the same path answers JSON or ninjs' },
            variants: [{ contentType: 'application/ninjs+json', schema: ninjsListSchema, example: { items: [ninjsExample], cursor } }],
          },
          400: writeErrors[400],
          401: { ...writeErrors[401], description: 'No bearer token with `status=scheduled` or `status=retracted`' },
          403: { ...writeErrors[403], description: 'A token that may not publish, with `status=scheduled` or `status=retracted`', example: notPublisher },
          429: { ...tooMany, description: 'This address failed authentication too often' },
        },
      },
    ],
  };
}

function pushSection(limits: DocumentLimits): ApiSection {
  // The endpoint check (public https URLs only) runs in the route; it has no JSON Schema.
  const { subscribe, unsubscribe } = pushSubscriptionSchemas({ policy: { allowHosts: new Set(), timeoutMs: 0, maxResponseBytes: 0 }, maxTopics: limits.pushMaxTopics });
  const keys = { p256dh: `B${'A'.repeat(86)}`, auth: 'AAAAAAAAAAAAAAAAAAAAAA' };
  return {
    tag: 'Push',
    description: "Readers' Web Push subscriptions (anonymous, as reading is). See the README, \"Alerts beyond the open tab\".",
    schemas: [
      { schema: subscribe, id: 'PushSubscriptionRequest', description: "The browser's PushSubscription, the topics to follow (none: every topic) and the least urgent priority that may interrupt" },
      { schema: unsubscribe, id: 'PushUnsubscribeRequest', description: 'The endpoint of the subscription to remove (knowing it is what allows removing it)' },
      { schema: pushKeySchema, id: 'PushKey', description: 'The VAPID public key to subscribe with' },
      { schema: pushSubscribedSchema, id: 'PushSubscribed', description: 'The subscription as kept' },
      { schema: pushRemovedSchema, id: 'PushRemoved', description: 'The subscription is gone' },
    ],
    operations: [
      {
        method: 'get',
        path: '/api/v1/push/key',
        operationId: 'getPushKey',
        summary: 'The VAPID public key',
        responses: {
          200: { description: 'The key (base64url)', schema: pushKeySchema, example: { publicKey: keys.p256dh } },
          429: { description: 'Over `HTTP_RATE_PER_10S` from this address', schema: errors[429] },
        },
      },
      {
        method: 'post',
        path: '/api/v1/push/subscriptions',
        operationId: 'subscribePush',
        summary: 'Subscribe a browser to alerts',
        description: 'The endpoint must be a public https URL (`OUTBOUND_ALLOW_HOSTS` excepted). Subscribing again with the same endpoint replaces its choices.',
        body: {
          schema: subscribe,
          example: { subscription: { endpoint: 'https://push.example.net/send/abc', keys }, topics: ['world'], minPriority: 'bulletin' },
        },
        responses: {
          201: { description: 'Subscribed', schema: pushSubscribedSchema, example: { id: 'q2vYl4Zk3N0sB1xR8aTc9w', topics: ['world'], minPriority: 'bulletin' } },
          400: writeErrors[400],
          415: writeErrors[415],
          503: { description: '`PUSH_MAX_SUBSCRIPTIONS` reached', schema: errors[503], headers: { 'Retry-After': 'seconds to wait' } },
        },
      },
      {
        method: 'delete',
        path: '/api/v1/push/subscriptions',
        operationId: 'unsubscribePush',
        summary: 'Remove a subscription',
        body: { schema: unsubscribe, example: { endpoint: 'https://push.example.net/send/abc' } },
        responses: {
          200: { description: 'Removed', schema: pushRemovedSchema, example: { removed: true } },
          400: writeErrors[400],
          404: { description: 'No subscription with this endpoint', schema: errors[404] },
          415: writeErrors[415],
        },
      },
    ],
  };
}

const FEED_TYPES = {
  rss: { type: 'application/rss+xml', name: 'RSS 2.0' },
  atom: { type: 'application/atom+xml', name: 'Atom' },
  json: { type: 'application/feed+json', name: 'JSON Feed 1.1' },
} as const;

function feedsSection(): ApiSection {
  const topic = {
    name: 'topic',
    in: 'path' as const,
    schema: z.union([z.literal('all'), topicSchema]),
    description: 'A topic, or `all` for every item',
    example: 'world',
  };
  const conditional = [
    { name: 'If-None-Match', in: 'header' as const, schema: z.string(), description: 'An `ETag` of an earlier answer: `304` while the feed is unchanged' },
    { name: 'If-Modified-Since', in: 'header' as const, schema: z.string(), description: 'Counts only without `If-None-Match`' },
  ];
  return {
    tag: 'Feeds',
    description: 'Feeds for feed readers, rendered once per change, with strong conditional GET. See the README, "Feeds".',
    schemas: [{ schema: jsonFeedSchema, id: 'JsonFeed', description: 'A JSON Feed 1.1 document (https://jsonfeed.org/version/1.1) with a `_newswire` extension on items' }],
    operations: Object.entries(FEED_TYPES).map(([format, { type, name }]) => ({
      method: 'get' as const,
      path: `/feeds/{topic}.${format}`,
      operationId: `${format}Feed`,
      summary: `${name} feed of a topic`,
      description: `The latest items of the topic as ${name}; withdrawn items stay for \`FEED_WITHDRAWN_HOURS\` as notices. Compressed (gzip, br) when accepted.`,
      parameters: [topic, ...conditional],
      responses: {
        200: {
          description: `The feed (${type})`,
          contentTypes: [type],
          ...(format === 'json' ? { schema: jsonFeedSchema } : {}),
          headers: { ETag: 'strong tag of this variant', 'Last-Modified': 'time of the newest change', Link: 'the WebSub hub and the feed itself' },
        },
        304: { description: 'Not modified since the tag or time given', headers: { ETag: 'the tag that matched' } },
        404: { description: 'Not a feed name (`{topic}.rss`, `.atom` or `.json`)', schema: errors[404] },
        429: { description: 'Over `HTTP_RATE_PER_10S` from this address', schema: errors[429] },
      },
    })),
  };
}

function liveSection(): ApiSection {
  // realtime/protocol.ts parses this query by hand (no zod schema to reuse):
  // this is its only description, checked by the conformance test's 400s.
  const query = z.object({
    topics: z.string().optional(),
    items: z.string().optional(),
    detail: z.enum(['card', 'full']).default('card'),
    cursor: cursorSchema.optional(),
  });
  const notes = {
    topics: 'Comma-separated topics (at most `WS_MAX_TOPICS`); none, or `all`, follows every topic',
    items: 'Comma-separated item ids followed whatever their topics become (at most `WS_MAX_ITEMS`); with no topics, only these',
    detail: '`card` (no body) or `full` (whole items) in event frames and resets',
    cursor: 'Resume after this position: every event since, then live; a stale cursor gets a `reset` frame',
  };
  const refusals = (what: string): Record<number, ApiResponse> => ({
    403: { description: 'A browser `Origin` that is neither this server nor in `ALLOWED_ORIGINS`', schema: liveRefusalSchema },
    429: { description: `This address holds \`MAX_CONNECTIONS_PER_ADDRESS\` connections or opens them too fast`, schema: liveRefusalSchema },
    503: { description: `The process's ${what} ceiling (\`WS_MAX_CONNECTIONS\`), or draining`, schema: liveRefusalSchema },
  });
  return {
    tag: 'Live',
    description: `Live connections. Their frames and events are not described here: see the README of the server, sections "WebSocket" and "Event stream".`,
    schemas: [{ schema: liveRefusalSchema, id: 'LiveRefusal', description: 'Why a live connection was refused, before any frame' }],
    operations: [
      {
        method: 'get',
        path: '/ws',
        operationId: 'openWebSocket',
        summary: 'Open a WebSocket',
        description:
          'An HTTP/1.1 upgrade (`Connection: Upgrade`, `Upgrade: websocket`). Frames are JSON text: `welcome` first, then `event`, `reset`, `subscribed`, `pong`, `error`; clients send `subscribe`, `unsubscribe`, `ping`. A bad query is answered by an `error` frame and close code 4400.',
        query: { schema: query, notes },
        responses: { 101: { description: 'Switching protocols: the WebSocket is open' }, ...refusals('WebSocket') },
      },
      {
        method: 'get',
        path: '/sse',
        operationId: 'openEventStream',
        summary: 'Open an event stream (Server-Sent Events)',
        description:
          'For readers that cannot hold a WebSocket: the same sessions, frames (as `data:`), resume and reset. Every event carries its cursor as `id:`, so `EventSource` resumes with `Last-Event-ID` by itself.',
        query: { schema: query, notes },
        parameters: [{ name: 'Last-Event-ID', in: 'header', schema: z.string(), description: 'Sent by EventSource on reconnect; wins over `cursor`' }],
        responses: {
          200: { description: 'The stream, open until either side closes it', contentTypes: ['text/event-stream'] },
          400: { description: 'Bad `topics`, `items`, `detail` or `cursor`', schema: liveRefusalSchema },
          ...refusals('connection'),
        },
      },
    ],
  };
}

const keyRecordExample = { id: 'key_0123456789abcdef', name: 'Sports desk', actions: ['publish', 'correct'], topics: ['sport'], createdAt: at };
/** What the guard of a route that needs a key's action answers before the route runs. */
const keyGuard = (action: string): Record<number, ApiResponse> => ({
  401: writeErrors[401],
  403: {
    description: `A token that is not a publisher's (\`forbidden\`), or a key without the "${action}" action (\`forbidden-action\`)`,
    schema: errors[403],
    example: problemExample('forbidden-action', `the key "Sports desk" may not ${action}: it needs the "${action}" action`, { action }),
  },
});

function keysSection(): ApiSection {
  return {
    tag: 'Keys',
    description:
      'Publisher keys with their actions and topics, kept in the store; every call takes a key with the `admin` action (or a `PUBLISHER_TOKENS` token). A key\'s token is in the answer that makes it and never again. See the README, "Publisher keys".',
    schemas: [
      { schema: keyInputSchema, id: 'KeyInput', description: 'A new key: a name for the audit trail, its actions and (optionally) the only topics it may touch' },
      { schema: keyInputSchema.shape.name, description: `Who the audit trail names: at most ${KEY_NAME_LENGTH} characters once control characters are removed and spaces trimmed` },
      { schema: keyRecordSchema, id: 'Key', description: 'A publisher key, never with its token or hash' },
      { schema: keyCreatedSchema, id: 'KeyCreated', description: 'A key just made, with its token (shown this once)' },
      { schema: keyListSchema, id: 'KeyList', description: 'Every stored key, revoked ones included, oldest first (`keys`); and the full-power keys of `PUBLISHER_TOKENS` (`environment`: `token-1`, `token-2`, …; not in the store, revoked by removing the token from the environment)' },
      { schema: keyRevokedSchema, id: 'KeyRevoked', description: 'The key as revoked' },
    ],
    operations: [
      {
        method: 'post',
        path: '/api/v1/keys',
        operationId: 'createKey',
        summary: 'Make a publisher key',
        description: `Takes a key with the \`admin\` action. The answer holds the token: keep it, it is never shown again. The store holds at most ${MAX_KEYS} keys, revoked ones included.`,
        auth: 'required',
        body: { schema: keyInputSchema, example: { name: 'Sports desk', actions: ['publish', 'correct'], topics: ['sport'] } },
        responses: {
          201: {
            description: 'Made',
            schema: keyCreatedSchema,
            headers: { Location: 'the URL of the key (to revoke it)' },
            example: { key: keyRecordExample, token: `nwk_${'A'.repeat(43)}` },
          },
          400: writeErrors[400],
          ...keyGuard('admin'),
          409: { description: `The store holds ${MAX_KEYS} keys: no more can be made (\`too-many-keys\`)`, schema: errors[409] },
          413: { description: 'Body over 16 KiB', schema: errors[413] },
          415: writeErrors[415],
          429: tooMany,
        },
      },
      {
        method: 'get',
        path: '/api/v1/keys',
        operationId: 'listKeys',
        summary: 'List publisher keys',
        description: 'Takes a key with the `admin` action. Revoked keys included, oldest first; `PUBLISHER_TOKENS` entries are not in the store and not listed.',
        auth: 'required',
        responses: {
          200: { description: 'The keys', schema: keyListSchema, example: { keys: [keyRecordExample], environment: [{ id: 'token-1', name: 'token-1', actions: ['publish', 'correct', 'kill', 'ingest', 'admin'] }] } },
          ...keyGuard('admin'),
          429: { ...tooMany, description: 'This address failed authentication too often' },
        },
      },
      {
        method: 'delete',
        path: '/api/v1/keys/{id}',
        operationId: 'revokeKey',
        summary: 'Revoke a publisher key',
        description: 'Takes a key with the `admin` action. Every process refuses the revoked key within a second; revoking it again keeps the first time.',
        auth: 'required',
        parameters: [{ name: 'id', in: 'path', schema: z.string().regex(KEY_ID_PATTERN), description: "The key's id", example: keyRecordExample.id }],
        responses: {
          200: { description: 'Revoked', schema: keyRevokedSchema, example: { key: { ...keyRecordExample, revokedAt: '2026-05-02T09:00:00.000Z' } } },
          ...keyGuard('admin'),
          404: { description: 'No key with this id (`PUBLISHER_TOKENS` entries are revoked by removing them from the environment)', schema: errors[404] },
          429: tooMany,
        },
      },
    ],
  };
}

const notTakenIn: ApiResponse = { description: '`pubstatus: "canceled"` for a uri no item was taken in for', schema: errors[404] };
const withheldTooLate: ApiResponse = {
  description: `\`pubstatus: "withheld"\` for an item readers already have (\`already-published\`)${idempotencyConflicts}`,
  schema: errors[409],
};

function ninjsSection(): ApiSection {
  return {
    tag: 'ninjs',
    description:
      'IPTC ninjs in and out. Reading: `GET /api/v1/items/{id}` and `GET /api/v1/items` with `Accept: application/ninjs+json` or `?format=ninjs`. Writing: a ninjs document becomes an item (versions, pubstatus, embargo, subjects → topics through `NINJS_TOPIC_MAP`). See the README, "ninjs".',
    schemas: [{ schema: ninjsUnchangedSchema, id: 'NinjsUnchanged', description: 'A ninjs version already taken in (a replay, or an older version arriving late): nothing changed' }],
    operations: [
      {
        method: 'post',
        path: '/api/v1/ninjs',
        operationId: 'ingestNinjs',
        summary: 'Take in a ninjs document',
        description:
          "Takes a key with the `ingest` action, limited to its topics. The item id comes from the document's `uri`; `pubstatus: \"usable\"` publishes or corrects (a higher `version` only), `\"withheld\"` holds, `\"canceled\"` retracts. Field errors name the document's own fields.",
        auth: 'required',
        parameters: [idempotencyKeyParameter],
        body: {
          schema: ninjsDocumentSchema,
          description: NINJS_DESCRIPTION,
          example: { uri: 'urn:newsml:example.com:20260501:quake', version: '1', pubstatus: 'usable', headlines: [{ role: 'main', value: inputExample.headline }], subjects: [{ name: 'world' }] },
        },
        responses: {
          201: { description: 'Published (or, with `Idempotent-Replayed: true`, the kept answer of an earlier request with the same `Idempotency-Key`)', schema: writtenSchema, headers: location },
          200: {
            description: 'Corrected, cancelled, retracted, or a version already taken in (`unchanged`)',
            schema: z.union([writtenSchema, retractedSchema, unchangedSchema, ninjsUnchangedSchema]),
          },
          202: { description: 'Held (`pubstatus: "withheld"`, or an embargo)', schema: heldSchema, headers: location },
          ...writeErrors,
          403: {
            description: "Not a publisher's token (`forbidden`), a key without the \"ingest\" action (`forbidden-action`, with `action`), or limited to other topics (`forbidden-topic`, with `topics`)",
            schema: errors[403],
            example: problemExample('forbidden-action', 'the key "Sports desk" may not ingest: it needs the "ingest" action', { action: 'ingest' }),
          },
          404: notTakenIn,
          409: withheldTooLate,
          410: gone,
        },
      },
    ],
  };
}

function superdeskSection(settings: Pick<NinjsSettings, 'mediaMaxBytes'>): ApiSection {
  const mediaId = z.string().max(MEDIA_ID_MAX).regex(MEDIA_ID);
  const badSignature: ApiResponse = {
    description: 'No `x-superdesk-signature`, or not the HMAC of this body (`bad-signature`)',
    schema: errors[403],
    example: problemExample('bad-signature', 'x-superdesk-signature must be sha1=<hex HMAC-SHA1 of the body with the secret token>'),
  };
  const signedTooMany: ApiResponse = { ...tooMany, description: 'Over `PUBLISH_RATE_PER_MINUTE` pushes, or this address sent wrong signatures too often' };
  // The multipart fields are read by hand (FormData): this is their only description.
  const uploadForm = z.strictObject({
    media_id: mediaId,
    // Its type is judged by its bytes, not by the type the part declares.
    media: z.file(),
  });
  return {
    tag: 'Superdesk',
    description:
      "Superdesk's HTTP Push transmitter as a client, present when `SUPERDESK_SECRET` is set: its resource URL is `/api/v1/superdesk/items`, its assets URL `/api/v1/superdesk/assets`. Pushes are signed with the destination's secret token (`x-superdesk-signature`) instead of a bearer token. See the README, \"Superdesk\".",
    schemas: [
      { schema: superdeskAssetSchema, id: 'SuperdeskAsset', description: 'Where a file uploaded under this media id is served' },
      { schema: superdeskUploadedSchema, id: 'SuperdeskUploaded', description: 'A file kept: where it is served, its type (judged by its bytes) and size' },
      { schema: uploadForm, id: 'SuperdeskUpload', description: `\`media_id\`: Superdesk's id of the rendition; \`media\`: the file, a JPEG, PNG, WebP or GIF image of at most ${settings.mediaMaxBytes} bytes (\`MEDIA_MAX_BYTES\`)` },
    ],
    operations: [
      {
        method: 'post',
        path: '/api/v1/superdesk/items',
        operationId: 'superdeskPushItem',
        summary: 'Take in an item pushed by Superdesk',
        description:
          'A ninjs document, taken in as `POST /api/v1/ninjs` takes it in; every success is `201` (older transmitters take nothing else). The history names "Superdesk HTTP Push" as who made the version.',
        auth: 'signed',
        body: { schema: ninjsDocumentSchema, description: NINJS_DESCRIPTION },
        responses: {
          201: {
            description: 'Taken in: published, corrected, held, cancelled or retracted, or a version already taken in',
            schema: z.union([writtenSchema, heldSchema, retractedSchema, unchangedSchema, ninjsUnchangedSchema]),
          },
          400: writeErrors[400],
          403: badSignature,
          404: notTakenIn,
          409: withheldTooLate,
          410: gone,
          413: writeErrors[413],
          429: signedTooMany,
          503: writeErrors[503],
        },
      },
      {
        method: 'get',
        path: '/api/v1/superdesk/assets/{mediaId}',
        operationId: 'superdeskAsset',
        summary: 'Whether a file was uploaded under this media id',
        description: 'Superdesk asks before a push and uploads what is missing. Not signed: it tells only where a public file is served.',
        parameters: [{ name: 'mediaId', in: 'path', schema: mediaId, description: "Superdesk's id of the rendition; it may hold slashes", example: '20260501120000/d3ad29.jpg' }],
        responses: {
          200: { description: 'Uploaded: where it is served', schema: superdeskAssetSchema },
          400: { description: 'Not a media id (`invalid-media-id`)', schema: errors[400] },
          404: { description: 'Nothing uploaded under this id', schema: errors[404] },
        },
      },
      {
        method: 'post',
        path: '/api/v1/superdesk/assets',
        operationId: 'superdeskUploadAsset',
        summary: 'Upload a rendition',
        description: 'One media id keeps one URL. The signature covers the whole multipart body as sent.',
        auth: 'signed',
        body: { schema: uploadForm, contentType: 'multipart/form-data' },
        responses: {
          201: { description: 'Kept', schema: superdeskUploadedSchema },
          400: { description: 'A multipart body that cannot be read (`invalid-multipart`), or a bad `media_id` or no `media` (`invalid-request`, with `fields`)', schema: errors[400] },
          403: badSignature,
          413: { description: '`media` over `MEDIA_MAX_BYTES`', schema: errors[413] },
          415: { description: 'Not `multipart/form-data`, or `media` not a JPEG, PNG, WebP or GIF image', schema: errors[415] },
          429: signedTooMany,
        },
      },
    ],
  };
}

function mediaSection(): ApiSection {
  return {
    tag: 'Media',
    description: 'Uploaded files on stable URLs: a name never changes its content.',
    operations: [
      {
        method: 'get',
        path: '/media/{name}',
        operationId: 'getMedia',
        summary: 'An uploaded file',
        parameters: [
          { name: 'name', in: 'path', schema: z.string().regex(MEDIA_NAME_PATTERN), description: 'The name in the `href` of the upload', example: 'q2vYl4Zk3N0sB1xR8aTc9w.jpg' },
          { name: 'If-None-Match', in: 'header', schema: z.string(), description: 'The `ETag` of an earlier answer: `304`' },
        ],
        responses: {
          200: {
            description: 'The file, cached for good',
            contentTypes: Object.keys(MEDIA_TYPES),
            headers: { ETag: 'the name, quoted', 'Cache-Control': '`public, max-age=31536000, immutable`' },
          },
          304: { description: 'Not modified', headers: { ETag: 'the tag that matched' } },
          404: { description: 'No file with this name', schema: errors[404] },
        },
      },
    ],
  };
}

function deskSection(): ApiSection {
  return {
    tag: 'Desk',
    description: "What a breaking desk reads beside its list: the readers connected now (the kill list is `GET /api/v1/items?status=retracted`). Publisher token.",
    schemas: [
      { schema: readerCountsSchema, id: 'ReaderCounts', description: 'Live connections now: per topic (a reader of several topics counts in each; most read first), following every topic, in all, and how many processes reported' },
    ],
    operations: [
      {
        method: 'get',
        path: '/api/v1/readers',
        operationId: 'getReaderCounts',
        summary: 'Readers connected now, per topic',
        description:
          'Summed over every process of the server (with Redis: the processes that reported within the last few seconds). `topics` holds topic pages and story pages by their topics; `everyTopic` the front page and consoles; `total` every live connection. Not cached.',
        auth: 'required',
        responses: {
          200: {
            description: 'The counts',
            schema: readerCountsSchema,
            headers: { 'Cache-Control': '`private, no-store`' },
            example: { topics: { world: 41, sport: 12 }, everyTopic: 230, total: 283, processes: 2 },
          },
          401: writeErrors[401],
          403: { description: 'A token that may not publish', schema: errors[403], example: notPublisher },
          429: { ...tooMany, description: 'This address failed authentication too often', example: problemExample('too-many-auth-failures', 'too many failed attempts from this address: wait and retry with a valid token') },
        },
      },
    ],
  };
}

function probesSection(): ApiSection {
  return {
    tag: 'Probes',
    description: 'For load balancers and orchestrators; never rate-limited.',
    schemas: [
      { schema: healthSchema, id: 'Health', description: 'The process is alive' },
      { schema: readinessSchema, id: 'Readiness', description: 'Whether the store and the bus are reachable, each check in an operator\'s words' },
    ],
    operations: [
      {
        method: 'get',
        path: '/healthz',
        operationId: 'health',
        summary: 'The process is alive',
        responses: { 200: { description: 'Alive', schema: healthSchema, example: { status: 'ok' } } },
      },
      {
        method: 'get',
        path: '/readyz',
        operationId: 'readiness',
        summary: 'The store and the bus are reachable',
        responses: {
          200: { description: 'Ready', schema: readinessSchema, example: { status: 'ready', checks: { store: 'ok', bus: 'ok' } } },
          503: { description: 'Not ready: the checks say what is wrong', schema: readinessSchema },
        },
      },
    ],
  };
}

/** The description of this server, with the limits of its configuration. */
export function newswireApiDocument(config: Pick<Config, 'siteTitle' | 'publicUrl' | 'ninjs'>, limits: DocumentLimits): OpenApiDocument {
  return buildOpenApiDocument(
    {
      title: `${config.siteTitle} API`,
      version: '1',
      description: `The newsroom API of a real-time breaking-news feed server (items, publisher keys, ninjs and Superdesk intake, uploaded media), its feeds, live connections and probes. Errors always have one shape: \`{"error": {"code", "message", "fields"?}}\`. The contract in full, with the frames of the live connections, is in the README of the server.`,
      ...(config.publicUrl ? { serverUrl: config.publicUrl } : {}),
    },
    [
      itemsSection(limits),
      keysSection(),
      ninjsSection(),
      // The Superdesk routes exist only with a secret: the document describes the server as configured.
      ...(config.ninjs.superdeskSecret ? [superdeskSection(config.ninjs)] : []),
      mediaSection(),
      pushSection(limits),
      feedsSection(),
      deskSection(),
      liveSection(),
      probesSection(),
    ],
  );
}
