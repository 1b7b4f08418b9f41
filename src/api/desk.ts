// What a breaking desk reads beside its list: the kill list (items withdrawn
// lately, with reason and time) and the readers connected per topic. Both
// take a publisher token: they describe the newsroom's work and audience.
import type { Context } from 'hono';
import type { RetractedItem } from '../domain/item.ts';
import type { ReaderCounts } from '../presence/presence.ts';
import type { Store } from '../store/store.ts';

/** How far back the kill list looks by default, and at most (item state outlives neither by much). */
export const KILL_LIST_HOURS = 48;
export const KILL_LIST_MAX_HOURS = 168;

/** A kill list entry: the withdrawn item, and who withdrew it (from its history) when that was recorded. */
export type KillListEntry = RetractedItem & { killedBy?: { key: string; name: string }; requestId?: string };

/**
 * Withdrawn items, the latest kill first: each with its reason, `updatedAt`
 * (the time of the kill) and the key that made the kill, read from the
 * last entry of its history (one short read per item, all at once).
 */
export async function killList(c: Context, store: Store, hours: number, limit: number): Promise<Response> {
  const since = Date.now() - hours * 3_600_000;
  const withdrawn: RetractedItem[] = await store.withdrawn(since, limit);
  const lastEntries = await Promise.all(withdrawn.map((item) => store.history(item.id, 1)));
  const items = withdrawn.map((item, i): KillListEntry => {
    const kill = lastEntries[i]?.[0];
    if (kill?.event !== 'retracted' || !kill.by) return item;
    return { ...item, killedBy: kill.by, ...(kill.requestId ? { requestId: kill.requestId } : {}) };
  });
  c.header('Cache-Control', 'private, no-store');
  return c.json({ items, since: new Date(since).toISOString() });
}

export async function readerCounts(c: Context, read: () => Promise<ReaderCounts>): Promise<Response> {
  const counts = await read();
  c.header('Cache-Control', 'private, no-store');
  return c.json(counts);
}
