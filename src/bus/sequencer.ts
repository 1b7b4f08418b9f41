// Turns "events as they happen to arrive" into "every event once, in seq
// order". Anything that arrives ahead of a gap waits while the gap is read
// from the log; anything already delivered is dropped.
import type { NewsEvent } from '../domain/event.ts';
import type { Store } from '../store/store.ts';
import type { BusSink } from './bus.ts';

// Items may carry bodies of up to 200 KB: a page of the log stays well below 100 MB.
const PAGE = 256;

export interface SequencerStats {
  onBackfill?(count: number): void;
  onGap?(): void;
  /** A read from the log failed; the next check() tries again. */
  onError?(error: unknown): void;
}

export class Sequencer {
  /** Seq of the last event handed to the sink. */
  last = 0;
  epoch = '';
  private ahead = new Map<number, NewsEvent>();
  private filling: Promise<void> | null = null;
  private refillRequested = false;

  constructor(
    private readonly store: Pick<Store, 'head' | 'readAfter'>,
    private readonly sink: BusSink,
    private readonly stats: SequencerStats = {},
  ) {}

  /** Starts at the log's head: older events are the business of resume. */
  async init(): Promise<void> {
    const head = await this.store.head();
    this.epoch = head.epoch;
    this.last = head.seq;
  }

  /** An event from the writer or the wire; `epoch` is the log it came from. */
  offer(event: NewsEvent, epoch: string): void {
    if (epoch !== this.epoch) {
      // Another log: let the head check sort out whether ours was replaced.
      this.check().catch((error: unknown) => this.stats.onError?.(error));
      return;
    }
    if (event.seq <= this.last) return;
    if (event.seq === this.last + 1 && !this.filling) {
      this.deliver(event);
      return;
    }
    this.ahead.set(event.seq, event);
    this.stats.onGap?.();
    this.fill().catch((error: unknown) => this.stats.onError?.(error));
  }

  /** Compares with the log's head; fills any gap, resets on a new epoch. */
  async check(): Promise<void> {
    const head = await this.store.head();
    if (head.epoch !== this.epoch) {
      this.epoch = head.epoch;
      this.last = head.seq;
      this.ahead.clear();
      this.sink.reset(head.epoch, head.seq);
      return;
    }
    if (head.seq > this.last) {
      this.stats.onGap?.();
      await this.fill();
    }
  }

  /** Reads what is missing from the log, one reader at a time. */
  fill(): Promise<void> {
    if (this.filling) {
      this.refillRequested = true;
      return this.filling;
    }
    this.filling = (async () => {
      try {
        do {
          this.refillRequested = false;
          for (;;) {
            const epochAtStart = this.epoch;
            const events = await this.store.readAfter(this.last, PAGE);
            if (epochAtStart !== this.epoch) break;
            let delivered = 0;
            for (const event of events) {
              if (event.seq > this.last) {
                this.deliver(event);
                delivered++;
              }
            }
            if (delivered) this.stats.onBackfill?.(delivered);
            this.drainAhead();
            if (events.length < PAGE) break;
          }
        } while (this.refillRequested);
      } finally {
        this.filling = null;
        this.drainAhead();
      }
    })();
    return this.filling;
  }

  private drainAhead(): void {
    for (;;) {
      const next = this.ahead.get(this.last + 1);
      if (!next) break;
      this.ahead.delete(next.seq);
      this.deliver(next);
    }
    for (const seq of this.ahead.keys()) if (seq <= this.last) this.ahead.delete(seq);
  }

  private deliver(event: NewsEvent): void {
    this.last = event.seq;
    this.sink.event(event, this.epoch);
  }
}
