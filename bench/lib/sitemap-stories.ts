// The stories the sitemap benches list: cards of ordinary weight (a headline
// and a standfirst, no body: sitemaps read cards) over twenty topics, and an
// embedded store seeded with them directly, minutes quicker than through the
// API at 20,000 stories on a busy machine, with the same rows.
import { contentHash, itemInputSchema, toItemContent } from '../../src/domain/item.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

export function sitemapStory(n: number) {
  return {
    id: `bench-${n}`,
    headline: `Story number ${n}: a headline of ordinary length for a wire story`,
    summary: 'A standfirst of one or two sentences, as most stories carry, so that cards weigh what they do in production.',
    topics: [`topic-${n % 20}`],
    byline: 'Staff reporter',
  };
}

const MONTH_MS = 30 * 86_400_000;

/** An embedded store in `dataDir` that keeps every story for the run (fsync relaxed: the bench's data is disposable). */
export function openBenchStore(dataDir: string): SqliteStore {
  return new SqliteStore({ dataDir, synchronous: 'NORMAL', retention: { maxEvents: 10_000_000, maxAgeMs: MONTH_MS, itemMaxAgeMs: MONTH_MS } });
}

/** Publishes stories 0 … count-1 through the store; returns how long it took (s). */
export async function seedStore(store: SqliteStore, count: number): Promise<number> {
  const started = Date.now();
  for (let n = 0; n < count; n++) {
    const content = toItemContent(itemInputSchema.parse(sitemapStory(n)));
    await store.publish(content, contentHash(content));
  }
  return (Date.now() - started) / 1000;
}
