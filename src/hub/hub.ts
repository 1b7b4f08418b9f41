// Topic → subscribers index of one process. Work here is per event or per
// topic, never per subscriber beyond the final write.
import { formatCursor } from '../domain/cursor.ts';
import type { NewsEvent } from '../domain/event.ts';
import { type OutboundMessage, prepareMessage } from './message.ts';
import { RecentEvents } from './recent.ts';

export interface Subscriber {
  /** null: every topic. */
  readonly topics: ReadonlySet<string> | null;
  /** Takes a message in seq order; drops what it has already seen. */
  offer(message: OutboundMessage): void;
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

  constructor(
    private readonly stats: HubStats = {},
    recentCapacity = 4_096,
  ) {
    this.recent = new RecentEvents(recentCapacity);
  }

  /** Where fan-out starts (the log's head at start-up, or after a reset). */
  startAt(epoch: string, seq: number): void {
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

  /** Serialises the event once and offers it to every interested subscriber. */
  deliver(event: NewsEvent, epoch: string): OutboundMessage {
    const message = prepareMessage(event.seq, eventFrameText(event, epoch));
    this.epoch = epoch;
    this.lastSeq = event.seq;
    this.recent.push({ topics: event.item.topics, message });
    let reached = 0;
    for (const subscriber of this.everything) {
      subscriber.offer(message);
      reached++;
    }
    // A subscriber in several of the event's topics is offered it more than
    // once; its seq check keeps only the first.
    for (const topic of event.item.topics) {
      const set = this.byTopic.get(topic);
      if (!set) continue;
      for (const subscriber of set) {
        subscriber.offer(message);
        reached++;
      }
    }
    this.stats.onDeliver?.(event, reached);
    return message;
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

/** The `event` frame of the public contract. */
export function eventFrameText(event: NewsEvent, epoch: string): string {
  return `{"type":"event","cursor":"${formatCursor(epoch, event.seq)}","event":"${event.type}","item":${JSON.stringify(event.item)}}`;
}
