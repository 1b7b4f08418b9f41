// A real redis-server on a free port, in a temp folder, that a test can stop,
// restart (with its append-only file) and flush.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { killAll, tempDir } from './server.ts';

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** Runs a redis-cli-like command over a fresh connection. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

export async function startRedis(options: { appendOnly?: boolean; password?: string } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir('newswire-redis-');
  let child: ChildProcess | null = null;
  const redis: TestRedis = {
    port,
    url: options.password ? `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    dir,
    async start() {
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--appendonly', options.appendOnly === false ? 'no' : 'yes', '--appendfsync', 'always',
        ...(options.password ? ['--requirepass', options.password] : []),
      ];
      const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      running.add(proc);
      proc.once('exit', () => running.delete(proc));
      let log = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10_000);
        proc.stdout?.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited with ${code}:\n${log}`));
        });
      });
    },
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    },
  };
  await redis.start();
  return redis;
}

export async function stopAllRedis(): Promise<void> {
  await killAll(running);
}
