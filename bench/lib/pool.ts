// The orchestrator's side of the client workers: forks K processes, spreads
// N subscribers over them, and gathers what they measured.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './spawn.ts';
import type { ToWorker, WorkerStats } from './worker-protocol.ts';

type FromWorker = { type: string; [key: string]: unknown };

/** Loopback source addresses: each gives its own range of ephemeral ports. */
export function addresses(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${from + i}`);
}

class Worker {
  private readonly waiters: { type: string; resolve: (m: FromWorker) => void }[] = [];
  readonly done = new Set<number>();
  onDone: ((n: number) => void) | null = null;
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve) => {
      child.on('message', (message: FromWorker) => {
        if (message.type === 'hello') resolve();
        if (message.type === 'done') {
          this.done.add(message.n as number);
          this.onDone?.(message.n as number);
        }
        const index = this.waiters.findIndex((w) => w.type === message.type);
        if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(message);
      });
    });
  }

  request<T extends FromWorker>(message: ToWorker, reply: string, timeoutMs = 300_000): Promise<T> {
    const answer = this.wait<T>(reply, timeoutMs);
    this.child.send(message);
    return answer;
  }

  wait<T extends FromWorker>(reply: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker sent no ${reply} in time`)), timeoutMs);
      this.waiters.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
  }
}

/** What the workers counted, merged: per event, the earliest arrival over all subscribers (ms). */
export type Delivery = Omit<WorkerStats, 'type' | 'firsts'> & { firsts: number[] };

export class ClientPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(count: number): Promise<ClientPool> {
    const workers = Array.from({ length: count }, () => {
      const child = fork(join(ROOT, 'bench/client-worker.ts'), [], {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        cwd: ROOT,
      });
      return new Worker(child);
    });
    await Promise.all(workers.map((w) => w.ready));
    return new ClientPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid as number);
  }

  /** Connects `total` subscribers, split evenly; worker k uses its own source addresses. */
  async connect(
    protocol: 'ws' | 'sio' | 'sse',
    urls: string[],
    total: number,
    options: { concurrency?: number; addressBase?: number } = {},
  ): Promise<{ ok: number; failed: number; ms: number }> {
    const share = this.split(total);
    let offset = 0;
    const replies = await Promise.all(
      this.workers.map((w, k) => {
        const count = share[k] as number;
        const message: ToWorker = {
          type: 'connect',
          protocol,
          urls,
          count,
          offset,
          addresses: addresses((options.addressBase ?? 10) + k * 4, 4),
          concurrency: options.concurrency ?? 64,
        };
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

  /** Starts a measurement run; returns how many subscribers are open. */
  async beginRun(run: string, expectPerSub?: number): Promise<number> {
    for (const w of this.workers) w.done.clear();
    const replies = await Promise.all(this.workers.map((w) => w.request<FromWorker>({ type: 'run', run, expectPerSub }, 'ready')));
    return replies.reduce((n, r) => n + (r.open as number), 0);
  }

  /**
   * Resolves once every worker has seen event n (or every event 1..n, with
   * `all`) on every open subscriber; false on timeout. Overlapping publishes
   * may reach the log in another order than they were numbered, so the last
   * number done does not mean all are.
   */
  waitDelivered(n: number, timeoutMs: number, all = false): Promise<boolean> {
    const isDone = (w: Worker) => {
      if (!all) return w.done.has(n);
      for (let i = 1; i <= n; i++) if (!w.done.has(i)) return false;
      return true;
    };
    return new Promise((resolve) => {
      const check = () => {
        if (this.workers.every(isDone)) {
          clearTimeout(timer);
          for (const w of this.workers) w.onDone = null;
          resolve(true);
        }
      };
      const timer = setTimeout(() => {
        for (const w of this.workers) w.onDone = null;
        resolve(false);
      }, timeoutMs);
      for (const w of this.workers) w.onDone = check;
      check();
    });
  }

  async stats(): Promise<Delivery> {
    const replies = await Promise.all(this.workers.map((w) => w.request<WorkerStats & FromWorker>({ type: 'stats' }, 'stats')));
    const total = replies.reduce((n, r) => n + r.latencies.length, 0);
    const latencies = new Float64Array(total);
    let at = 0;
    const closeCodes: Record<string, number> = {};
    const firsts = new Map<number, number>();
    for (const r of replies) {
      for (const [n, ms] of r.firsts) firsts.set(n, Math.min(ms, firsts.get(n) ?? ms));
      latencies.set(r.latencies, at);
      at += r.latencies.length;
      for (const [code, count] of Object.entries(r.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + count;
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
      closeCodes,
    };
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'disconnect' }, 'disconnected')));
  }

  /** Every subscriber reconnects at once with its cursor; resolves when all hold `expectPerSub` events. */
  async storm(
    run: string,
    expectPerSub: number,
    timeoutMs: number,
    options: { concurrency?: number; addressBase?: number } = {},
  ): Promise<{ ms: number | null; connectMs: number; resumed: number; retries: number; connected: number }> {
    const done = this.workers.map((w) => w.wait<FromWorker>('storm-done', timeoutMs).catch(() => null));
    const connected = await Promise.all(
      this.workers.map((w, k) =>
        w.request<FromWorker>(
          {
            type: 'storm',
            run,
            expectPerSub,
            addresses: addresses((options.addressBase ?? 50) + k * 4, 4),
            concurrency: options.concurrency ?? 100_000,
          },
          'storm-connected',
          timeoutMs,
        ),
      ),
    );
    const finished = await Promise.all(done);
    const ok = finished.every((f) => f !== null);
    return {
      ms: ok ? Math.max(...finished.map((f) => (f as FromWorker).ms as number)) : null,
      connectMs: Math.max(...connected.map((c) => c.ms as number)),
      resumed: ok ? finished.reduce((n, f) => n + ((f as FromWorker).resumed as number), 0) : 0,
      retries: connected.reduce((n, c) => n + ((c.retries as number | undefined) ?? 0), 0),
      connected: connected.reduce((n, c) => n + ((c.ok as number | undefined) ?? 0), 0),
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

  private split(total: number): number[] {
    const base = Math.floor(total / this.workers.length);
    return this.workers.map((_, k) => base + (k < total % this.workers.length ? 1 : 0));
  }
}
