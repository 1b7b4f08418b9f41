// What the unit tests' fake sockets share: a send buffer that drains only
// when the test says so, and the events and the wait they are fed with.
// Each fake reads what is written (frames or an event stream) its own way.
import type { NewsEvent } from '../../src/domain/event.ts';
import type { WireSocket } from '../../src/realtime/wire.ts';

export abstract class FakeWire implements WireSocket {
  open = true;
  buffered = 0;
  terminated = false;
  private drains: (() => void)[] = [];

  abstract write(bytes: Buffer): void;
  abstract close(code: number, reason: string): void;

  drainedTo(bytes: number, deadlineMs: number): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    if (this.buffered <= bytes) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs - Date.now()));
      this.drains.push(() => {
        clearTimeout(timer);
        resolve(this.open);
      });
    });
  }

  /** The peer read everything. */
  drain(): void {
    this.buffered = 0;
    for (const wake of this.drains.splice(0)) wake();
  }

  ping(): void {}

  terminate(): void {
    this.terminated = true;
    this.open = false;
    this.drain();
  }
}

export function event(seq: number, topics = ['t'], type: NewsEvent['type'] = 'published'): NewsEvent {
  return {
    seq,
    type,
    at: new Date(0).toISOString(),
    item: { id: `i${seq}`, headline: `H${seq}`, body: '<p>body</p>', topics, priority: 'routine', version: 1, publishedAt: '', updatedAt: '', status: 'published' },
  };
}

/** Resolves after the hub's next fan-out pass (it runs on setImmediate). */
export const flushed = () => new Promise((resolve) => setImmediate(resolve));
