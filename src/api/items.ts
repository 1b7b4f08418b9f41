// Newsroom API: publish, correct, retract, read. A write is acknowledged only
// once the log holds it; only then does it go to the bus. An item under a
// future embargo is held by the store (202) and released by the scheduler.
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Bus } from '../bus/bus.ts';
import { formatCursor } from '../domain/cursor.ts';
import { ALL_ITEMS } from '../domain/event.ts';
import {
  contentHash,
  ID_PATTERN,
  itemInputSchema,
  retractBodySchema,
  toItemContent,
  topicSchema,
  updateBodySchema,
} from '../domain/item.ts';
import type { Metrics } from '../ops/metrics.ts';
import { type Store, StoreUnavailableError, type WriteResult } from '../store/store.ts';
import { type ViewCache, viewJson } from '../views/views.ts';
import { type AuthEnv, type AuthOptions, rateLimit, tokenGuard } from './auth.ts';
import { type FieldError, fieldErrors, invalid, problem } from './errors.ts';
import { readJson } from './json.ts';

export interface ItemsApiOptions {
  store: Store;
  bus: Bus;
  views: ViewCache;
  metrics: Metrics;
  auth: AuthOptions;
  maxBodyBytes: number;
  publishPerMinute: number;
  /** Most cards one list request may ask for. */
  listLimit: number;
  /** Most whole items (with bodies) one list request may ask for. */
  fullListLimit: number;
}

type Action = 'publish' | 'update' | 'retract';
type Env = AuthEnv & { Variables: { stored?: boolean } };

const ACTIONS: Record<string, Action> = { POST: 'publish', PUT: 'update', DELETE: 'retract' };
const REJECTIONS: Record<number, string> = {
  400: 'invalid',
  401: 'no-token',
  403: 'bad-token',
  404: 'not-found',
  413: 'too-large',
  415: 'not-json',
  429: 'rate-limited',
};

export function itemsApi(options: ItemsApiOptions): Hono<Env> {
  const { store, bus, metrics, views } = options;
  const api = new Hono<Env>();
  // One guard for every route that reads a token: one failure budget per address.
  const guard = tokenGuard(options.auth);
  /** Writes the store never saw are counted by why they were refused. */
  const countRejections: MiddlewareHandler<Env> = async (c, next) => {
    await next();
    if (c.res.status < 400 || c.get('stored')) return;
    const reason = REJECTIONS[c.res.status];
    metrics.rejectedWrites.inc({ action: ACTIONS[c.req.method] ?? 'other', reason: reason ?? String(c.res.status) });
  };
  const write = [
    countRejections,
    guard.middleware,
    rateLimit(options.publishPerMinute),
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (c) => {
        // The rest of the body is never read: the connection cannot be reused.
        c.header('Connection', 'close');
        return problem(c, 413, 'payload-too-large', `request body must be at most ${options.maxBodyBytes} bytes`);
      },
    }),
  ] as const;

  /** Runs a store write, hands a new event to the bus, maps the outcome to HTTP. */
  async function commit(c: Context<Env>, action: Action, run: () => Promise<WriteResult>, created = 200): Promise<Response> {
    c.set('stored', true);
    const timer = metrics.publishLatency.startTimer({ action });
    let result: WriteResult;
    try {
      result = await run();
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        metrics.publishes.inc({ action, outcome: 'unavailable' });
        c.header('Retry-After', '2');
        return problem(c, 503, 'store-unavailable', 'the log cannot be written right now: nothing was saved, retry');
      }
      throw error;
    }
    metrics.publishes.inc({ action, outcome: result.outcome });
    // Who changed what readers see: the token's name, never the token.
    if (result.outcome === 'appended' || result.outcome === 'scheduled' || result.outcome === 'cancelled') {
      const id = result.outcome === 'appended' ? result.event.item.id : result.item.id;
      const seq = result.outcome === 'appended' ? result.event.seq : undefined;
      options.auth.logger.info({ action, outcome: result.outcome, id, seq, token: c.get('tokenId') }, 'write');
    }
    switch (result.outcome) {
      case 'appended': {
        timer();
        bus.published(result.event, result.epoch);
        const cursor = formatCursor(result.epoch, result.event.seq);
        if (action === 'retract') return c.json({ cursor, item: result.event.item }, 200);
        if (created === 201) c.header('Location', `/api/v1/items/${encodeURIComponent(result.event.item.id)}`);
        return c.json({ item: result.event.item, cursor }, created as 200);
      }
      case 'scheduled':
        // Held, not published: nothing is in the log, so there is no cursor.
        timer();
        if (created === 201) {
          c.header('Location', `/api/v1/items/${encodeURIComponent(result.item.id)}`);
          return c.json({ item: result.item }, 202);
        }
        return c.json({ item: result.item }, 200);
      case 'cancelled':
        return c.json({ cursor: formatCursor(result.epoch, result.seq), item: result.item }, 200);
      case 'unchanged':
        return c.json({ item: result.item, cursor: formatCursor(result.epoch, result.seq), unchanged: true }, 200);
      case 'conflict':
        if (action === 'update') {
          return problem(c, 409, 'already-published', 'readers already have this item: an embargo in the future cannot hold it back', {
            item: result.item,
          });
        }
        return problem(c, 409, 'conflict', 'an item with this id exists with other content: use PUT to correct it', {
          item: result.item,
        });
      case 'not-found':
        return problem(c, 404, 'not-found', 'no item with this id');
      case 'gone':
        return problem(c, 410, 'gone', 'this item was retracted and cannot change', { item: result.item });
    }
  }

  api.post('/items', ...write, async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = itemInputSchema.safeParse(body);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    const content = toItemContent(parsed.data);
    return commit(c, 'publish', () => store.publish(content, contentHash(content)), 201);
  });

  api.put('/items/:id', ...write, async (c) => {
    const id = c.req.param('id');
    if (!ID_PATTERN.test(id)) return problem(c, 404, 'not-found', 'no item with this id');
    const body = await readJson(c);
    if (body instanceof Response) return body;
    if (!isObject(body)) return invalid(c, [{ path: '(body)', message: 'must be a JSON object' }]);
    const { changeNote, notify, ...rest } = body;
    const fields: FieldError[] = [];
    const note = updateBodySchema.safeParse({ changeNote, notify });
    if (!note.success) fields.push(...fieldErrors(note.error));
    if (rest.id !== undefined && rest.id !== id) fields.push({ path: 'id', message: 'must match the id in the path' });
    const parsed = itemInputSchema.safeParse({ ...rest, id });
    if (!parsed.success) fields.push(...fieldErrors(parsed.error));
    if (fields.length || !parsed.success || !note.success) return invalid(c, fields);
    const content = toItemContent(parsed.data);
    return commit(c, 'update', () => store.update(content, contentHash(content), note.data.changeNote || undefined, note.data.notify === true));
  });

  api.delete('/items/:id', ...write, async (c) => {
    const id = c.req.param('id');
    if (!ID_PATTERN.test(id)) return problem(c, 404, 'not-found', 'no item with this id');
    let body: unknown = {};
    if ((c.req.header('content-type') ?? '').includes('json')) {
      // An empty body with a JSON type is no body: the reason may be in the query.
      const read = await readJson(c, { emptyIsNothing: true });
      if (read instanceof Response) return read;
      body = read ?? {};
    }
    const reason = c.req.query('reason') ?? (isObject(body) ? body.reason : undefined);
    const parsed = retractBodySchema.safeParse({ reason });
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    return commit(c, 'retract', () => store.retract(id, parsed.data.reason));
  });

  api.get('/items/:id', async (c) => {
    const id = c.req.param('id');
    // A token offered is checked whatever the item: a wrong one counts as a
    // failure whether or not a held item is there, so counting tells nothing.
    const publisher = guard.check(c) !== null;
    const item = ID_PATTERN.test(id) ? await store.getItem(id) : null;
    // A held item does not exist for readers; its newsroom may look at it.
    if (item?.status === 'scheduled') {
      if (!publisher) return problem(c, 404, 'not-found', 'no item with this id');
      c.header('Cache-Control', 'private, no-store');
      return c.json({ item });
    }
    if (!item) return problem(c, 404, 'not-found', 'no item with this id');
    if (item.status === 'retracted') return problem(c, 410, 'gone', 'this item was retracted', { item });
    return c.json({ item });
  });

  const listQuery = z
    .object({
      topic: z.union([z.literal('all'), topicSchema]).optional(),
      limit: z.coerce.number().int().min(1).max(options.listLimit).default(20),
      status: z.enum(['published', 'scheduled']).default('published'),
      detail: z.enum(['card', 'full']).default('card'),
    })
    .refine((query) => query.status !== 'scheduled' || query.topic === undefined || query.topic === 'all', {
      path: ['topic'],
      message: 'cannot be combined with status=scheduled: held items are listed all together',
    })
    .refine((query) => query.detail === 'card' || query.limit <= options.fullListLimit, {
      path: ['limit'],
      message: `may be at most ${options.fullListLimit} with detail=full (whole items carry their bodies)`,
    });

  /** Held items are the newsroom's business: listing them takes a token. */
  const scheduledNeedsToken: MiddlewareHandler<Env> = async (c, next) => {
    if (c.req.query('status') === 'scheduled') return guard.middleware(c, next);
    await next();
  };

  api.get('/items', scheduledNeedsToken, async (c) => {
    const parsed = listQuery.safeParse({
      topic: c.req.query('topic') || undefined,
      limit: c.req.query('limit') || undefined,
      status: c.req.query('status') || undefined,
      detail: c.req.query('detail') || undefined,
    });
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    const { topic, limit, status, detail } = parsed.data;
    if (status === 'scheduled') {
      const [items, head] = await Promise.all([store.scheduled(limit), store.head()]);
      c.header('Cache-Control', 'private, no-store');
      return c.json({ items, cursor: formatCursor(head.epoch, head.seq) });
    }
    // Cards by default: a list costs what it shows, and shares the pages' view.
    const view = await views.get([topic === undefined || topic === 'all' ? ALL_ITEMS : topic], detail);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(`{"items":${viewJson(view, limit)},"cursor":"${formatCursor(view.epoch, view.headSeq)}"}`);
  });

  return api;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

