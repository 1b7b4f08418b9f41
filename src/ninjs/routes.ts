// ninjs on the newsroom API: items out as IPTC ninjs 2.1, ninjs documents in
// as our events, and Superdesk's HTTP Push transmitter as a client. Writes
// share the items API's guard, budgets and commit.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { forbiddenTopics, rateLimit } from '../api/auth.ts';
import { type FieldError, fieldErrors, invalid, limitBody, problem } from '../api/errors.ts';
import type { ItemsEnv, NewsroomWrites } from '../api/items.ts';
import { readJson } from '../api/json.ts';
import { requestIdOf } from '../api/request-id.ts';
import { formatCursor } from '../domain/cursor.ts';
import { ALL_ITEMS } from '../domain/event.ts';
import { contentHash, ID_PATTERN, itemInputSchema, toItemContent, topicSchema } from '../domain/item.ts';
import type { MediaStore } from '../media/store.ts';
import { sniffImage } from '../media/sniff.ts';
import type { Logger } from '../ops/logger.ts';
import type { Actor, Store } from '../store/store.ts';
import { type View, type ViewCache, viewItems } from '../views/views.ts';
import type { NinjsSettings } from './config.ts';
import { itemIdForUri, type NinjsIntake, readNinjs } from './in.ts';
import { NINJS_CONTENT_TYPE, toNinjs, wantsNinjs } from './out.ts';
import type { VersionLedger } from './versions.ts';

export interface NinjsApiOptions {
  store: Store;
  views: ViewCache;
  writes: NewsroomWrites;
  ledger: VersionLedger;
  media: MediaStore;
  settings: NinjsSettings;
  logger: Logger;
  /** The base of absolute links (PUBLIC_URL, or the origin first seen). */
  baseUrl(): string;
  maxBodyBytes: number;
  publishPerMinute: number;
  /** Most whole items one ninjs list may hold. */
  fullListLimit: number;
}

/** A withheld item with no embargo of its own is held until a later version releases it. */
const WITHHELD_UNTIL = '9999-12-31T00:00:00.000Z';
const DEFAULT_KILL_REASON = 'Withdrawn by the sender (ninjs pubstatus canceled)';
/** Superdesk media ids, e.g. "20170201110216/d3ad29…cd.jpg": path-like, never a path here. */
export const MEDIA_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
export const MEDIA_ID_MAX = 255;
/** What a multipart upload carries beside the file (boundaries, headers, the id). */
const MULTIPART_OVERHEAD = 64 * 1024;

export function ninjsApi(options: NinjsApiOptions): Hono<ItemsEnv> {
  const { store, views, writes, ledger, media, settings } = options;
  const api = new Hono<ItemsEnv>();

  /** The JSON answer of the same path, marked as chosen by Accept too, so no cache hands one for the other. */
  const plainJson = async (c: Context<ItemsEnv>, next: () => Promise<void>) => {
    await next();
    c.res.headers.append('Vary', 'Accept');
  };

  // Items out: the same paths as the JSON API, chosen by Accept or ?format=ninjs.
  api.get('/items/:id', async (c, next) => {
    if (!wantsNinjs(c.req.header('accept'), c.req.query('format'))) return plainJson(c, next);
    c.header('Vary', 'Accept');
    const id = c.req.param('id');
    const publisher = writes.guard.check(c) !== null;
    const item = ID_PATTERN.test(id) ? await store.getItem(id) : null;
    if (!item || (item.status === 'scheduled' && !publisher)) return problem(c, 404, 'not-found', 'no item with this id');
    if (item.status === 'scheduled') c.header('Cache-Control', 'private, no-store');
    // A kill answers 200 with pubstatus canceled: a ninjs consumer must learn of it, not just fail to read.
    return c.body(JSON.stringify(toNinjs(item, options.baseUrl())), 200, { 'Content-Type': NINJS_CONTENT_TYPE });
  });

  /** A ninjs list, rendered once per view, length and base: consumers polling an unchanged list cost a lookup. */
  const renderedLists = new WeakMap<View, Map<string, string>>();
  const ninjsList = (view: View, count: number, base: string): string => {
    let bodies = renderedLists.get(view);
    if (!bodies) {
      bodies = new Map();
      renderedLists.set(view, bodies);
    }
    const key = `${count} ${base}`;
    let body = bodies.get(key);
    if (body === undefined) {
      body = JSON.stringify({ items: viewItems(view, count).map((item) => toNinjs(item, base)), cursor: formatCursor(view.epoch, view.headSeq) });
      bodies.set(key, body);
    }
    return body;
  };

  const listQuery = z.object({
    topic: z.union([z.literal('all'), topicSchema]).optional(),
    limit: z.coerce.number().int().min(1).max(options.fullListLimit, `may be at most ${options.fullListLimit} (ninjs carries whole items)`).default(20),
  });
  api.get('/items', async (c, next) => {
    if (!wantsNinjs(c.req.header('accept'), c.req.query('format')) || (c.req.query('status') ?? 'published') !== 'published') return plainJson(c, next);
    const parsed = listQuery.safeParse({ topic: c.req.query('topic') || undefined, limit: c.req.query('limit') || undefined });
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    const { topic, limit } = parsed.data;
    const view = await views.get([topic === undefined || topic === 'all' ? ALL_ITEMS : topic], 'full');
    c.header('Vary', 'Accept');
    return c.body(ninjsList(view, Math.min(limit, view.entries.length), options.baseUrl()), 200, { 'Content-Type': NINJS_CONTENT_TYPE });
  });

  /** One ninjs document in: the event it calls for, or an acknowledgement without one. */
  async function ingest(c: Context<ItemsEnv>, doc: unknown): Promise<Response> {
    const read = readNinjs(doc, settings);
    if ('errors' in read) return invalid(c, read.errors);
    const { uri, version, pubstatus } = read;
    const id = itemIdForUri(uri);
    // A key names itself; a Superdesk push is signed by its destination's secret instead.
    const actor: Actor = c.get('principal') ? writes.actorOf(c) : { key: 'superdesk', name: 'Superdesk HTTP Push', requestId: requestIdOf(c) };
    const [last, current] = await Promise.all([ledger.last(uri), store.getItem(id)]);
    const acknowledge = (item: unknown) => c.json({ unchanged: true, item: item ?? undefined, ninjs: { uri, version, lastVersion: last ?? version } }, 200);
    // A replay, or an older version arriving late: nothing changes.
    if (last !== null && version <= last) return acknowledge(current);
    const recorded = async (response: Response) => {
      // The event is in the log already: a ledger that cannot be written now
      // only means a replay of this version meets the store's own idempotence.
      if (response.status < 300) await ledger.record(uri, version).catch((error: unknown) => options.logger.warn({ err: error, uri, version }, 'ninjs version not recorded'));
      return response;
    };

    if (pubstatus === 'canceled') {
      if (current?.status === 'retracted') {
        await ledger.record(uri, version);
        return acknowledge(current);
      }
      if (!current) return problem(c, 404, 'not-found', `no item was taken in for this uri (item id "${id}"): nothing to cancel`);
      const reason = (read.note ?? DEFAULT_KILL_REASON).slice(0, 500);
      return recorded(await writes.commit(c, 'retract', () => store.retract(id, reason, actor)));
    }

    const input: Record<string, unknown> = { id, ...read.fields };
    const paths = { ...read.paths };
    if (read.image) {
      const url = await imageUrl(read.image);
      if (url) {
        input.image = { url, alt: read.image.alt };
        paths.image = read.image.path;
      }
    }
    if (pubstatus === 'withheld') {
      if (current?.status === 'published') {
        return problem(c, 409, 'already-published', 'readers already have this item: withheld cannot take it back (send pubstatus canceled to withdraw it)', {
          item: current,
        });
      }
      const embargo = typeof input.embargoUntil === 'string' ? Date.parse(input.embargoUntil) : Number.NaN;
      if (!(embargo > Date.now())) input.embargoUntil = WITHHELD_UNTIL;
    }
    const parsed = itemInputSchema.safeParse(input);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error).map((field) => intoDocument(field, paths, read)));
    const content = toItemContent(parsed.data);
    // A desk's key may bring in items of its own topics only (the store checks the ones an item has now).
    const forbidden = forbiddenTopics(c, content.topics);
    if (forbidden) return forbidden;
    if (!current) return recorded(await writes.commit(c, 'publish', () => store.publish(content, contentHash(content), actor), 201));
    const note = read.note?.slice(0, 500);
    return recorded(await writes.commit(c, 'update', () => store.update(content, contentHash(content), note, false, actor)));
  }

  const mediaHref = (name: string) => `${options.baseUrl()}/media/${name}`;

  /** Our copy of an uploaded rendition when there is one, otherwise the document's own link. */
  async function imageUrl(image: NonNullable<NinjsIntake['image']>): Promise<string | undefined> {
    if (image.mediaId && validMediaId(image.mediaId)) {
      const name = await media.nameOf(image.mediaId);
      if (name) return mediaHref(name);
    }
    return image.href;
  }

  // The items API's own chain (auth, the "ingest" action, rate, body limit, rejection counts), whatever its length.
  const write = writes.write('ingest') as unknown as [MiddlewareHandler<ItemsEnv>, MiddlewareHandler<ItemsEnv>];
  api.post('/ninjs', ...write, async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    return ingest(c, body);
  });

  const secret = settings.superdeskSecret;
  if (!secret) return api;

  // Superdesk signs with the destination's secret token instead of a bearer
  // token; a bad signature counts against the address's one failure budget.
  /** The bytes the signature was checked over, read once. */
  const signedBodies = new WeakMap<Request, Buffer>();
  const signed: MiddlewareHandler<ItemsEnv> = async (c, next) => {
    const refused = writes.guard.refused(c, 'a valid signature');
    if (refused) return refused;
    const raw = Buffer.from(await c.req.arrayBuffer());
    const signature = c.req.header('x-superdesk-signature');
    if (!signatureMatches(secret, raw, signature)) {
      writes.guard.failed(c, signature ? 'invalid' : 'missing');
      return problem(c, 403, 'bad-signature', 'x-superdesk-signature must be sha1=<hex HMAC-SHA1 of the body with the secret token>');
    }
    c.set('tokenId', 'superdesk');
    signedBodies.set(c.req.raw, raw);
    await next();
  };
  const pushRate = rateLimit(options.publishPerMinute);
  const rawOf = (c: Context<ItemsEnv>) => signedBodies.get(c.req.raw) as Buffer;

  api.post('/superdesk/items', limitBody(options.maxBodyBytes), signed, pushRate, async (c) => {
    let doc: unknown;
    try {
      doc = JSON.parse(rawOf(c).toString('utf8'));
    } catch {
      return problem(c, 400, 'invalid-json', 'the body is not valid JSON');
    }
    const response = await ingest(c, doc);
    // Superdesk's transmitter (older releases) takes only 201 as success.
    if (response.status >= 200 && response.status < 300 && response.status !== 201) {
      return new Response(response.body, { status: 201, headers: response.headers });
    }
    return response;
  });

  api.get('/superdesk/assets/*', async (c) => {
    const mediaId = c.req.path.slice(c.req.path.indexOf('/superdesk/assets/') + '/superdesk/assets/'.length);
    if (!validMediaId(mediaId)) return problem(c, 400, 'invalid-media-id', mediaIdRule);
    const name = await media.nameOf(mediaId);
    if (!name) return problem(c, 404, 'not-found', 'no media with this id');
    return c.json({ media_id: mediaId, href: mediaHref(name) }, 200);
  });

  api.post('/superdesk/assets', limitBody(settings.mediaMaxBytes + MULTIPART_OVERHEAD), signed, pushRate, async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^multipart\/form-data\b/i.test(type)) {
      return problem(c, 415, 'unsupported-media-type', 'send the file as multipart/form-data with media_id and media');
    }
    let form: FormData;
    try {
      const raw = rawOf(c);
      form = await new Response(new Blob([new Uint8Array(raw)]), { headers: { 'content-type': type } }).formData();
    } catch {
      return problem(c, 400, 'invalid-multipart', 'the multipart body could not be read');
    }
    const fields: FieldError[] = [];
    const mediaId = form.get('media_id');
    const file = form.get('media');
    if (typeof mediaId !== 'string' || !validMediaId(mediaId)) fields.push({ path: 'media_id', message: mediaIdRule });
    if (!(file instanceof Blob)) fields.push({ path: 'media', message: 'must be the file' });
    if (fields.length || typeof mediaId !== 'string' || !(file instanceof Blob)) return invalid(c, fields);
    if (file.size > settings.mediaMaxBytes) {
      return problem(c, 413, 'payload-too-large', `media must be at most ${settings.mediaMaxBytes} bytes`, {
        fields: [{ path: 'media', message: `is ${file.size} bytes` }],
      });
    }
    const bytes = Buffer.from(await file.arrayBuffer());
    const sniffed = sniffImage(bytes);
    if (!sniffed) {
      return problem(c, 415, 'unsupported-media-type', 'media must be a JPEG, PNG, WebP or GIF image (judged by its bytes, not its declared type)', {
        fields: [{ path: 'media', message: 'is not a JPEG, PNG, WebP or GIF image' }],
      });
    }
    const name = await media.put(mediaId, sniffed, bytes);
    options.logger.info({ mediaId, name, bytes: bytes.length, type: sniffed }, 'media uploaded');
    return c.json({ media_id: mediaId, href: mediaHref(name), mimetype: sniffed, size: bytes.length }, 201);
  });

  return api;
}

const mediaIdRule = `must be at most ${MEDIA_ID_MAX} characters of letters, digits, . _ - in parts separated by single slashes, each starting with a letter or digit`;
const validMediaId = (id: string) => id.length <= MEDIA_ID_MAX && MEDIA_ID.test(id);

/** `sha1=<hex>` of HMAC-SHA1(secret, body), compared in constant time. */
export function signatureMatches(secret: string, raw: Uint8Array, header: string | undefined): boolean {
  const match = header ? /^sha1=([0-9a-f]{40})$/i.exec(header.trim()) : null;
  if (!match) return false;
  const expected = createHmac('sha1', secret).update(raw).digest();
  return timingSafeEqual(Buffer.from(match[1] as string, 'hex'), expected);
}

/** Our field's error, pointed at where the value came from in the ninjs document. */
function intoDocument(field: FieldError, paths: Record<string, string>, read: NinjsIntake): FieldError {
  const [head, ...rest] = field.path.split('.');
  if (head === 'id') return { path: 'uri', message: `gives the item id "${itemIdForUri(read.uri)}", which ${field.message}` };
  if (head === 'headline' && !paths.headline) return { path: 'headlines', message: 'needs a headline (1.x: headline)' };
  if (head === 'image' && paths.image) return { path: paths.image, message: field.message };
  const mapped = head ? paths[head] : undefined;
  return { path: mapped ? [mapped, ...rest].join('.') : field.path, message: field.message };
}
