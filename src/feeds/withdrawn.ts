// Withdrawal notices. For a while after a retraction its feeds keep a notice
// in the item's place, under the same id (the wires' practice), so a reader
// that holds the story learns it was withdrawn instead of keeping it as if
// it stood. Kills are rare: the recent ones are read once and shared by
// every feed until the next retraction.
import type { Item, RetractedItem } from '../domain/item.ts';
import type { FeedEntry } from './entries.ts';

export interface WithdrawalOptions {
  /** Retracted items killed after `sinceMs`, latest kill first (the store's `withdrawn`). */
  read(sinceMs: number, limit: number): Promise<RetractedItem[]>;
  /** How long a notice stays (FEED_WITHDRAWN_HOURS); 0: a retracted item just leaves. */
  windowMs: number;
  /** Entries per feed (FEED_ITEMS): a notice takes its item's place, it does not add one. */
  feedItems: number;
}

/** Kills held at once: far more than any feed shows, few enough to keep. */
const READ_LIMIT = 1_000;

export interface Placed {
  /** Newest first. */
  entries: FeedEntry[];
  /** When the first notice shown leaves: the render is stale then. */
  staleAtMs: number;
  /** When a notice last left this feed, if one did lately: the feed changed then. */
  leftAtMs: number | undefined;
}

export class Withdrawals {
  private recent: Promise<RetractedItem[]> | undefined;

  constructor(private readonly options: WithdrawalOptions) {}

  /** A retraction (or a new log) was delivered: the next render reads the kills again. */
  invalidate(): void {
    this.recent = undefined;
  }

  /** The feed's live items with the notices of its topic in their places. */
  async place(topic: string, items: Item[], now = Date.now()): Promise<Placed> {
    const placed: Placed = { entries: items, staleAtMs: Number.POSITIVE_INFINITY, leftAtMs: undefined };
    const { windowMs, feedItems } = this.options;
    if (windowMs <= 0) return placed;
    const live = new Set(items.map((item) => item.id));
    const notices: RetractedItem[] = [];
    for (const kill of await this.kills(now)) {
      // A list read ahead of this process's fan-out may still hold the item live: it is not shown twice.
      if ((topic !== 'all' && !kill.topics.includes(topic)) || live.has(kill.id)) continue;
      const leavesAtMs = Date.parse(kill.updatedAt) + windowMs;
      if (leavesAtMs > now) {
        notices.push(kill);
        placed.staleAtMs = Math.min(placed.staleAtMs, leavesAtMs);
      } else {
        placed.leftAtMs = Math.max(placed.leftAtMs ?? 0, leavesAtMs);
      }
    }
    if (notices.length) placed.entries = byPublication(items, notices).slice(0, feedItems);
    return placed;
  }

  private kills(now: number): Promise<RetractedItem[]> {
    if (!this.recent) {
      // Two windows back: notices that left during the last window still date the feed's last change.
      const read = this.options.read(now - 2 * this.options.windowMs, READ_LIMIT);
      this.recent = read;
      read.catch(() => {
        if (this.recent === read) this.recent = undefined;
      });
    }
    return this.recent;
  }
}

/** Each notice where its item stood: among the live items (newest first), by publication time. */
function byPublication(items: Item[], notices: RetractedItem[]): FeedEntry[] {
  const waiting = [...notices].sort((a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt));
  const entries: FeedEntry[] = [];
  let next = 0;
  for (const item of items) {
    const publishedMs = Date.parse(item.publishedAt);
    while (next < waiting.length && Date.parse((waiting[next] as RetractedItem).publishedAt) > publishedMs) {
      entries.push(waiting[next++] as RetractedItem);
    }
    entries.push(item);
  }
  return entries.concat(waiting.slice(next));
}
