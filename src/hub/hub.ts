// Topic → subscribers index of one process. Work here is per event or per
// topic, never per subscriber beyond the final write.
import { ALL_ITEMS, eventKeys, type NewsEvent } from '../domain/event.ts';
import type { Detail } from '../domain/item.ts';
import { eventMessage, hasBody, type Joined, joinedLazily, type OutboundMessage } from './message.ts';
import { RecentEvents } from './recent.ts';

export interface Subscriber {
  /**
   * Routing keys it follows: topics, and itemKey(id) for items followed by
   * id; null: every topic.
   */
  readonly topics: ReadonlySet<string> | null;
  /** Cards, or whole items with their bodies. */
  readonly detail: Detail;
  /** Takes a message in seq order; drops what it has already seen. */
  offer(message: OutboundMessage): void;
  /** Takes several messages in seq order, their frames already joined for one write. */
  offerBatch(batch: Batch): void;
  /** The fan-out pass that last reached it: one offer per pass, however many keys match. */
  pass: number;
}

/**
 * Messages fanned out together, their bytes joined once (per framing) for
 * all subscribers that want them all.
 */
export type Batch = Joined;

/** The wanted events after a cursor, joined once for everyone resuming from it. */
export interface Replay extends Joined {
  /** The last event held, wanted or not: the resumed subscriber is past it. */
  lastSeq: number;
}

interface Queued {
  card: OutboundMessage;
  /** The whole item's frame; the card's own when nobody wants bodies or there is none. */
  full: OutboundMessage;
  keys: readonly string[];
}

export interface HubStats {
  onDeliver?(event: NewsEvent, subscribers: number): void;
}

export class Hub {
  private readonly byKey = new Map<string, Set<Subscriber>>();
  private readonly everything = new Set<Subscriber>();
  private readonly members = new Set<Subscriber>();
  /** Members that want whole items: only while there are any is a second frame built. */
  private fullMembers = 0;
  /** The log this hub follows, and the last event it fanned out. */
  epoch = '';
  lastSeq = 0;
  /** Card frames of the last events: resumes of card subscribers are served from here. */
  readonly recent: RecentEvents;
  /** Events taken since the last fan-out pass; written together on the next turn of the loop. */
  private queue: Queued[] = [];
  private scheduled = false;
  private passes = 0;
  /** Joined replays by (cursor, keys), valid until the next event. */
  private replays = new Map<string, Replay>();

  constructor(
    private readonly stats: HubStats = {},
    recent: { events: number; bytes: number } = { events: 4_096, bytes: 64 * 1024 * 1024 },
  ) {
    this.recent = new RecentEvents(recent.events, recent.bytes);
  }

  /** Where fan-out starts (the log's head at start-up, or after a reset). */
  startAt(epoch: string, seq: number): void {
    // What was taken from the old log goes out first, as it would have.
    this.flush();
    this.replays.clear();
    this.epoch = epoch;
    this.lastSeq = seq;
    this.recent.clear();
  }

  /** Number of (subscriber, key) pairs, "all" counting as one. */
  get subscriptions(): number {
    let count = this.everything.size;
    for (const set of this.byKey.values()) count += set.size;
    return count;
  }

  /**
   * Connected readers of this process: per topic, those following every
   * topic, and every session (story pages follow one item, not a topic).
   * Walks the topic index, not the subscribers.
   */
  readers(): { topics: Record<string, number>; everyTopic: number; total: number } {
    const topics: Record<string, number> = {};
    for (const [key, set] of this.byKey) if (!key.startsWith('item:') && key !== ALL_ITEMS) topics[key] = set.size;
    return { topics, everyTopic: this.everything.size, total: this.members.size };
  }

  add(subscriber: Subscriber): void {
    if (this.members.has(subscriber)) return;
    this.members.add(subscriber);
    if (subscriber.detail === 'full') this.fullMembers++;
    this.index(subscriber);
  }

  remove(subscriber: Subscriber): void {
    if (!this.members.delete(subscriber)) return;
    if (subscriber.detail === 'full') this.fullMembers--;
    this.unindex(subscriber);
  }

  /** Call around a change of a subscriber's topics. */
  reindex(subscriber: Subscriber, change: () => void): void {
    this.unindex(subscriber);
    change();
    if (this.members.has(subscriber)) this.index(subscriber);
  }

  /**
   * Serialises the event once per detail and queues it for every interested
   * subscriber. The writes happen on the next turn of the event loop: the
   * publisher's answer goes first, and events that arrive together leave
   * together, one write per subscriber carrying all their frames.
   */
  deliver(event: NewsEvent, epoch: string): OutboundMessage {
    const card = eventMessage(event, epoch, 'card');
    const full = this.fullMembers > 0 && hasBody(event) ? eventMessage(event, epoch, 'full') : card;
    const keys = eventKeys(event);
    this.epoch = epoch;
    this.lastSeq = event.seq;
    this.recent.push({ topics: keys, message: card });
    if (this.replays.size) this.replays = new Map();
    this.queue.push({ card, full, keys });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    let reached = this.everything.size;
    for (const key of keys) reached += this.byKey.get(key)?.size ?? 0;
    this.stats.onDeliver?.(event, reached);
    return card;
  }

  /**
   * Card messages of every held event after `after` that a subscriber of
   * `keys` wants, joined once (per framing) and shared by everyone resuming
   * from the same place: a reconnect storm is thousands of clients with the
   * same cursor. The caller checks first that `recent` covers `after`.
   */
  replay(after: number, keys: ReadonlySet<string> | null): Replay {
    const key = `${after}|${keys === null ? '*' : [...keys].sort().join(',')}`;
    let replay = this.replays.get(key);
    if (!replay) {
      const wanted: OutboundMessage[] = [];
      let lastSeq = after;
      for (const entry of this.recent.since(after)) {
        lastSeq = entry.message.seq;
        if (keys === null || entry.topics.some((topic) => keys.has(topic))) wanted.push(entry.message);
      }
      replay = { ...joinedLazily(wanted), lastSeq };
      if (this.replays.size >= 256) this.replays.clear();
      this.replays.set(key, replay);
    }
    return replay;
  }

  /** One fan-out pass over the queued events: per subscriber, one offer of what it wants. */
  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    const pass = ++this.passes;
    const all = { card: joined(queue, 'card'), full: joined(queue, 'full') };
    for (const subscriber of this.everything) {
      subscriber.pass = pass;
      subscriber.offerBatch(all[subscriber.detail]);
    }
    const keys = new Set<string>();
    for (const entry of queue) for (const key of entry.keys) keys.add(key);
    // Subsets of the queue some subscribers want, joined once per distinct subset.
    const subsets: Subsets = { bySeqs: new Map(), byTopics: { card: new Map(), full: new Map() } };
    for (const key of keys) {
      const set = this.byKey.get(key);
      if (!set) continue;
      const inEvery = queue.every((entry) => entry.keys.includes(key));
      for (const subscriber of set) {
        if (subscriber.pass === pass) continue;
        subscriber.pass = pass;
        subscriber.offerBatch(inEvery ? all[subscriber.detail] : subsetFor(subscriber, queue, subsets));
      }
    }
  }

  private index(subscriber: Subscriber): void {
    if (subscriber.topics === null) {
      this.everything.add(subscriber);
      return;
    }
    for (const key of subscriber.topics) {
      let set = this.byKey.get(key);
      if (!set) {
        set = new Set();
        this.byKey.set(key, set);
      }
      set.add(subscriber);
    }
  }

  private unindex(subscriber: Subscriber): void {
    this.everything.delete(subscriber);
    if (subscriber.topics === null) return;
    for (const key of subscriber.topics) {
      const set = this.byKey.get(key);
      if (!set) continue;
      set.delete(subscriber);
      if (set.size === 0) this.byKey.delete(key);
    }
  }
}

/** A batch whose bytes are joined only when some subscriber takes it, once per framing. */
function joined(entries: readonly Queued[], detail: Detail): Batch {
  return joinedLazily(entries.map((entry) => entry[detail]));
}

/** Subsets of one pass's queue: by the seqs they hold, and by the set of topics that picked them. */
interface Subsets {
  bySeqs: Map<string, Batch>;
  /** Equal sets of topics are one object (LiveSessions.sharedTopics): most subscribers are found here. */
  byTopics: Record<Detail, Map<ReadonlySet<string>, Batch>>;
}

function subsetFor(subscriber: Subscriber, queue: readonly Queued[], subsets: Subsets): Batch {
  const { topics, detail } = subscriber;
  // A set of topics is not changed during a pass: it picks the same events every time.
  const byTopics = subsets.byTopics[detail];
  let batch = topics ? byTopics.get(topics) : undefined;
  if (batch) return batch;
  const wanted = queue.filter((entry) => entry.keys.some((key) => topics?.has(key) ?? true));
  const key = `${detail}:${wanted.map((entry) => entry.card.seq).join(',')}`;
  batch = subsets.bySeqs.get(key);
  if (!batch) {
    batch = joined(wanted, detail);
    subsets.bySeqs.set(key, batch);
  }
  if (topics) byTopics.set(topics, batch);
  return batch;
}
