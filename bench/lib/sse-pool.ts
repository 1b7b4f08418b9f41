// The orchestrator's side of the event-stream workers (sse-client-worker.ts):
// forks K processes, spreads N subscribers over them and their loopback
// source addresses, and gathers what they measured. It offers what the
// scenarios use of a ClientPool, so one scenario measures both transports.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { addresses, type Delivery } from './pool.ts';
import { ROOT } from './spawn.ts';
import type { ToWorker, WorkerStats } from './worker-protocol.ts';

type FromWorker = { type: string; [key: string]: unknown };

class StreamWorker {
  readonly done = new Set<number>();
  onDone: (() => void) | null = null;
  private readonly waiters: { type: string; resolve: (m: FromWorker) => void }[] = [];
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve) => {
      child.on('message', (message: FromWorker) => {
        if (message.type === 'hello') resolve();
        if (message.type === 'done') {
          this.done.add(message.n as number);
          this.onDone?.();
        }
        const index = this.waiters.findIndex((w) => w.type === message.type);
        if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(message);
      });
    });
  }

  request<T extends FromWorker>(message: ToWorker, reply: string, timeoutMs = 300_000): Promise<T> {
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker sent no ${reply} in time`)), timeoutMs);
      this.waiters.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
    this.child.send(message);
    return answer;
  }
}

export class SsePool {
  private constructor(private readonly workers: StreamWorker[]) {}

  static async start(count: number): Promise<SsePool> {
    const workers = Array.from(
      { length: count },
      () =>
        new StreamWorker(
          fork(join(ROOT, 'bench/sse-client-worker.ts'), [], {
            execArgv: ['--import', 'tsx'],
            serialization: 'advanced',
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            cwd: ROOT,
          }),
        ),
    );
    await Promise.all(workers.map((w) => w.ready));
    return new SsePool(workers);
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid as number);
  }

  /** Opens `total` streams, split evenly; worker k uses its own source addresses. */
  async connect(urls: string[], total: number, addressBase = 10): Promise<{ ok: number; failed: number; ms: number }> {
    let offset = 0;
    const replies = await Promise.all(
      this.workers.map((w, k) => {
        const count = Math.floor(total / this.workers.length) + (k < total % this.workers.length ? 1 : 0);
        const message: ToWorker = { type: 'connect', protocol: 'ws', urls, count, offset, addresses: addresses(addressBase + k * 4, 4), concurrency: 64 };
        offset += count;
        return w.request<FromWorker>(message, 'connected');
      }),
    );
    return {
      ok: replies.reduce((n, r) => n + (r.ok as number), 0),
      failed: replies.reduce((n, r) => n + (r.failed as number), 0),
      ms: Math.max(...replies.map((r) => r.ms as number)),
    };
  }

  async beginRun(run: string): Promise<number> {
    for (const w of this.workers) w.done.clear();
    const replies = await Promise.all(this.workers.map((w) => w.request<FromWorker>({ type: 'run', run }, 'ready')));
    return replies.reduce((n, r) => n + (r.open as number), 0);
  }

  /** Resolves once every worker has seen event n on every open subscriber; false on timeout. */
  waitDelivered(n: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        for (const w of this.workers) w.onDone = null;
        resolve(ok);
      };
      const check = () => {
        if (this.workers.every((w) => w.done.has(n))) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      for (const w of this.workers) w.onDone = check;
      check();
    });
  }

  async stats(): Promise<Delivery> {
    const replies = await Promise.all(this.workers.map((w) => w.request<WorkerStats & FromWorker>({ type: 'stats' }, 'stats')));
    const latencies = new Float64Array(replies.reduce((n, r) => n + r.latencies.length, 0));
    const firsts = new Map<number, number>();
    let at = 0;
    for (const r of replies) {
      latencies.set(r.latencies, at);
      at += r.latencies.length;
      for (const [n, ms] of r.firsts) firsts.set(n, Math.min(ms, firsts.get(n) ?? ms));
    }
    const sum = (key: 'received' | 'complete' | 'gaps' | 'dups' | 'stray' | 'open') => replies.reduce((n, r) => n + r[key], 0);
    return {
      latencies,
      firsts: [...firsts.values()],
      received: sum('received'),
      complete: sum('complete'),
      gaps: sum('gaps'),
      dups: sum('dups'),
      stray: sum('stray'),
      open: sum('open'),
      closeCodes: {},
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
            w.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.child.send({ type: 'exit' });
          }),
      ),
    );
  }
}
