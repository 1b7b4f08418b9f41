// One process, embedded store: the writer hands events straight to the hub.
// The sequencer still guards order, so two overlapping publishes can never
// reach readers out of seq order.
import type { NewsEvent } from '../domain/event.ts';
import type { Store } from '../store/store.ts';
import type { Bus, BusSink } from './bus.ts';
import { Sequencer } from './sequencer.ts';

export class LocalBus implements Bus {
  readonly kind = 'local' as const;
  private sequencer: Sequencer | null = null;

  constructor(private readonly store: Store) {}

  async start(sink: BusSink): Promise<{ epoch: string; seq: number }> {
    this.sequencer = new Sequencer(this.store, sink);
    await this.sequencer.init();
    return { epoch: this.sequencer.epoch, seq: this.sequencer.last };
  }

  published(event: NewsEvent, epoch: string): void {
    this.sequencer?.offer(event, epoch);
  }

  isLive(): boolean {
    return this.sequencer !== null;
  }

  async close(): Promise<void> {
    this.sequencer = null;
  }
}
