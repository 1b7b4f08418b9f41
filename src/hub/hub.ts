// Topic → subscribers index of one process. Work here is per event or per
// topic, never per subscriber beyond the final write.
import { formatCursor } from '../domain/cursor.ts';
import { eventTopics, type NewsEvent } from '../domain/event.ts';
import { type OutboundMessage, prepareMessage } from './message.ts';
import { RecentEvents } from './recent.ts';

export interface Subscriber {
  /** null: every topic. */
  readonly topics: ReadonlySet<string> | null;
  /** Takes a message in seq order; drops what it has already seen. */
  offer(message: OutboundMessage): void;
  /** Takes several messages in seq order, their frames already joined for one write. */
  offerBatch(batch: Batch): void;
  /** The fan-out pass that last reached it: one offer per pass, however many topics match. */
  pass: number;
}

/** Messages fanned out together, and their frames joined once for all subscribers that want them all. */
export interface Batch {
  readonly messages: readonly OutboundMessage[];
  readonly frames: Buffer;
}

export interface Replay {
  /** null when none of the events is wanted. */
  frames: Buffer | null;
  count: number;
  /** The last event held, wanted or not: the resumed subscriber is past it. */
  lastSeq: number;
}

interface Queued {
  message: OutboundMessage;
  topics: readonly string[];
}

export interface HubStats {
  onDeliver?(event: NewsEvent, subscribers: number): void;
}

export class Hub {
  private readonly byTopic = new Map<string, Set<Subscriber>>();
  private readonly everything = new Set<Subscriber>();
  private readonly members = new Set<Subscriber>();
  /** The log this hub follows, and the last event it fanned out. */
  epoch = '';
  lastSeq = 0;
  readonly recent: RecentEvents;
  /** Events taken since the last fan-out pass; written together on the next turn of the loop. */
  private queue: Queued[] = [];
  private scheduled = false;
  private passes = 0;
  /** Joined replays by (cursor, topics), valid until the next event. */
  private replays = new Map<string, Replay>();

  constructor(
    private readonly stats: HubStats = {},
    recentCapacity = 4_096,
  ) {
    this.recent = new RecentEvents(recentCapacity);
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

  get size(): number {
    return this.members.size;
  }

  /** Number of (subscriber, topic) pairs, "all" counting as one. */
  get subscriptions(): number {
    let count = this.everything.size;
    for (const set of this.byTopic.values()) count += set.size;
    return count;
  }

  add(subscriber: Subscriber): void {
    this.members.add(subscriber);
    this.index(subscriber);
  }

  remove(subscriber: Subscriber): void {
    this.members.delete(subscriber);
    this.unindex(subscriber);
  }

  /** Call around a change of a subscriber's topics. */
  reindex(subscriber: Subscriber, change: () => void): void {
    this.unindex(subscriber);
    change();
    if (this.members.has(subscriber)) this.index(subscriber);
  }

  forEach(fn: (subscriber: Subscriber) => void): void {
    for (const subscriber of this.members) fn(subscriber);
  }

  /**
   * Serialises the event once and queues it for every interested subscriber.
   * The writes happen on the next turn of the event loop: the publisher's
   * answer goes first, and events that arrive together leave together, one
   * write per subscriber carrying all their frames.
   */
  deliver(event: NewsEvent, epoch: string): OutboundMessage {
    const message = prepareMessage(event.seq, eventFrameText(event, epoch));
    const topics = eventTopics(event);
    this.epoch = epoch;
    this.lastSeq = event.seq;
    this.recent.push({ topics, message });
    if (this.replays.size) this.replays = new Map();
    this.queue.push({ message, topics });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    let reached = this.everything.size;
    for (const topic of topics) reached += this.byTopic.get(topic)?.size ?? 0;
    this.stats.onDeliver?.(event, reached);
    return message;
  }

  /**
   * Frames of every held event after `after` that a subscriber of `topics`
   * wants, joined once and shared by everyone resuming from the same place:
   * a reconnect storm is thousands of clients with the same cursor. The
   * caller checks first that `recent` covers `after`.
   */
  replay(after: number, topics: ReadonlySet<string> | null): Replay {
    const key = `${after}|${topics === null ? '*' : [...topics].sort().join(',')}`;
    let replay = this.replays.get(key);
    if (!replay) {
      const frames: Buffer[] = [];
      let lastSeq = after;
      for (const entry of this.recent.since(after)) {
        lastSeq = entry.message.seq;
        if (topics === null || entry.topics.some((topic) => topics.has(topic))) frames.push(entry.message.frame);
      }
      replay = { frames: frames.length ? Buffer.concat(frames) : null, count: frames.length, lastSeq };
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
    const all = joined(queue);
    for (const subscriber of this.everything) {
      subscriber.pass = pass;
      subscriber.offerBatch(all);
    }
    const topics = new Set<string>();
    for (const entry of queue) for (const topic of entry.topics) topics.add(topic);
    // Subsets of the queue some subscribers want, joined once per distinct subset.
    const subsets = new Map<string, Batch>();
    for (const topic of topics) {
      const set = this.byTopic.get(topic);
      if (!set) continue;
      const inEvery = queue.every((entry) => entry.topics.includes(topic));
      for (const subscriber of set) {
        if (subscriber.pass === pass) continue;
        subscriber.pass = pass;
        subscriber.offerBatch(inEvery ? all : subsetFor(subscriber, queue, subsets));
      }
    }
  }

  private index(subscriber: Subscriber): void {
    if (subscriber.topics === null) {
      this.everything.add(subscriber);
      return;
    }
    for (const topic of subscriber.topics) {
      let set = this.byTopic.get(topic);
      if (!set) {
        set = new Set();
        this.byTopic.set(topic, set);
      }
      set.add(subscriber);
    }
  }

  private unindex(subscriber: Subscriber): void {
    this.everything.delete(subscriber);
    if (subscriber.topics === null) return;
    for (const topic of subscriber.topics) {
      const set = this.byTopic.get(topic);
      if (!set) continue;
      set.delete(subscriber);
      if (set.size === 0) this.byTopic.delete(topic);
    }
  }
}

function joined(entries: readonly Queued[]): Batch {
  const messages = entries.map((entry) => entry.message);
  const frames = messages.length === 1 ? (messages[0] as OutboundMessage).frame : Buffer.concat(messages.map((m) => m.frame));
  return { messages, frames };
}

function subsetFor(subscriber: Subscriber, queue: readonly Queued[], subsets: Map<string, Batch>): Batch {
  const wanted = queue.filter((entry) => entry.topics.some((topic) => subscriber.topics?.has(topic) ?? true));
  const key = wanted.map((entry) => entry.message.seq).join(',');
  let batch = subsets.get(key);
  if (!batch) {
    batch = joined(wanted);
    subsets.set(key, batch);
  }
  return batch;
}

/** The `event` frame of the public contract. */
export function eventFrameText(event: NewsEvent, epoch: string): string {
  return `{"type":"event","cursor":"${formatCursor(epoch, event.seq)}","event":"${event.type}","item":${JSON.stringify(event.item)}}`;
}
