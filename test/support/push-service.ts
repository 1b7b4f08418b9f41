// A local Web Push service (web-push-testing) on a free port: it checks
// VAPID signatures, decrypts payloads and keeps what each subscription got.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis.ts';

const SERVER = fileURLToPath(new URL('../../node_modules/web-push-testing/src/bin/server.js', import.meta.url));
const running = new Set<ChildProcess>();

export interface PushService {
  url: string;
  /** A browser-like subscription for this application server key. */
  subscribe(applicationServerKey: string): Promise<{ endpoint: string; keys: { p256dh: string; auth: string }; clientHash: string }>;
  /** What one subscription received, decrypted, oldest first. */
  messages(clientHash: string): Promise<Record<string, any>[]>;
  /** The push service forgets the subscription: later pushes get 410. */
  expire(clientHash: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPushService(): Promise<PushService> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`push service did not start:\n${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`push service exited with ${code}:\n${output}`)));
  });
  const url = `http://localhost:${port}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`push service ${path}: ${res.status} ${text}`);
    return res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {};
  };
  return {
    url,
    async subscribe(applicationServerKey) {
      // It takes form-style strings, as its own client library sends them.
      return (await post('/subscribe', { userVisibleOnly: 'true', applicationServerKey })).data;
    },
    async messages(clientHash) {
      const { data } = await post('/get-notifications', { clientHash });
      return (data.messages as string[]).map((text) => JSON.parse(text));
    },
    async expire(clientHash) {
      await post(`/expire-subscription/${clientHash}`, {});
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

export async function stopPushServices(): Promise<void> {
  for (const child of running) child.kill('SIGKILL');
}
