// The Redis store decides exactly as the SQLite store does. The same random
// sequences of publish / update / retract run against both; every outcome,
// every event, every snapshot and the log must match (times and epochs aside).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemContent } from '../../src/domain/item.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Retention, Store } from '../../src/store/store.ts';
import { startRedis, stopAllRedis, type TestRedis } from '../support/redis.ts';
import { cleanup, tempDir } from '../support/server.ts';

const retention: Retention = { maxEvents: 6, maxAgeMs: 3_600_000, itemMaxAgeMs: 86_400_000 };
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;

/** Times differ by a millisecond here and there, and each log has its own epoch. */
function normal(value: unknown, epoch: string): unknown {
  return JSON.parse(JSON.stringify(value ?? null).replace(ISO, 'T').replaceAll(epoch, 'E'));
}

type Op =
  | { op: 'publish'; id: number; headline: number; topics: string[]; expired: boolean }
  | { op: 'update'; id: number; headline: number; topics: string[]; note: string | undefined }
  | { op: 'retract'; id: number; reason: string }
  | { op: 'snapshot'; topic: string | undefined; limit: number }
  | { op: 'trim' };

const topics = fc.uniqueArray(fc.constantFrom('world', 'europe', 'sport', 'markets'), { minLength: 1, maxLength: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('publish' as const), id: fc.nat(5), headline: fc.nat(2), topics, expired: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      id: fc.nat(5),
      headline: fc.nat(2),
      topics,
      note: fc.option(fc.constantFrom('Corrects the toll', 'Adds "quotes" & <tags>'), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retract' as const), id: fc.nat(5), reason: fc.constantFrom('wrong', 'legal "hold"') }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('snapshot' as const),
      topic: fc.option(fc.constantFrom('world', 'europe', 'sport', 'markets'), { nil: undefined }),
      limit: fc.integer({ min: 1, max: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
);

function content(id: number, headline: number, topicList: string[], expired = false): ItemContent {
  const item: ItemContent = { id: `item-${id}`, headline: `Headline ${headline} é "quoted" <b>`, topics: topicList, priority: 'urgent' };
  if (expired) item.expiresAt = new Date(Date.now() - 60_000).toISOString();
  return item;
}

async function run(store: Store, ops: Op[]): Promise<unknown[]> {
  const epoch = (await store.head()).epoch;
  const out: unknown[] = [];
  for (const step of ops) {
    let result: unknown;
    switch (step.op) {
      case 'publish': {
        const c = content(step.id, step.headline, step.topics, step.expired);
        result = await store.publish(c, `h${step.headline}-${step.topics.join()}-${step.expired}`);
        break;
      }
      case 'update': {
        const c = content(step.id, step.headline, step.topics);
        result = await store.update(c, `h${step.headline}-${step.topics.join()}-false`, step.note);
        break;
      }
      case 'retract':
        result = await store.retract(`item-${step.id}`, step.reason);
        break;
      case 'snapshot':
        result = await store.snapshot(step.topic, step.limit);
        break;
      case 'trim':
        result = [await store.trim(), await store.head()];
        break;
    }
    out.push(normal(result, epoch));
  }
  out.push(normal(await store.readAfter(0, 1_000), epoch));
  out.push(normal(await store.head(), epoch));
  for (let id = 0; id <= 5; id++) out.push(normal(await store.getItem(`item-${id}`), epoch));
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

  it('gives the same outcomes, events, snapshots and log for random write sequences (property)', async () => {
    let run_ = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        run_++;
        const sqlite = new SqliteStore({ dataDir: tempDir(), retention, synchronous: 'NORMAL' });
        const store = new RedisStore({ url: redis.url, prefix: `parity${run_}`, retention });
        open.push(sqlite, store);
        await store.client.connect();
        const expected = await run(sqlite, ops);
        const actual = await run(store, ops);
        expect(actual).toEqual(expected);
        // And byte for byte, key order included: clients see the same frames from either backend.
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      }),
      { numRuns: 60 },
    );
  });
});
