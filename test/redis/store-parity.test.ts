// The Redis store decides exactly as the SQLite store does. The same random
// sequences of publish / update / retract, with embargoes (hold, release,
// cancel), run against both; every outcome, every event, every snapshot, the
// held items, the log and every item's history must match (times and epochs aside).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ITEMS, itemKey } from '../../src/domain/event.ts';
import type { ItemContent } from '../../src/domain/item.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Actor, Retention, Store } from '../../src/store/store.ts';
import { startRedis, stopAllRedis, type TestRedis } from '../support/redis.ts';
import { cleanup, tempDir } from '../support/server.ts';

const retention: Retention = { maxEvents: 6, maxAgeMs: 3_600_000, itemMaxAgeMs: 86_400_000 };
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;

/** Times differ by a millisecond here and there, and each log has its own epoch. */
function normal(value: unknown, epoch: string): unknown {
  return JSON.parse(JSON.stringify(value ?? null).replace(ISO, 'T').replaceAll(epoch, 'E'));
}

/** No embargo, one that has lifted, or one an hour or two ahead (held until a release "then"). */
type Embargo = 'none' | 'past' | 'soon' | 'later';
const EMBARGO_MS: Record<Embargo, number | undefined> = { none: undefined, past: -60_000, soon: 3_600_000, later: 7_200_000 };

type Op =
  | { op: 'publish'; id: number; headline: number; topics: string[]; expired: boolean; embargo: Embargo }
  | { op: 'update'; id: number; headline: number; topics: string[]; note: string | undefined; embargo: Embargo; notify: boolean }
  | { op: 'retract'; id: number; reason: string }
  | { op: 'lists'; keys: string[]; limit: number; detail: 'card' | 'full' }
  | { op: 'scheduled'; limit: number; dueBy: Embargo | undefined }
  | { op: 'release'; id: number; at: Embargo | undefined }
  | { op: 'withdrawn'; limit: number }
  | { op: 'trim' };

const topics = fc.uniqueArray(fc.constantFrom('world', 'europe', 'sport', 'markets'), { minLength: 1, maxLength: 3 });
const releaseAt = fc.option(fc.constantFrom<Embargo>('past', 'soon', 'later'), { nil: undefined });
/**
 * Operations on ids 0..maxId: few ids make a sequence revisit the same items
 * often; `held` makes embargoes and releases the common case.
 */
const opsOn = (maxId: number, held = false): fc.Arbitrary<Op> => {
  const embargo = held
    ? fc.constantFrom<Embargo>('none', 'past', 'soon', 'soon', 'later', 'later')
    : fc.constantFrom<Embargo>('none', 'none', 'past', 'soon', 'later');
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constant('publish' as const), id: fc.nat(maxId), headline: fc.nat(2), topics, expired: fc.boolean(), embargo }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('update' as const),
        id: fc.nat(maxId),
        headline: fc.nat(2),
        topics,
        note: fc.option(fc.constantFrom('Corrects the toll', 'Adds "quotes" & <tags>'), { nil: undefined }),
        embargo,
        notify: fc.boolean(),
      }),
    },
    { weight: held ? 5 : 2, arbitrary: fc.record({ op: fc.constant('release' as const), id: fc.nat(maxId), at: releaseAt }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('scheduled' as const), limit: fc.integer({ min: 1, max: 8 }), dueBy: releaseAt }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('retract' as const), id: fc.nat(maxId), reason: fc.constantFrom('wrong', 'legal "hold"') }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('lists' as const),
        // Every item, topics (one that never has items), and items followed by id.
        keys: fc.uniqueArray(fc.constantFrom(ALL_ITEMS, 'world', 'europe', 'sport', 'markets', 'nothing', itemKey('item-0'), itemKey('item-1')), {
          minLength: 1,
          maxLength: 4,
        }),
        limit: fc.integer({ min: 1, max: 8 }),
        detail: fc.constantFrom('card' as const, 'full' as const),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('withdrawn' as const), limit: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
  );
};

function content(id: number, headline: number, topicList: string[], base: number, expired: boolean, embargo: Embargo): ItemContent {
  const item: ItemContent = { id: `item-${id}`, headline: `Headline ${headline} é "quoted" <b>`, topics: topicList, priority: 'urgent' };
  // Some items have a body: cards must leave it out, whole items keep it, alike in both stores.
  if (headline % 2 === 0) item.body = `<p>Body of ${headline} — “quoted”</p>`;
  const offset = EMBARGO_MS[embargo];
  if (offset !== undefined) item.embargoUntil = new Date(base + offset).toISOString();
  if (expired) item.expiresAt = new Date(Date.now() - 60_000).toISOString();
  return item;
}

/** A moment just after that embargo lifts; undefined: the store's own clock. */
function after(base: number, embargo: Embargo | undefined): number | undefined {
  const offset = embargo && EMBARGO_MS[embargo];
  return offset === undefined ? undefined : base + offset + 1_000;
}

/**
 * Who writes: a key named with awkward text and limited to two topics (its
 * corrections and retractions of items in others are refused), a key with or
 * without a request id, or nobody (a write before keys existed).
 */
const ACTORS: (Actor | undefined)[] = [
  { key: 'key_00000000000000aa', name: 'Sports "desk" <b>é', requestId: 'req-1:a.b', topics: ['world', 'europe'] },
  { key: 'token-1', name: 'token-1' },
  undefined,
];

/** `base` is shared by both stores' runs, so embargoes and release times are the same instants. */
async function run(store: Store, ops: Op[], base: number): Promise<unknown[]> {
  const epoch = (await store.head()).epoch;
  const out: unknown[] = [];
  for (const step of ops) {
    let result: unknown;
    switch (step.op) {
      case 'publish': {
        const c = content(step.id, step.headline, step.topics, base, step.expired, step.embargo);
        result = await store.publish(c, `h${step.headline}-${step.topics.join()}-${step.expired}-${step.embargo}`, ACTORS[step.headline % 3]);
        break;
      }
      case 'update': {
        const c = content(step.id, step.headline, step.topics, base, false, step.embargo);
        result = await store.update(c, `h${step.headline}-${step.topics.join()}-false-${step.embargo}`, step.note, step.notify, ACTORS[(step.headline + 1) % 3]);
        break;
      }
      case 'release':
        result = await store.release(`item-${step.id}`, after(base, step.at));
        break;
      case 'scheduled':
        result = await store.scheduled(step.limit, after(base, step.dueBy));
        break;
      case 'retract':
        result = await store.retract(`item-${step.id}`, step.reason, ACTORS[step.id % 3]);
        break;
      case 'lists': {
        const read = await store.lists(step.keys, step.limit, step.detail);
        result = {
          ...read,
          lists: [...read.lists].map(([key, list]) => [key, { ...list, entries: list.entries.map((e) => ({ ...e, json: JSON.parse(e.json) })) }]),
        };
        break;
      }
      case 'withdrawn':
        result = await store.withdrawn(base - 60_000, step.limit);
        break;
      case 'trim':
        result = [await store.trim(), await store.head()];
        break;
    }
    out.push(normal(result, epoch));
  }
  out.push(normal(await store.readAfter(0, 1_000), epoch));
  out.push(normal(await store.head(), epoch));
  out.push(normal(await store.scheduled(100), epoch));
  for (let id = 0; id <= 5; id++) out.push(normal(await store.getItem(`item-${id}`), epoch));
  // Every version with who made it, kept whatever retention took from the log.
  for (let id = 0; id <= 5; id++) out.push(normal(await store.history(`item-${id}`), epoch));
  out.push(normal(await store.history('item-0', 2), epoch));
  return out;
}

describe('Redis store and SQLite store decide alike', () => {
  let redis: TestRedis;
  const open: Store[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await stopAllRedis();
    await cleanup();
  });

  let run_ = 0;
  const sameOnBoth = (sequences: fc.Arbitrary<Op[]>, numRuns: number) =>
    fc.assert(
      fc.asyncProperty(sequences, async (ops) => {
        run_++;
        const sqlite = new SqliteStore({ dataDir: tempDir(), retention, synchronous: 'NORMAL' });
        const store = new RedisStore({ url: redis.url, prefix: `parity${run_}`, retention });
        open.push(sqlite, store);
        await store.client.connect();
        const base = Date.now();
        const expected = await run(sqlite, ops, base);
        const actual = await run(store, ops, base);
        expect(actual).toEqual(expected);
        // And byte for byte, key order included: clients see the same frames from either backend.
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      }),
      { numRuns },
    );

  it('gives the same outcomes, events, snapshots and log for random write sequences (property)', async () => {
    await sameOnBoth(fc.array(opsOn(5), { minLength: 1, maxLength: 30 }), 60);
  });

  it('holds, releases and cancels embargoed items alike (property, few ids)', async () => {
    await sameOnBoth(fc.array(opsOn(2, true), { minLength: 5, maxLength: 30 }), 80);
  });
});
