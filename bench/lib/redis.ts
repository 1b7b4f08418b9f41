// A private redis-server on a free port (never the shared one on 6379),
// durable the way the embedded store is: every write fsynced.
import { freePort, type Started, startBinary, tempDir } from './spawn.ts';

export async function startRedis(): Promise<Started & { url: string }> {
  const port = await freePort();
  const dir = tempDir('bench-redis-');
  const started = await startBinary(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
    /Ready to accept connections/,
    port,
  );
  return { ...started, url: `redis://127.0.0.1:${port}` };
}
