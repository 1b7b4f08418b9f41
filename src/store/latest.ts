// Latest live items for a set of topics: one snapshot per topic, merged.
import type { Item } from '../domain/item.ts';
import type { Snapshot, Store } from './store.ts';

export async function latestFor(store: Store, topics: Iterable<string> | null, limit: number): Promise<Snapshot> {
  const list = topics ? [...topics] : [];
  if (list.length <= 1) return store.snapshot(list[0], limit);
  const parts = await Promise.all(list.map((topic) => store.snapshot(topic, limit)));
  const seen = new Set<string>();
  const items: Item[] = [];
  const merged = parts.flatMap((part) => part.items).sort((a, b) => (a.publishedAt < b.publishedAt ? 1 : -1));
  for (const item of merged) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    items.push(item);
  }
  const first = parts[0] as Snapshot;
  // The cursor must not pass an event that one of the snapshots missed.
  return { ...first, headSeq: Math.min(...parts.map((p) => p.headSeq)), items: items.slice(0, limit) };
}
