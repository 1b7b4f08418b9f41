// Newsroom API: publish, correct, retract, read. A write is acknowledged only
// once the log holds it; only then does it go to the bus. An item under a
// future embargo is held by the store (202) and released by the scheduler.
import { type Context, Hono, type MiddlewareHandler } from 'hono';
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
import type { IdempotencyEnv } from '../idempotency/middleware.ts';
import {
  type Actor,
  HISTORY_LIMIT,
  type HistoryEntry,
  type Store,
  StoreUnavailableError,
  WriteNotReplicatedError,
  WriteOutcomeUnknownError,
  type WriteResult,
} from '../store/store.ts';
import { type ViewCache, viewJson } from '../views/views.ts';
import {
  type AuthOptions,
  forbiddenTopics,
  forbiddenTopicsAnswer,
  rateLimit,
  requireAction,
  type TokenGuard,
  tokenGuard,
} from './auth.ts';
import { type FieldError, fieldErrors, invalid, limitBody, problem } from './errors.ts';
import { KILL_LIST_HOURS, KILL_LIST_MAX_HOURS, killList, readerCounts } from './desk.ts';
import { readJson } from './json.ts';
import type { ReaderCounts } from '../presence/presence.ts';
import { requestIdOf } from './request-id.ts';

export interface ItemsApiOptions {
  store: Store;
  bus: Bus;
  views: ViewCache;
  metrics: Metrics;
  auth: AuthOptions;
  /** The guard every route that reads a token shares (one failure budget per address); made from `auth` when absent. */
  guard?: TokenGuard;
  maxBodyBytes: number;
  publishPerMinute: number;
  /** Most cards one list request may ask for. */
  listLimit: number;
  /** Most whole items (with bodies) one list request may ask for. */
  fullListLimit: number;
  /** Readers connected per topic, over every process. */
  readers?: () => Promise<ReaderCounts>;
  /** Honours Idempotency-Key on POST writes (runs after auth and the body limit). */
  idempotency?: MiddlewareHandler<IdempotencyEnv>;
}

type Action = 'publish' | 'update' | 'retract';
type Env = IdempotencyEnv;
export type ItemsEnv = Env;

/**
 * What other write routes (ninjs, Superdesk) share with these: the one token
 * guard and its failure budget per address, the write middleware (auth,
 * per-token rate, body limit) and the commit that logs, fans out and answers.
 */
export interface NewsroomWrites {
  guard: TokenGuard;
  /** The chain of a write: auth, the key's action, rate, body limit, rejection counts. */
  write(action: 'publish' | 'correct' | 'kill' | 'ingest'): readonly MiddlewareHandler<Env>[];
  /** Who makes this write, for the item's history (the key, its topics, the request). */
  actorOf(c: Context<Env>): Actor;
  /** `id`: the item a publish writes, named in a 503 whose outcome is unknown so the retry can reuse it. */
  commit(c: Context<Env>, action: Action, run: () => Promise<WriteResult>, created?: number, id?: string): Promise<Response>;
}

const passOn: MiddlewareHandler = (_c, next) => next();

/** How a write the store could not confirm is answered, the narrowest error first: nothing saved, or maybe saved. */
const STORE_REFUSALS = [
  {
    error: WriteNotReplicatedError,
    outcome: 'not-replicated',
    code: 'write-not-replicated',
    retryAfter: '1',
    maySurface: true,
    message: 'the write reached the primary but not enough replicas confirmed it: it may still surface; a retry with the same id is safe',
  },
  {
    error: WriteOutcomeUnknownError,
    outcome: 'unknown',
    code: 'write-outcome-unknown',
    retryAfter: '1',
    maySurface: true,
    message:
      'the write was sent to the store but its answer was lost: it may have been saved (readers may have it) or not; a retry with the same id, or the same Idempotency-Key, is safe and tells which',
  },
  {
    error: StoreUnavailableError,
    outcome: 'unavailable',
    code: 'store-unavailable',
    retryAfter: '2',
    maySurface: false,
    message: 'the log cannot be written right now: nothing was saved, retry',
  },
] as const;
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

/** The query of `GET /items`; limits from the configuration (exported for /openapi.json). */
export function listQuerySchema(limits: Pick<ItemsApiOptions, 'listLimit' | 'fullListLimit'>) {
  return z
    .object({
      topic: z.union([z.literal('all'), topicSchema]).optional(),
      limit: z.coerce.number().int().min(1).max(limits.listLimit).default(20),
      status: z.enum(['published', 'scheduled', 'retracted']).default('published'),
      hours: z.coerce.number().positive().max(KILL_LIST_MAX_HOURS).default(KILL_LIST_HOURS),
      detail: z.enum(['card', 'full']).default('card'),
    })
    .refine((query) => query.status === 'published' || query.topic === undefined || query.topic === 'all', {
      path: ['topic'],
      message: 'cannot be combined with status=scheduled or status=retracted: those items are listed all together',
    })
    .refine((query) => query.detail === 'card' || query.limit <= limits.fullListLimit, {
      path: ['limit'],
      message: `may be at most ${limits.fullListLimit} with detail=full (whole items carry their bodies)`,
    });
}

export function itemsApi(options: ItemsApiOptions): Hono<Env> & { writes: NewsroomWrites } {
  const { store, bus, metrics, views } = options;
  const api = new Hono<Env>();
  // One guard for every route that reads a token: one failure budget per address.
  const guard = options.guard ?? tokenGuard(options.auth);
  /** Writes the store never saw are counted by why they were refused. */
  const countRejections: MiddlewareHandler<Env> = async (c, next) => {
    await next();
    if (c.res.status < 400 || c.get('stored')) return;
    // A 403 after a valid key is a key that may not do this, not a bad token.
    const reason = c.res.status === 403 && c.get('principal') ? 'forbidden' : REJECTIONS[c.res.status];
    metrics.rejectedWrites.inc({ action: ACTIONS[c.req.method] ?? 'other', reason: reason ?? String(c.res.status) });
  };
  const limitWrites = rateLimit(options.publishPerMinute);
  /** Publish needs the key's "publish" action, a correction "correct", a retraction "kill"; documents taken in (ninjs) "ingest". */
  const write = (action: 'publish' | 'correct' | 'kill' | 'ingest') => [
    countRejections,
    guard.middleware,
    requireAction(action),
    limitWrites,
    limitBody(options.maxBodyBytes),
    options.idempotency ?? passOn,
  ] as const;

  /**
   * Who makes this write, for the item's history; a key limited to topics
   * passes them on, so the store refuses, in the write's own atomic step,
   * to change an item that is in others now.
   */
  const actorOf = (c: Context<Env>): Actor => {
    const principal = c.get('principal');
    return { key: principal.id, name: principal.name, requestId: requestIdOf(c), ...(principal.topics ? { topics: principal.topics } : {}) };
  };

  /** Runs a store write, hands a new event to the bus, maps the outcome to HTTP. */
  async function commit(c: Context<Env>, action: Action, run: () => Promise<WriteResult>, created = 200, id?: string): Promise<Response> {
    c.set('stored', true);
    const timer = metrics.publishLatency.startTimer({ action });
    let result: WriteResult;
    try {
      result = await run();
    } catch (error) {
      const refusal = STORE_REFUSALS.find((r) => error instanceof r.error);
      if (!refusal) throw error;
      metrics.publishes.inc({ action, outcome: refusal.outcome });
      c.header('Retry-After', refusal.retryAfter);
      // A write that may have been saved names its item, so a publish's retry is the same item.
      return problem(c, 503, refusal.code, refusal.message, refusal.maySurface && id ? { id } : {});
    }
    metrics.publishes.inc({ action, outcome: result.outcome });
    // Who changed what readers see: the token's name, never the token.
    if (result.outcome === 'appended' || result.outcome === 'scheduled' || result.outcome === 'cancelled') {
      const id = result.outcome === 'appended' ? result.event.item.id : result.item.id;
      const seq = result.outcome === 'appended' ? result.event.seq : undefined;
      const principal = c.get('principal');
      options.auth.logger.info({ key: principal?.name, requestId: requestIdOf(c), action, outcome: result.outcome, id, seq, token: c.get('tokenId') }, 'write');
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
      case 'forbidden-topic':
        return forbiddenTopicsAnswer(c, result.topics);
    }
  }

  api.post('/items', ...write('publish'), async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = itemInputSchema.safeParse(body);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    // Under an Idempotency-Key, an item without an id takes one made from the key: a retry is the same item.
    const content = toItemContent(parsed.data, c.get('idempotentId'));
    const forbidden = forbiddenTopics(c, content.topics);
    if (forbidden) return forbidden;
    return commit(c, 'publish', () => store.publish(content, contentHash(content), actorOf(c)), 201, content.id);
  });

  api.put('/items/:id', ...write('correct'), async (c) => {
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
    // A desk may move an item neither into a topic it does not own (here) nor out of one (the store).
    const forbidden = forbiddenTopics(c, content.topics);
    if (forbidden) return forbidden;
    return commit(c, 'update', () =>
      store.update(content, contentHash(content), note.data.changeNote || undefined, note.data.notify === true, actorOf(c)),
    );
  });

  api.delete('/items/:id', ...write('kill'), async (c) => {
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
    return commit(c, 'retract', () => store.retract(id, parsed.data.reason, actorOf(c)));
  });

  /**
   * An item's versions. Who made each (key id and name) and the request id
   * are the newsroom's: only a request with a valid key gets them. Readers
   * get what story pages show (version, event, time, change note); a
   * withdrawn item's history is the newsroom's alone (410 for readers, like
   * the item), and a held item has none for readers (404).
   */
  api.get('/items/:id/history', async (c) => {
    const id = c.req.param('id');
    const publisher = guard.check(c) !== null;
    const item = ID_PATTERN.test(id) ? await store.getItem(id) : null;
    if (!item || (item.status === 'scheduled' && !publisher)) return problem(c, 404, 'not-found', 'no item with this id');
    if (item.status === 'retracted' && !publisher) return problem(c, 410, 'gone', 'this item was retracted', { item });
    const versions = await store.history(id, HISTORY_LIMIT);
    c.header('Cache-Control', publisher ? 'private, no-store' : 'no-cache');
    return c.json({ id, versions: publisher ? versions : versions.map(publicVersion) });
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

  const listQuery = listQuerySchema(options);

  /** Held and killed items are the newsroom's business: listing them takes a token. */
  const scheduledNeedsToken: MiddlewareHandler<Env> = async (c, next) => {
    const status = c.req.query('status');
    if (status === 'scheduled' || status === 'retracted') return guard.middleware(c, next);
    await next();
  };

  api.get('/items', scheduledNeedsToken, async (c) => {
    const parsed = listQuery.safeParse({
      topic: c.req.query('topic') || undefined,
      limit: c.req.query('limit') || undefined,
      status: c.req.query('status') || undefined,
      detail: c.req.query('detail') || undefined,
      hours: c.req.query('hours') || undefined,
    });
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    const { topic, limit, status, detail } = parsed.data;
    if (status === 'retracted') return killList(c, store, parsed.data.hours, limit);
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

  const readers = options.readers;
  if (readers) api.get('/readers', guard.middleware, (c) => readerCounts(c, readers));

  return Object.assign(api, { writes: { guard, write, commit, actorOf } });
}

/** What readers may see of a version: no key, no request. */
function publicVersion({ by: _by, requestId: _requestId, ...shown }: HistoryEntry): HistoryEntry {
  return shown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

