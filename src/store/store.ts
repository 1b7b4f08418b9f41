// The log and the item state behind one small interface.
// Every backend must append, change state and assign seq atomically: the
// decision (create, retry, conflict, gone) is taken inside that same step.
import type { EventType, NewsEvent } from '../domain/event.ts';
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
  | { outcome: 'gone'; item: RetractedItem }
  /** The actor is limited to topics and the item is in others (listed): nothing was written. */
  | { outcome: 'forbidden-topic'; topics: string[] };

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

/** Who made a write, for the item's history: the key's id and name, and the request. */
export interface Actor {
  key: string;
  name: string;
  requestId?: string;
  /**
   * The only topics the actor may touch: a correction or a retraction of an
   * item now in others is refused in the write's own atomic step.
   */
  topics?: readonly string[];
}

/** Topics of the item outside the actor's (none when the actor is not limited). */
export function topicsBeyond(actor: Actor | undefined, topics: readonly string[]): string[] {
  const allowed = actor?.topics;
  return allowed ? topics.filter((topic) => !allowed.includes(topic)) : [];
}

/** One version of an item, as its history keeps it (beside item state, not in the log). */
export interface HistoryEntry {
  version: number;
  event: EventType;
  at: string;
  changeNote?: string;
  reason?: string;
  by?: { key: string; name: string };
  requestId?: string;
}

/** Most versions one history read returns (the latest). */
export const HISTORY_LIMIT = 1_000;

/**
 * The actor's part of a history entry as JSON text (',"by":{…},"requestId":…'
 * or ''), made once here so both backends write byte-identical entries.
 */
export function actorJson(actor: Actor | undefined): string {
  if (!actor) return '';
  const by = `,"by":${JSON.stringify({ key: actor.key, name: actor.name })}`;
  return actor.requestId ? `${by},"requestId":${JSON.stringify(actor.requestId)}` : by;
}

/** A whole history entry as JSON text: what the SQLite store keeps, and what the Redis script writes. */
export function historyJson(version: number, event: EventType, at: string, note: string | undefined, reason: string | undefined, actor: string): string {
  const head = JSON.stringify({ version, event, at, ...(note ? { changeNote: note } : {}), ...(reason !== undefined ? { reason } : {}) });
  return `${head.slice(0, -1)}${actor}}`;
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
  /**
   * `actor` (every write): who made it, recorded in the item's history with
   * the new version, in the same atomic step; a held item remembers it for
   * the version its release publishes.
   */
  publish(content: ItemContent, hash: string, actor?: Actor): Promise<WriteResult>;
  /** `notify`: the editor asks that readers alerted to the item hear of this correction too. */
  update(content: ItemContent, hash: string, changeNote: string | undefined, notify?: boolean, actor?: Actor): Promise<WriteResult>;
  retract(id: string, reason: string, actor?: Actor): Promise<WriteResult>;
  /** The item's versions, oldest first (the latest `limit`); empty for an unknown or held item. */
  history(id: string, limit?: number): Promise<HistoryEntry[]>;
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
   * Cards of live items first published before `beforeOrder` (see
   * ListEntry.order), newest first, at most `limit`: a walk over every live
   * item a page at a time (sitemaps), each page one indexed read.
   */
  liveCards(beforeOrder: number, limit: number): Promise<ListEntry[]>;
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

/**
 * The write reached the primary but fewer replicas than required confirmed
 * it in time: its outcome is unknown (a failover may lose it, or it may
 * still surface). The API answers 503; a retry with the same id is safe.
 */
export class WriteNotReplicatedError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriteNotReplicatedError';
  }
}

/**
 * The write was sent but its answer never came (the connection dropped, the
 * reply timed out): it may have been applied. The API answers 503 and says
 * so; a retry with the same id is safe and tells which.
 */
export class WriteOutcomeUnknownError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriteOutcomeUnknownError';
  }
}
