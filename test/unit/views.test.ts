// Views on a real SQLite store at real size: reads go through indexes, a rush
// of readers costs one read per event, a read that an event overtook is not
// kept, and the cache stays within its bytes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, type ItemContent, itemInputSchema, toItemContent } from '../../src/domain/item.ts';
import { ALL_ITEMS, itemKey } from '../../src/domain/event.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Appended } from '../../src/store/store.ts';
import { listKeys, ViewCache, viewItems, viewJson } from '../../src/views/views.ts';
import { cleanup, tempDir } from '../support/server.ts';

const seed = JSON.parse(readFileSync(new URL('../fixtures/seed-story.json', import.meta.url), 'utf8'));
const TOPICS = ['world', 'politics', 'business', 'tech', 'science', 'sport', 'culture', 'health'];
const retention = { maxEvents: 1_000_000, maxAgeMs: 3_600_000_000, itemMaxAgeMs: 86_400_000_000 };

function content(i: number, topics = [TOPICS[i % TOPICS.length] as string, TOPICS[(i * 3 + 1) % TOPICS.length] as string]): ItemContent {
  return toItemContent(itemInputSchema.parse({ ...seed.publish, id: `story-${i}`, topics }));
}

let store: SqliteStore;
let epoch: string;
beforeAll(async () => {
  store = new SqliteStore({ dataDir: tempDir(), retention, synchronous: 'NORMAL' });
  // A real archive: 3,000 stories with the seed story's body, some corrected, some killed.
  for (let i = 0; i < 3_000; i++) {
    const c = content(i);
    await store.publish(c, contentHash(c));
  }
  for (let i = 0; i < 3_000; i += 97) await store.retract(`story-${i}`, 'killed');
  epoch = (await store.head()).epoch;
}, 60_000);
afterAll(async () => {
  await store.close();
  await cleanup();
});

describe('store lists', () => {
  it('read every list through an index: no table scan, no sort', () => {
    const plans = store.explainLists();
    expect(Object.keys(plans).length).toBeGreaterThanOrEqual(9);
    for (const [name, plan] of Object.entries(plans)) {
      // A SCAN must walk an index (in its order, stopping at the limit); a plain SCAN reads the table.
      for (const step of plan.split('; ')) {
        expect(step, `${name}: ${plan}`).not.toMatch(/^SCAN \w+$|TEMP B-TREE/);
        expect(step, `${name}: ${plan}`).toMatch(/USING (COVERING )?INDEX|USING (INTEGER )?PRIMARY KEY/);
      }
    }
  });

  it('leave bodies out of cards, keep them in whole items, and never list a killed story', async () => {
    const lists = await store.lists([ALL_ITEMS, 'politics', itemKey('story-5'), itemKey('story-0')], 20, 'card');
    const all = lists.lists.get(ALL_ITEMS)?.entries ?? [];
    expect(all).toHaveLength(20);
    expect(all.map((e) => e.order)).toEqual([...all.map((e) => e.order)].sort((a, b) => b - a));
    for (const entry of all) expect(JSON.parse(entry.json).body).toBeUndefined();
    expect(lists.lists.get(itemKey('story-5'))?.entries).toHaveLength(1);
    // story-0 was killed.
    expect(lists.lists.get(itemKey('story-0'))?.entries).toEqual([]);
    const full = await store.lists([ALL_ITEMS], 3, 'full');
    for (const entry of full.lists.get(ALL_ITEMS)?.entries ?? []) expect(JSON.parse(entry.json).body).toContain('<p>');
    const killed = new Set(Array.from({ length: 31 }, (_, k) => `story-${k * 97}`));
    const deep = await store.lists([ALL_ITEMS], 3_000, 'card');
    expect(deep.lists.get(ALL_ITEMS)?.entries.some((e) => killed.has(e.id))).toBe(false);
  });
});

describe('ViewCache', () => {
  function cache(maxBytes = 64 * 1024 * 1024) {
    let reads = 0;
    const views = new ViewCache({
      store,
      limits: { card: 50, full: 20 },
      maxBytes,
      onRead: () => reads++,
    });
    return { views, reads: () => reads };
  }

  it('serves a rush of readers of one view from one read', async () => {
    const { views, reads } = cache();
    const head = await store.head();
    views.startAt(epoch, head.seq);
    const rush = await Promise.all(Array.from({ length: 200 }, () => views.get(listKeys(['politics', 'business']), 'card')));
    expect(reads()).toBe(1);
    expect(new Set(rush).size).toBe(1);
    const view = rush[0]!;
    expect(view.headSeq).toBe(head.seq);
    expect(viewItems(view)).toHaveLength(50);
    expect(viewItems(view).every((item) => item.topics.includes('politics') || item.topics.includes('business'))).toBe(true);
    // Later readers of the same view: no read at all, one JSON join.
    await views.get(listKeys(['business', 'politics']), 'card');
    expect(reads()).toBe(1);
    expect(viewJson(view, 50)).toBe(viewJson(view, 50));
  });

  it('merges a view of many topics from cached parts, with one exact cursor', async () => {
    const { views, reads } = cache();
    const head = await store.head();
    views.startAt(epoch, head.seq);
    await Promise.all(TOPICS.map((topic) => views.get([topic], 'card')));
    const before = reads();
    const merged = await views.get(listKeys(TOPICS), 'card');
    expect(reads()).toBe(before);
    const direct = await store.lists([ALL_ITEMS], 50, 'card');
    expect(merged.entries.map((e) => e.id)).toEqual(direct.lists.get(ALL_ITEMS)?.entries.map((e) => e.id));
    expect(merged.headSeq).toBe(head.seq);
  });

  it('reads again after an event that touches the view, and only then', async () => {
    const { views, reads } = cache();
    views.startAt(epoch, (await store.head()).seq);
    await views.get(['sport'], 'card');
    const c = content(10_001, ['tech']);
    const result = (await store.publish(c, contentHash(c))) as Appended;
    views.invalidate(result.event, result.epoch);
    await views.get(['sport'], 'card');
    expect(reads()).toBe(1);
    const tech = await views.get(['tech'], 'card');
    expect(tech.entries[0]?.id).toBe('story-10001');
    expect(tech.headSeq).toBe(result.event.seq);
    expect(reads()).toBe(2);
  });

  it('does not keep a read that an event overtook', async () => {
    const { views, reads } = cache();
    views.startAt(epoch, (await store.head()).seq);
    const c = content(10_002, ['culture']);
    // The read begins, then an event is appended and delivered before it completes.
    const reading = views.get(['culture'], 'card');
    const result = (await store.publish(c, contentHash(c))) as Appended;
    views.invalidate(result.event, result.epoch);
    await reading;
    const again = await views.get(['culture'], 'card');
    expect(reads()).toBe(2);
    expect(again.entries[0]?.id).toBe('story-10002');
  });

  it('stays within its bytes however many distinct views are asked for', async () => {
    const { views } = cache(2 * 1024 * 1024);
    views.startAt(epoch, (await store.head()).seq);
    for (let i = 0; i < 200; i++) await views.get(listKeys([`nothing-${i}`, TOPICS[i % TOPICS.length] as string]), 'card');
    expect(views.size.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(views.size.bytes).toBeGreaterThan(0);
  });
});
