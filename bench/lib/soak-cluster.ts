// The system under a soak: one redis-server with its append-only file and N
// server processes on it. Each keeps its port (and Redis its folder) across
// restarts, so a restarted process comes back where clients look for it.
// Every process start is a "life" (soak-lives.ts).
import { Redis } from 'ioredis';
import { type Life, Lives, signal, waitGone } from './soak-lives.ts';
import { freePort, startBinary, startTs, tempDir } from './spawn.ts';
import { sleep } from './stats.ts';

/** 32 characters: the server wants at least 16. */
export const SOAK_TOKEN = 'soak-publisher-token-0123456789a';

/** Limits per address set far out of reach: every client of the soak comes from 127.0.0.1. */
const SERVER_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  PUBLISHER_TOKENS: SOAK_TOKEN,
  PUBLIC_URL: 'http://127.0.0.1',
  LOG_LEVEL: 'warn',
  WS_RATE_PER_10S: '100000',
  PUBLISH_RATE_PER_MINUTE: '1000000',
  MAX_CONNECTIONS_PER_ADDRESS: '100000',
  CONNECTIONS_PER_SECOND_PER_ADDRESS: '100000',
  HTTP_RATE_PER_10S: '1000000',
  AUTH_FAILURES_PER_MINUTE: '100000',
  SHUTDOWN_GRACE_SECONDS: '2',
};

/** redis-server with AOF and appendfsync always: a SIGKILL loses nothing acknowledged. */
export class SoakRedis extends Lives {
  readonly dir = tempDir('soak-redis-');
  port = 0;
  paused = false;
  private crashing = false;
  protected override readonly jsonLog = false;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction');
    this.born(await startBinary('redis-server', args, /Ready to accept connections/, this.port));
  }

  /** A crash: no shutdown, no final fsync. */
  async crash(): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    this.crashing = true;
    signal(pid, 'SIGKILL');
    await waitGone(pid, 10_000);
    this.died('sigkill');
    this.crashing = false;
  }

  exitedByItself(): boolean {
    return this.noticeDeath(!this.crashing);
  }

  pause(): void {
    if (this.pid !== null) signal(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.pid !== null) signal(this.pid, 'SIGCONT');
    this.paused = false;
  }

  /** One short-lived connection for a command of our own (CLIENT KILL, reading the log). */
  async admin<T>(use: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1, retryStrategy: () => null, commandTimeout: 20_000 });
    client.on('error', () => {});
    try {
      return await use(client);
    } finally {
      client.disconnect();
    }
  }
}

export class SoakServer extends Lives {
  port = 0;
  /** False from the moment we signal it until it answers /healthz again. */
  up = false;

  constructor(
    readonly index: number,
    /** Its environment; REDIS_URL is filled in once Redis has a port. */
    readonly env: Record<string, string>,
    elapsed: () => number,
  ) {
    super(`server-${index + 1}`, elapsed);
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Starts (or restarts on the same port); a few tries, as a port can be briefly busy. */
  async start(): Promise<void> {
    this.port ||= await freePort();
    let lastError: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        this.born(await startTs('src/main.ts', { ...this.env, PORT: String(this.port) }, this.port));
        this.up = true;
        return;
      } catch (error) {
        lastError = error;
        await sleep(3_000);
      }
    }
    throw new Error(`${this.name} did not start on port ${this.port}: ${String(lastError).slice(0, 2_000)}`);
  }

  /**
   * SIGKILL, or SIGTERM and a drain bounded by `drainMs` (then SIGKILL).
   * Returns how long the process took to exit.
   */
  async stop(sig: 'SIGKILL' | 'SIGTERM', drainMs = 15_000): Promise<number> {
    const pid = this.pid;
    this.up = false;
    if (pid === null) return 0;
    const started = Date.now();
    signal(pid, sig);
    let how = sig.toLowerCase();
    if (!(await waitGone(pid, sig === 'SIGKILL' ? 10_000 : drainMs))) {
      how = 'sigterm-overran';
      signal(pid, 'SIGKILL');
      await waitGone(pid, 10_000);
    }
    const ms = Date.now() - started;
    // The tsx launcher exits with its child; wait for it so the port is free.
    if (this.current) await waitGone(this.current.pid, 5_000);
    this.died(how);
    return ms;
  }

  exitedByItself(): boolean {
    if (!this.noticeDeath(this.up)) return false;
    this.up = false;
    return true;
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.httpUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    } catch {
      return false;
    }
  }
}

export class SoakCluster {
  readonly redis: SoakRedis;
  readonly servers: SoakServer[];
  private readonly t0 = Date.now();
  /** Processes that died without a fault: "<name> life <n> at <s>s". */
  readonly unexpectedExits: string[] = [];

  constructor(count: number) {
    const elapsed = () => this.elapsed();
    this.redis = new SoakRedis('redis', elapsed);
    this.servers = Array.from({ length: count }, (_, i) => new SoakServer(i, { ...SERVER_ENV, DATA_DIR: tempDir('soak-data-') }, elapsed));
  }

  /** Seconds since the soak started, to 0.1 s. */
  elapsed(): number {
    return Math.round((Date.now() - this.t0) / 100) / 10;
  }

  async start(): Promise<void> {
    await this.redis.start();
    for (const server of this.servers) server.env.REDIS_URL = this.redis.url;
    await Promise.all(this.servers.map((s) => s.start()));
  }

  live(): SoakServer[] {
    return this.servers.filter((s) => s.up);
  }

  /** Waits until every running server answers /readyz 200; returns ms waited, or null on timeout. */
  async waitReady(timeoutMs: number): Promise<number | null> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const states = await Promise.all(this.live().map((s) => s.ready()));
      if (states.every(Boolean)) return Date.now() - started;
      await sleep(100);
    }
    return null;
  }

  /** Samples memory and open files, and notices a process that died by itself. */
  sample(clientsOf: (server: SoakServer) => number): void {
    for (const p of [...this.servers, this.redis]) {
      const life = p.lives.at(-1);
      if (p.exitedByItself()) this.unexpectedExits.push(`${p.name} life ${life?.life} (pid ${life?.pid}) at ${this.elapsed()}s`);
    }
    for (const server of this.servers) server.sample(clientsOf(server));
    this.redis.sample();
  }

  /** Brings back whatever is down (before the final check). */
  async restoreAll(): Promise<void> {
    if (this.redis.paused) this.redis.resume();
    if (this.redis.pid === null) await this.redis.start();
    await Promise.all(this.servers.filter((s) => !s.up).map((s) => s.start()));
  }

  lives(): Life[] {
    for (const s of [...this.servers, this.redis]) s.closeLife();
    return [...this.servers.flatMap((s) => s.lives), ...this.redis.lives];
  }
}
