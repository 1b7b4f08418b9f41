// The Redis outbox decides exactly as the SQLite one: the same random
// sequences of subscribe, plan (from any cursor), claim, settle, expire and
// notes give the same answers, byte for byte.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Channel, Outbox } from '../../src/outbound/outbox.ts';
import { RedisOutbox } from '../../src/outbound/outbox-redis.ts';
import { SqliteOutbox } from '../../src/outbound/outbox-sqlite.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { startRedis, stopAllRedis, type TestRedis } from '../support/redis.ts';
import { cleanup, tempDir } from '../support/server.ts';

const retention = { maxEvents: 100, maxAgeMs: 3_600_000, itemMaxAgeMs: 86_400_000 };

type Op =
  | { op: 'subscribe'; id: number; expires: number | null; max: number }
  | { op: 'unsubscribe'; id: number }
  | { op: 'plan'; from: number; to: number; subs: number[]; notes: number }
  | { op: 'claim'; at: number; limit: number }
  | { op: 'settle'; index: number; outcome: 'sent' | 'retry' | 'dropped' | 'gone'; at: number }
  | { op: 'expire'; at: number }
  | { op: 'note'; key: number; at: number }
  | { op: 'restart'; seq: number };

const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('subscribe' as const), id: fc.nat(4), expires: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }), max: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unsubscribe' as const), id: fc.nat(4) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('plan' as const), from: fc.nat(4), to: fc.nat(6), subs: fc.array(fc.nat(4), { maxLength: 4 }), notes: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('claim' as const), at: fc.integer({ min: 0, max: 100 }), limit: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('settle' as const), index: fc.nat(5), outcome: fc.constantFrom('sent' as const, 'retry' as const, 'dropped' as const, 'gone' as const), at: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), at: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('note' as const), key: fc.nat(2), at: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const), seq: fc.nat(6) }) },
);

async function run(outbox: Outbox, steps: Op[]): Promise<unknown[]> {
  const channel: Channel = 'push';
  const out: unknown[] = [await outbox.setting('vapid', () => 'first'), await outbox.setting('vapid', () => 'second'), await outbox.cursor(channel, 0)];
  let claimed: Awaited<ReturnType<Outbox['claim']>> = [];
  for (const step of steps) {
    switch (step.op) {
      case 'subscribe': {
        const subscription = { id: `s${step.id}`, target: `https://push.example/${step.id}`, data: { topics: ['world'], n: step.id } };
        out.push(await outbox.subscribe(channel, step.expires === null ? subscription : { ...subscription, expiresMs: step.expires }, step.max));
        break;
      }
      case 'unsubscribe':
        out.push(await outbox.unsubscribe(channel, `s${step.id}`));
        break;
      case 'plan': {
        const deliveries = step.subs.map((sub, i) => ({ seq: step.from + 1 + (i % Math.max(1, step.to - step.from)), subscriptionId: `s${sub}`, payload: `{"n":${i}}`, ...(i % 2 ? { coalesce: 'world' } : {}) }));
        const notes = Array.from({ length: step.notes }, (_, i) => ({ key: `item-${i}`, value: `["s${i}"]`, ttlMs: 30 + i * 10 }));
        out.push(await outbox.plan(channel, step.from, step.to, deliveries, notes, 10));
        break;
      }
      case 'claim':
        claimed = await outbox.claim(channel, step.at, 25, step.limit);
        out.push(claimed);
        break;
      case 'settle': {
        const delivery = claimed[step.index % Math.max(1, claimed.length)];
        if (delivery) {
          await outbox.settle(channel, [{ delivery, settlement: step.outcome === 'retry' ? { outcome: 'retry', atMs: step.at } : { outcome: step.outcome } }]);
        }
        out.push(await outbox.backlog(channel));
        break;
      }
      case 'expire':
        out.push(await outbox.expire(channel, step.at));
        break;
      case 'note':
        out.push(await outbox.note(channel, `item-${step.key}`, step.at));
        break;
      case 'restart':
        await outbox.restart(channel, step.seq);
        out.push(await outbox.cursor(channel, 99));
        break;
    }
  }
  const { list } = await outbox.subscriptions(channel);
  out.push(list, await outbox.backlog(channel), await outbox.cursor(channel, 99));
  return out;
}

describe('Redis outbox and SQLite outbox decide alike', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const stores: SqliteStore[] = [];
  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    for (const store of stores) await store.close();
    await stopAllRedis();
    await cleanup();
  });

  let runs = 0;
  it('gives the same answers for random sequences (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ops, { minLength: 1, maxLength: 40 }), async (steps) => {
        runs++;
        const store = new SqliteStore({ dataDir: tempDir(), retention, synchronous: 'NORMAL' });
        stores.push(store);
        const client = new Redis(redis.url);
        clients.push(client);
        const expected = await run(new SqliteOutbox(store.file), steps);
        const actual = await run(new RedisOutbox(client, `ob${runs}`), steps);
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      }),
      { numRuns: 100 },
    );
  });
});
