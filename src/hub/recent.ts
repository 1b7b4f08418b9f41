// The last few thousand events this process fanned out, framed and ready:
// most resumes (a reload, a reconnect storm) are served from here without
// touching the store or serialising anything again. Bounded by count and by
// bytes, whichever is reached first.
import type { OutboundMessage } from './message.ts';

export interface RecentEntry {
  topics: readonly string[];
  message: OutboundMessage;
}

export class RecentEvents {
  private readonly ring: (RecentEntry | undefined)[];
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly capacity = 4_096,
    readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.ring = new Array(capacity);
  }

  push(entry: RecentEntry): void {
    const last = this.lastSeq;
    if (this.count > 0 && entry.message.seq !== last + 1) this.clear();
    if (this.count === this.capacity) this.dropOldest();
    this.ring[(this.start + this.count) % this.capacity] = entry;
    this.count++;
    this.bytes += entry.message.frame.length;
    while (this.bytes > this.maxBytes && this.count > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const oldest = this.ring[this.start] as RecentEntry;
    this.bytes -= oldest.message.frame.length;
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }

  get size(): { events: number; bytes: number } {
    return { events: this.count, bytes: this.bytes };
  }

  get firstSeq(): number {
    return this.count ? (this.ring[this.start] as RecentEntry).message.seq : 0;
  }

  get lastSeq(): number {
    return this.count ? (this.ring[(this.start + this.count - 1) % this.capacity] as RecentEntry).message.seq : 0;
  }

  /** True when every event after `seq` up to lastSeq is held here. */
  covers(seq: number): boolean {
    return this.count > 0 && seq >= this.firstSeq - 1;
  }

  /** Entries with seq > after, oldest first. */
  *since(after: number): Generator<RecentEntry> {
    if (!this.count) return;
    const skip = Math.max(0, after - this.firstSeq + 1);
    for (let i = skip; i < this.count; i++) yield this.ring[(this.start + i) % this.capacity] as RecentEntry;
  }
}
