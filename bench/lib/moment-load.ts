// The orchestrator's side of the reader-rush process (moment-load-worker.ts):
// start it once, then open and close windows of page and feed load.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './spawn.ts';
import type { Latency } from './stats.ts';

export type MomentToLoad =
  | {
      type: 'start';
      /** One per server process; requests go to them in turn. */
      origins: string[];
      pageRate: number;
      feedRate: number;
      topics: string[];
      /** Story pages are drawn from these (ids that exist in the store). */
      storyIds: string[];
      /** Loopback source addresses, apart from the subscribers'. */
      addresses: string[];
    }
  | { type: 'stop' }
  | { type: 'exit' };

export type LoadKind = 'front' | 'topic' | 'story' | 'feed200' | 'feed304';

export interface LoadStats {
  seconds: number;
  pagesSent: number;
  feedsSent: number;
  /** Answers with the expected status (200 for pages, 200 or 304 for feeds). */
  served: number;
  /** Requests that left more than 20 ms after they were due: the load generator fell behind. */
  late: number;
  /** Send time minus due time over every request sent. */
  lagMs?: Latency;
  /** Requests not sent because 1,024 were already in flight. */
  dropped: number;
  unfinished: number;
  /** "kind status" → count, for anything else (404, 429, 5xx, timeouts). */
  errors: Record<string, number>;
  kinds: Record<LoadKind, Latency & { meanBytes: number }>;
  /** Every page answer together, every feed answer together. */
  all: { pages: Latency; feeds: Latency };
}

export type LoadWindow = Omit<Extract<MomentToLoad, { type: 'start' }>, 'type'>;

export class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    const child = fork(join(ROOT, 'bench/lib/moment-load-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      cwd: ROOT,
    });
    const generator = new LoadGenerator(child);
    await generator.reply('hello', 30_000);
    return generator;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async begin(window: LoadWindow): Promise<void> {
    const started = this.reply('started', 10_000);
    this.child.send({ type: 'start', ...window } satisfies MomentToLoad);
    await started;
  }

  async end(): Promise<LoadStats> {
    const stats = this.reply<LoadStats>('stats', 60_000);
    this.child.send({ type: 'stop' } satisfies MomentToLoad);
    return stats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.kill(), 5_000);
    this.child.send({ type: 'exit' } satisfies MomentToLoad);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private reply<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', listen);
        reject(new Error(`load generator sent no ${type} in time`));
      }, timeoutMs);
      const listen = (message: { type: string }) => {
        if (message.type !== type) return;
        clearTimeout(timer);
        this.child.off('message', listen);
        resolve(message as T);
      };
      this.child.on('message', listen);
    });
  }
}
