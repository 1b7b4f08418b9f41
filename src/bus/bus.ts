// Fan-out between the log and the hubs of every process.
import type { NewsEvent } from '../domain/event.ts';

export interface BusSink {
  /** Events in strictly increasing seq order, each once. */
  event(event: NewsEvent, epoch: string): void;
  /** The log was replaced (new epoch): everything a client holds is stale. */
  reset(epoch: string, headSeq: number): void;
}

export interface Bus {
  readonly kind: 'local' | 'redis' | 'ipc';
  /** Starts following the log; returns where fan-out begins. */
  start(sink: BusSink): Promise<{ epoch: string; seq: number }>;
  /** The writer calls this once the log holds the event. */
  published(event: NewsEvent, epoch: string): void;
  /** True while events flow to this process without a known gap. */
  isLive(): boolean;
  close(): Promise<void>;
}
