// Fan-out between the worker processes of one machine (WORKERS > 1) on the
// embedded store: every worker shares the SQLite file, and each tells the
// primary of what it appended; the primary relays the notice to the other
// workers (src/cluster/primary.ts). A notice can be lost (a worker killed
// between its commit and its send) or overtaken: the sequencer fills any gap
// from the log, and a head check every second bounds how long one may wait.
import type { NewsEvent } from '../domain/event.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';
import type { Bus, BusSink } from './bus.ts';
import { Sequencer } from './sequencer.ts';

/** The notice a worker sends after a write, and the primary relays to the others. */
export interface PublishedNotice {
  type: 'newswire:published';
  epoch: string;
  event: NewsEvent;
}

export function isPublishedNotice(message: unknown): message is PublishedNotice {
  const m = message as Partial<PublishedNotice> | null;
  return typeof m === 'object' && m !== null && m.type === 'newswire:published' && typeof m.epoch === 'string' && typeof m.event?.seq === 'number';
}

export interface IpcBusOptions {
  store: Pick<Store, 'head' | 'readAfter'>;
  logger: Logger;
  metrics: Metrics;
  /** How often the log's head is compared with what was delivered. */
  checkMs?: number;
}

export class IpcBus implements Bus {
  readonly kind = 'ipc' as const;
  private sequencer: Sequencer | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly onMessage = (message: unknown) => {
    if (isPublishedNotice(message)) this.sequencer?.offer(message.event, message.epoch);
  };

  constructor(private readonly options: IpcBusOptions) {}

  async start(sink: BusSink): Promise<{ epoch: string; seq: number }> {
    const { metrics, logger } = this.options;
    const sequencer = new Sequencer(this.options.store, sink, {
      onGap: () => metrics.gaps.inc(),
      onBackfill: (count) => metrics.backfilledEvents.inc(count),
      onError: (error) => logger.warn({ err: error }, 'gap fill failed; the next head check retries'),
    });
    await sequencer.init();
    this.sequencer = sequencer;
    // Anything appended between the head read and now comes with the next notice or check.
    process.on('message', this.onMessage);
    this.timer = setInterval(() => {
      sequencer.check().catch((error: unknown) => logger.warn({ err: error }, 'head check failed; retrying'));
    }, this.options.checkMs ?? 1_000);
    this.timer.unref();
    return { epoch: sequencer.epoch, seq: sequencer.last };
  }

  published(event: NewsEvent, epoch: string): void {
    this.sequencer?.offer(event, epoch);
    if (!process.connected) return;
    const notice: PublishedNotice = { type: 'newswire:published', epoch, event };
    // A notice that cannot be sent is not lost for long: the others' head checks find the event.
    process.send?.(notice, undefined, undefined, () => {});
  }

  isLive(): boolean {
    return this.sequencer !== null && process.connected === true;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    process.off('message', this.onMessage);
    this.sequencer = null;
  }
}
