// WORKERS > 1: this process forks the server processes and serves nothing
// itself. The cluster module spreads connections over the workers behind one
// port. The primary relays each worker's "published" notice to the others
// (the embedded store's bus, src/bus/ipc.ts), replaces a worker that dies
// (with backoff while they keep dying), drains them all on SIGTERM/SIGINT,
// and on SIGHUP replaces them one by one without ever closing the port.
import cluster, { type Address, type Worker } from 'node:cluster';
import { openEmbeddedStore } from '../backends.ts';
import { isPublishedNotice } from '../bus/ipc.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../ops/logger.ts';
import { drainOnSignals, exitOnStartupError, localUrl } from '../ops/process.ts';
import { SqliteOutbox } from '../outbound/outbox-sqlite.ts';

/** A worker that lived this long before dying was not crash-looping. */
const STABLE_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** After the grace period, how long the primary waits for workers before killing them. */
const STOP_MARGIN_MS = 5_000;

export class Supervisor {
  /** Workers that should be running and serving. */
  private readonly serving = new Set<Worker>();
  /** Workers told to drain: their exit is expected. */
  private readonly retiring = new Set<Worker>();
  private readonly startedAt = new Map<Worker, number>();
  private stopping = false;
  private consecutiveCrashes = 0;
  private replacing = new Set<NodeJS.Timeout>();
  private rolling: Promise<void> | null = null;
  private rollAgain = false;

  constructor(
    private readonly options: { count: number; shutdownGraceMs: number; env: Record<string, string>; logger: Logger },
  ) {
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
  }

  /** Forks every worker; resolves once all listen, rejects with the exit code of one that could not start. */
  async start(): Promise<Address> {
    const workers = Array.from({ length: this.options.count }, () => this.fork());
    try {
      const addresses = await Promise.all(workers.map((worker) => this.listening(worker)));
      return addresses[0] as Address;
    } catch (error) {
      this.stopping = true;
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
      throw error;
    }
  }

  get pids(): number[] {
    return [...this.serving].map((worker) => worker.process.pid ?? 0);
  }

  private fork(): Worker {
    const worker = cluster.fork(this.options.env);
    this.serving.add(worker);
    this.startedAt.set(worker, Date.now());
    worker.on('message', (message: unknown) => {
      if (!isPublishedNotice(message)) return;
      // Draining and starting workers too: they still have readers, or are about to.
      for (const other of Object.values(cluster.workers ?? {})) {
        if (other && other !== worker && other.isConnected()) other.send(message, undefined, () => {});
      }
    });
    this.options.logger.info({ worker: worker.id, pid: worker.process.pid }, 'worker started');
    return worker;
  }

  /** Resolves when the worker listens; rejects if it exits first. */
  private listening(worker: Worker): Promise<Address> {
    return new Promise((resolve, reject) => {
      const onListening = (address: Address) => {
        worker.off('exit', onExit);
        resolve(address);
      };
      const onExit = (code: number | null, signal: string | null) => {
        worker.off('listening', onListening);
        reject(new WorkerStartError(worker.id, code, signal));
      };
      worker.once('listening', onListening);
      worker.once('exit', onExit);
    });
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const lived = Date.now() - (this.startedAt.get(worker) ?? 0);
    this.startedAt.delete(worker);
    const expected = this.retiring.delete(worker) || !this.serving.has(worker);
    this.serving.delete(worker);
    if (expected || this.stopping) {
      this.options.logger.info({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker stopped');
      return;
    }
    this.consecutiveCrashes = lived >= STABLE_MS ? 0 : this.consecutiveCrashes + 1;
    const delayMs = this.consecutiveCrashes === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.consecutiveCrashes - 1));
    this.options.logger.error(
      { worker: worker.id, pid: worker.process.pid, code, signal, livedMs: lived, replaceInMs: delayMs },
      'worker died: starting another',
    );
    const timer = setTimeout(() => {
      this.replacing.delete(timer);
      if (this.stopping) return;
      const fresh = this.fork();
      // A replacement that cannot start is itself a death: its exit schedules the next try.
      this.listening(fresh).then(
        (address) => this.options.logger.info({ worker: fresh.id, pid: fresh.process.pid, port: address.port }, 'worker replaced'),
        () => {},
      );
    }, delayMs);
    this.replacing.add(timer);
  }

  /** SIGHUP: for each worker, a new one is started and listening before the old one drains. */
  rollingRestart(): Promise<void> {
    if (this.rolling) {
      this.rollAgain = true;
      return this.rolling;
    }
    this.rolling = (async () => {
      try {
        do {
          this.rollAgain = false;
          this.options.logger.info({ workers: this.serving.size }, 'rolling restart');
          for (const old of [...this.serving]) {
            if (this.stopping) return;
            if (!this.serving.has(old)) continue;
            const fresh = this.fork();
            try {
              await this.listening(fresh);
            } catch (error) {
              if (this.stopping) return;
              // The old one keeps serving: a bad release must not empty the machine.
              this.options.logger.error({ err: error }, 'rolling restart stopped: a new worker could not start');
              return;
            }
            await this.retire(old);
          }
          this.options.logger.info({ pids: this.pids }, 'rolling restart done');
        } while (this.rollAgain && !this.stopping);
      } finally {
        this.rolling = null;
      }
    })();
    return this.rolling;
  }

  /** Drains one worker (SIGTERM) and waits for its exit. */
  private retire(worker: Worker): Promise<void> {
    this.serving.delete(worker);
    this.retiring.add(worker);
    return this.terminate(worker);
  }

  private terminate(worker: Worker): Promise<void> {
    if (worker.isDead()) return Promise.resolve();
    return new Promise((resolve) => {
      const killer = setTimeout(() => worker.process.kill('SIGKILL'), this.options.shutdownGraceMs + STOP_MARGIN_MS);
      worker.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      worker.process.kill('SIGTERM');
    });
  }

  /** Drains every worker at once; resolves when all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.replacing) clearTimeout(timer);
    this.replacing.clear();
    const all = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    await Promise.all(all.map((worker) => this.terminate(worker)));
  }
}

export class WorkerStartError extends Error {
  constructor(
    readonly worker: number,
    readonly code: number | null,
    readonly signal: string | null,
  ) {
    super(`worker ${worker} exited before it listened (${signal ?? `code ${code}`})`);
    this.name = 'WorkerStartError';
  }
}

/**
 * Everything the workers must find done before they start: the embedded
 * store's schema, migrations and epoch are made here, once, by the primary.
 */
export function prepareSharedStore(config: Config): void {
  if (config.redis.target) return;
  const store = openEmbeddedStore(config);
  try {
    new SqliteOutbox(store.file).close();
  } finally {
    void store.close();
  }
}

/** The primary's life: prepare, fork, relay, supervise, drain. Exits the process. */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  try {
    prepareSharedStore(config);
  } catch (error) {
    exitOnStartupError(error);
  }
  // Every worker must accept the same token: a token made up for this run is made once, here.
  const env: Record<string, string> = { PUBLISHER_TOKENS: config.publisherTokens.join(',') };
  const supervisor = new Supervisor({ count: config.workers, shutdownGraceMs: config.shutdownGraceMs, env, logger });
  const signals = drainOnSignals(logger, 'draining every worker', () => supervisor.stop());
  process.on('SIGHUP', () => {
    if (!signals.stopping) void supervisor.rollingRestart();
  });

  let address: Address;
  try {
    address = await supervisor.start();
  } catch (error) {
    if (signals.stopping) return;
    const code = error instanceof WorkerStartError && error.code ? error.code : 1;
    logger.error({ err: error }, 'cannot start the workers');
    process.exit(code);
  }
  const local = localUrl(address);
  logger.info(
    { port: address.port, workers: config.workers, pids: supervisor.pids, store: config.redis.target ? 'redis' : 'sqlite', url: local },
    'listening',
  );
  if (config.generatedToken) printTokenBanner(config.publisherTokens[0] ?? '', local);
}

export function printTokenBanner(token: string, local: string): void {
  process.stderr.write(
    `\nNo PUBLISHER_TOKENS set: this run accepts the publisher token\n\n    ${token}\n\n` +
      `It may do everything, making scoped keys too (POST /api/v1/keys). Publish a first item:\n\n` +
      `    curl -X POST ${local}/api/v1/items \\\n      -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' \\\n` +
      `      -d '{"headline":"Hello from the newsroom","topics":["world"],"priority":"bulletin"}'\n\n` +
      `Reader page: ${local}/   Feeds: ${local}/feeds/all.rss\n\n`,
  );
}
