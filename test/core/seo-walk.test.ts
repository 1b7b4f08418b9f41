// The sitemap's walk over every live story, a page at a time through the
// store (SQLite, or Redis with TEST_BACKEND=redis): pages join without a gap
// or a repeat, newest first, a correction keeps its place, a kill is skipped.
// Small pages make a handful of stories cross several of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app.ts';
import { contentHash, itemInputSchema, toItemContent } from '../../src/domain/item.ts';
import { walkLive } from '../../src/seo/sitemaps.ts';
import { startInProcess } from '../support/in-process.ts';
import { cleanup } from '../support/server.ts';

let runtime: Runtime;

beforeAll(async () => {
  ({ runtime } = await startInProcess({}));
});

afterAll(async () => {
  await runtime?.stop();
  await cleanup();
});

const content = (id: string, headline = `Story ${id}`) => toItemContent(itemInputSchema.parse({ id, headline, topics: ['walk'] }));

describe('the walk over live stories', () => {
  it('reads every live story once, newest first, across pages', async () => {
    const { store } = runtime;
    expect(store.kind).toBe(process.env.TEST_BACKEND === 'redis' ? 'redis' : 'sqlite');
    for (let n = 1; n <= 9; n++) {
      const made = content(`walk-${n}`);
      expect((await store.publish(made, contentHash(made))).outcome).toBe('appended');
    }
    const corrected = content('walk-3', 'Story walk-3, corrected');
    expect((await store.update(corrected, contentHash(corrected), 'spelling')).outcome).toBe('appended');
    expect((await store.retract('walk-6', 'Legal')).outcome).toBe('appended');

    const expected = [9, 8, 7, 5, 4, 3, 2, 1].map((n) => `walk-${n}`);
    for (const pageSize of [1, 2, 3, 8, 100]) {
      const { stories } = await walkLive(store, 100, pageSize);
      expect(stories.map((s) => s.id)).toEqual(expected);
    }
    const { stories: firstFive } = await walkLive(store, 5, 2);
    expect(firstFive.map((s) => s.id)).toEqual(expected.slice(0, 5));
    const { stories } = await walkLive(store, 100, 2);
    const third = stories.find((s) => s.id === 'walk-3');
    expect(third?.headline).toBe('Story walk-3, corrected');
    expect(Date.parse(third?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(third?.publishedAt ?? ''));
  });
});
