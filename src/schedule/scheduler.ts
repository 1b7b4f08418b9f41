// Publishes held items when their embargo lifts. Every process runs one: the
// store's release is atomic and succeeds only for an item still held and
// due, so when several processes reach the same item one event is appended,
// and the process that appended it hands it to the bus.
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';

export interface SchedulerOptions {
  store: Store;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  /** How often the store is asked for due items. */
  intervalMs?: number;
  /** Due items read per query. */
  batch?: number;
}

export class Scheduler {
  private readonly intervalMs: number;
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Set while the store cannot be reached, so an outage logs once, not every second. */
  private failing = false;

  constructor(private readonly options: SchedulerOptions) {
    this.intervalMs = options.intervalMs ?? 1_000;
    this.batch = options.batch ?? 100;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    // Anything that fell due while no process was running goes out now.
    void this.tick();
  }

  /** Stops polling and waits for a release in progress, so its event reaches the bus before the bus closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over the due items; a pass still running is not started twice. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.releaseDue().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async releaseDue(): Promise<void> {
    const { store, bus, logger, metrics } = this.options;
    try {
      for (;;) {
        const due = await store.scheduled(this.batch, Date.now());
        let released = 0;
        for (const item of due) {
          if (this.stopped) return;
          const result = await store.release(item.id);
          // Null: another process released it first, it was cancelled, or by the store's clock it is not due yet.
          if (!result) continue;
          released++;
          metrics.publishes.inc({ action: 'release', outcome: 'appended' });
          bus.published(result.event, result.epoch);
          logger.info({ id: item.id, seq: result.event.seq, embargoUntil: item.embargoUntil }, 'embargo lifted: item published');
        }
        // A full batch may hide more; a batch that released nothing would only repeat itself.
        if (due.length < this.batch || released === 0) break;
      }
      if (this.failing) logger.info('scheduled items can be released again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) logger.warn({ err: error }, 'cannot release scheduled items now; retrying every poll');
      this.failing = true;
    }
  }
}
