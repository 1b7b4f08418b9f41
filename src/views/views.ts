// Latest items for a set of topics, built once per (topics, head seq) and
// shared by every reader of that view: first paint, resets, the items list
// and feeds. A rush of readers costs one store read per event, not one per
// reader.
//
// The cache follows the events this process delivers. A part (one topic's
// list) is kept only when it was read at the very position fan-out has
// reached, and every delivered event drops the parts and views it touches,
// so whatever is cached describes the log exactly at the delivered seq.
// That lets a view of many topics be merged from parts read at different
// times and still carry one exact cursor.
import { ALL_ITEMS, eventKeys, type NewsEvent } from '../domain/event.ts';
import type { Item } from '../domain/item.ts';
import type { Detail, ListEntry, LiveList, Store } from '../store/store.ts';

export interface View {
  readonly epoch: string;
  /** The log position this view reflects: a reader resumes after it. */
  readonly headSeq: number;
  readonly detail: Detail;
  /** Newest first, at most the view's limit. */
  readonly entries: readonly ListEntry[];
  /** Seq and time of the newest event that touched any of its lists. */
  readonly seq: number;
  readonly at: string | undefined;
  /** The first of its items expires then (ms): the view must be read again. */
  readonly staleAtMs: number;
}

export interface ViewCacheOptions {
  store: Store;
  /** Items per view: cards for pages, lists and resets; whole items for feeds. */
  limits: Record<Detail, number>;
  /** Bound of everything held, in bytes of JSON (parsed items counted too). */
  maxBytes: number;
  /** Each read from the store (a cache miss), for metrics. */
  onRead?(detail: Detail): void;
}

interface Cached<T> {
  value: T;
  bytes: number;
  /** The first of its items expires then (ms). */
  staleAtMs: number;
}

interface CachedView extends Cached<View> {
  /** Its list keys, for invalidation. */
  lists: readonly string[];
}

const parsed = new WeakMap<ListEntry, Item>();
const joined = new WeakMap<View, Map<number, string>>();

/** The entry's item, parsed once however many views share it. */
export function entryItem(entry: ListEntry): Item {
  let item = parsed.get(entry);
  if (!item) {
    item = JSON.parse(entry.json) as Item;
    parsed.set(entry, item);
  }
  return item;
}

export function viewItems(view: View, count = view.entries.length): Item[] {
  return view.entries.slice(0, count).map(entryItem);
}

/** The JSON array of the first `count` items, joined once per view. */
export function viewJson(view: View, count: number): string {
  let byCount = joined.get(view);
  if (!byCount) {
    byCount = new Map();
    joined.set(view, byCount);
  }
  let json = byCount.get(count);
  if (json === undefined) {
    json = `[${view.entries
      .slice(0, count)
      .map((entry) => entry.json)
      .join(',')}]`;
    byCount.set(count, json);
  }
  return json;
}

/** Sorted, deduplicated list keys; null (every topic) is ALL_ITEMS. */
export function listKeys(keys: Iterable<string> | null): string[] {
  return keys === null ? [ALL_ITEMS] : [...new Set(keys)].sort();
}

export class ViewCache {
  private epoch = '';
  private seq = 0;
  /** Bumped by every delivered event: a read begun before it may not be kept. */
  private generation = 0;
  private readonly parts = new Map<string, Cached<LiveList>>();
  private readonly views = new Map<string, CachedView>();
  private readonly building = new Map<string, { generation: number; view: Promise<View> }>();
  private bytes = 0;

  constructor(private readonly options: ViewCacheOptions) {}

  /** Where fan-out starts (at start-up, or a new epoch): nothing held so far is valid. */
  startAt(epoch: string, seq: number): void {
    this.epoch = epoch;
    this.seq = seq;
    this.generation++;
    this.parts.clear();
    this.views.clear();
    this.bytes = 0;
  }

  /** Called for every event this process delivers, before any reader sees it. */
  invalidate(event: NewsEvent, epoch: string): void {
    if (epoch !== this.epoch) {
      this.startAt(epoch, event.seq);
      return;
    }
    this.seq = event.seq;
    this.generation++;
    const keys = eventKeys(event);
    for (const key of [ALL_ITEMS, ...keys]) {
      for (const detail of ['card', 'full'] as const) this.drop(this.parts, partKey(detail, key));
    }
    for (const [key, cached] of this.views) if (touches(cached.lists, keys)) this.drop(this.views, key);
  }

  /** Bytes held, for metrics and tests. */
  get size(): { bytes: number; parts: number; views: number } {
    return { bytes: this.bytes, parts: this.parts.size, views: this.views.size };
  }

  /** The view of these list keys (see listKeys), from the cache or one store read. */
  get(keys: readonly string[], detail: Detail): Promise<View> {
    const key = viewKey(detail, keys);
    const cached = this.fresh(this.views, key);
    if (cached) return Promise.resolve(cached);
    const running = this.building.get(key);
    if (running && running.generation === this.generation) return running.view;
    const view = this.build(keys, detail, key).finally(() => {
      if (this.building.get(key)?.view === view) this.building.delete(key);
    });
    this.building.set(key, { generation: this.generation, view });
    return view;
  }

  private async build(keys: readonly string[], detail: Detail, key: string): Promise<View> {
    const generation = this.generation;
    const have = new Map<string, LiveList>();
    const missing: string[] = [];
    for (const listKey of keys) {
      const part = this.fresh(this.parts, partKey(detail, listKey));
      if (part) have.set(listKey, part);
      else missing.push(listKey);
    }
    if (missing.length === 0) return this.keep(key, merge(this.epoch, this.seq, detail, keys, have, this.limit(detail)));

    this.options.onRead?.(detail);
    const read = await this.options.store.lists(missing, this.limit(detail), detail);
    const exact = read.epoch === this.epoch && read.headSeq === this.seq && this.generation === generation;
    if (exact) {
      for (const [listKey, list] of read.lists) {
        have.set(listKey, list);
        this.put(this.parts, partKey(detail, listKey), { value: list, bytes: listBytes(list), staleAtMs: firstExpiry(list.entries) });
      }
      return this.keep(key, merge(read.epoch, read.headSeq, detail, keys, have, this.limit(detail)));
    }
    // The store is ahead of (or behind) what this process has delivered:
    // serve one consistent read of every list, and keep nothing of it.
    const all = missing.length === keys.length ? read : await this.options.store.lists(keys, this.limit(detail), detail);
    return merge(all.epoch, all.headSeq, detail, keys, all.lists, this.limit(detail));
  }

  private limit(detail: Detail): number {
    return this.options.limits[detail];
  }

  private keep(key: string, view: View): View {
    if (view.epoch === this.epoch && view.headSeq === this.seq) {
      // Its entries are shared with its parts: count them once more, lightly.
      // Its list keys as its key spells them, split once here rather than by every event.
      this.put(this.views, key, { value: view, bytes: view.entries.length * 16 + 200, staleAtMs: view.staleAtMs, lists: key.split('\n').slice(1) });
    }
    return view;
  }

  private fresh<T>(map: Map<string, Cached<T>>, key: string): T | undefined {
    const cached = map.get(key);
    if (!cached) return undefined;
    if (cached.staleAtMs <= Date.now()) {
      this.drop(map, key);
      return undefined;
    }
    // Least recently used goes first: a hit moves to the end.
    map.delete(key);
    map.set(key, cached);
    return cached.value;
  }

  private put<C extends Cached<unknown>>(map: Map<string, C>, key: string, cached: C): void {
    this.drop(map, key);
    if (cached.bytes > this.options.maxBytes / 2) return;
    map.set(key, cached);
    this.bytes += cached.bytes;
    while (this.bytes > this.options.maxBytes) {
      const victim = this.parts.size >= this.views.size ? this.parts : this.views;
      const oldest = victim.keys().next().value as string | undefined;
      if (oldest === undefined) break;
      this.drop(victim as Map<string, Cached<unknown>>, oldest);
    }
  }

  private drop<T>(map: Map<string, Cached<T>>, key: string): void {
    const cached = map.get(key);
    if (!cached) return;
    map.delete(key);
    this.bytes -= cached.bytes;
  }
}

function partKey(detail: Detail, listKey: string): string {
  return `${detail}\n${listKey}`;
}

function viewKey(detail: Detail, keys: readonly string[]): string {
  return `${detail}\n${keys.join('\n')}`;
}

/** Whether a view (by its list keys) holds a list an event touched. */
function touches(lists: readonly string[], eventKeys: readonly string[]): boolean {
  for (const list of lists) if (list === ALL_ITEMS || eventKeys.includes(list)) return true;
  return false;
}

function firstExpiry(entries: readonly ListEntry[]): number {
  let at = Number.POSITIVE_INFINITY;
  for (const entry of entries) if (entry.expiresMs !== undefined && entry.expiresMs < at) at = entry.expiresMs;
  return at;
}

function entryBytes(entry: ListEntry): number {
  // The JSON text, and the item once parsed: about twice as much again.
  return entry.json.length * 3 + 64;
}

function listBytes(list: LiveList): number {
  return list.entries.reduce((sum, entry) => sum + entryBytes(entry), 64);
}

/** Newest first across the lists, each item once. */
function merge(
  epoch: string,
  headSeq: number,
  detail: Detail,
  keys: readonly string[],
  lists: ReadonlyMap<string, LiveList>,
  limit: number,
): View {
  let seq = 0;
  let at: string | undefined;
  const parts: LiveList[] = [];
  for (const key of keys) {
    const list = lists.get(key);
    if (!list) continue;
    parts.push(list);
    if (list.seq > seq) {
      seq = list.seq;
      at = list.at;
    }
  }
  let entries: ListEntry[];
  if (parts.length === 1) {
    entries = (parts[0] as LiveList).entries;
  } else {
    const seen = new Set<string>();
    entries = [];
    for (const entry of parts.flatMap((list) => list.entries).sort((a, b) => b.order - a.order)) {
      if (seen.has(entry.id)) continue;
      seen.add(entry.id);
      entries.push(entry);
      if (entries.length >= limit) break;
    }
  }
  return { epoch, headSeq, detail, entries, seq, at, staleAtMs: firstExpiry(entries) };
}
