// The log and the item state behind one small interface.
// Every backend must append, change state and assign seq atomically: the
// decision (create, retry, conflict, gone) is taken inside that same step.
import type { NewsEvent } from '../domain/event.ts';
import type { CancelledItem, Detail, Item, ItemContent, RetractedItem, ScheduledItem } from '../domain/item.ts';

export type StoredItem = Item | RetractedItem | ScheduledItem;

export type WriteResult =
  /** A new event is in the log. */
  | { outcome: 'appended'; epoch: string; event: NewsEvent }
  /** A retry of what the log already holds: no new event. */
  | { outcome: 'unchanged'; epoch: string; seq: number; item: StoredItem }
  /** A publish of an existing id with other content, or an embargo in the future on a published item. */
  | { outcome: 'conflict'; item: StoredItem }
  /** Held until its embargo lifts: no event, readers see nothing. */
  | { outcome: 'scheduled'; item: ScheduledItem }
  /** A held item was dropped before release: no event; `seq` is the head. */
  | { outcome: 'cancelled'; epoch: string; seq: number; item: CancelledItem }
  | { outcome: 'not-found' }
  /** The item was retracted; it cannot change any more. */
  | { outcome: 'gone'; item: RetractedItem };

export type Appended = Extract<WriteResult, { outcome: 'appended' }>;

export interface LogHead {
  epoch: string;
  /** Seq of the newest event (0 for an empty log). */
  seq: number;
  /** Highest seq no longer held by the log: a cursor below it cannot resume. */
  floor: number;
}

export type { Detail };

/** One live item of a list, as the store holds its JSON: parsed only by those who need objects. */
export interface ListEntry {
  id: string;
  /** Seq of its first version: lists are newest first by it, and a correction keeps its place. */
  order: number;
  json: string;
  /** When it leaves lists (ms), if it expires. */
  expiresMs: number | undefined;
}

export interface LiveList {
  /** Newest first, at most the limit asked for. */
  entries: ListEntry[];
  /** Seq and time of the newest event that touched it (0 and undefined if none). */
  seq: number;
  at: string | undefined;
}

/** Several lists read in one consistent step, and the log position they reflect. */
export interface Lists {
  epoch: string;
  headSeq: number;
  lists: Map<string, LiveList>;
}

export interface Retention {
  maxEvents: number;
  maxAgeMs: number;
  /** How long item state is kept after its last change. */
  itemMaxAgeMs: number;
}

/**
 * Embargoes: whether an embargo is still in force is decided inside the
 * write, by the store's clock. `publish` of content under embargo holds it
 * (`scheduled`); `update` of a held item replaces it and holds it again or
 * publishes it now; `retract` of a held item cancels it.
 */
export interface Store {
  readonly kind: 'sqlite' | 'redis';
  head(): Promise<LogHead>;
  publish(content: ItemContent, hash: string): Promise<WriteResult>;
  /** `notify`: the editor asks that readers alerted to the item hear of this correction too. */
  update(content: ItemContent, hash: string, changeNote: string | undefined, notify?: boolean): Promise<WriteResult>;
  retract(id: string, reason: string): Promise<WriteResult>;
  /** Held items, earliest release first; with `dueBy`, only those whose embargo lifts by then. */
  scheduled(limit: number, dueBy?: number): Promise<ScheduledItem[]>;
  /**
   * Publishes a held item whose embargo has lifted by `now` (default: the
   * store's clock) as version 1. Null when it is no longer held or not yet
   * due, so of several processes asking at once exactly one gets the event.
   */
  release(id: string, now?: number): Promise<Appended | null>;
  getItem(id: string): Promise<StoredItem | null>;
  /**
   * Live items of each list key (a topic, ALL_ITEMS for every item, or
   * itemKey(id) for one item), newest first, at most `limit` each, all read
   * at one log position. Reads go through indexes: they cost what they return.
   */
  lists(keys: readonly string[], limit: number, detail: Detail): Promise<Lists>;
  /**
   * Items retracted after `sinceMs` (by the time of the kill), the latest
   * first, at most `limit`: feeds keep a withdrawal notice in their place.
   */
  withdrawn(sinceMs: number, limit: number): Promise<RetractedItem[]>;
  /** Events with seq > after, oldest first, at most `limit`. */
  readAfter(after: number, limit: number): Promise<NewsEvent[]>;
  /** Applies retention; returns how many events were dropped. */
  trim(now?: number): Promise<number>;
  /** Throws when the backend cannot serve. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised when the backend cannot be reached: the API answers 503, never 201. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
