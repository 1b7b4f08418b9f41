// Messages between the orchestrator and its client worker processes.

export type ToWorker =
  | {
      type: 'connect';
      protocol: 'ws' | 'sio' | 'sse';
      urls: string[];
      count: number;
      /** Spreads subscribers over the URLs the same way in every worker. */
      offset: number;
      /** Source addresses on the loopback, so ephemeral ports do not run out. */
      addresses: string[];
      concurrency: number;
    }
  /** Starts a measurement: counters reset, each subscriber expects events 1, 2, … of `run`. */
  | { type: 'run'; run: string; expectPerSub?: number }
  | { type: 'stats' }
  | { type: 'disconnect' }
  /** Everyone reconnects at once with the cursor it last held. */
  | { type: 'storm'; run: string; expectPerSub: number; addresses: string[]; concurrency: number }
  | { type: 'exit' };

export interface WorkerStats {
  type: 'stats';
  latencies: Float64Array;
  /** [event number, earliest latency] */
  firsts: [number, number][];
  received: number;
  complete: number;
  gaps: number;
  dups: number;
  stray: number;
  open: number;
  closeCodes: Record<string, number>;
}
