// The servers under test, each started in its own processes, all driven the
// same way: WebSocket URLs for subscribers, one HTTP publish endpoint.
import { startRedis } from './redis.ts';
import { freePort, type Started, startTs, tempDir } from './spawn.ts';

export type TargetName = 'ours' | 'ours-redis' | 'socketio' | 'socketio-redis' | 'raw-frame' | 'raw-send';
export const TARGETS: TargetName[] = ['ours', 'ours-redis', 'socketio', 'socketio-redis', 'raw-frame', 'raw-send'];

export const TOKEN = 'bench-publisher-token-0123456789';

export interface Target {
  name: TargetName;
  /** ws = plain WebSocket frames; sio = Socket.IO client. */
  protocol: 'ws' | 'sio';
  /** One WebSocket URL per server process; subscribers are spread over them. */
  wsUrls: string[];
  httpUrls: string[];
  /** Launcher pids of the server processes (CPU is summed over their trees). */
  pids: number[];
  /** The processes that hold the connections (for RSS). */
  workerPids: number[];
  /** Redis, when the target uses one: its CPU is reported apart. */
  redisPid: number | null;
  stop(): Promise<void>;
}

export interface TargetOptions {
  processes?: number;
  env?: Record<string, string>;
}

const SERVER_ENV = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'http://127.0.0.1',
  PUBLISHER_TOKENS: TOKEN,
  // The load comes from a handful of loopback addresses: per-address limits would refuse it.
  MAX_CONNECTIONS_PER_ADDRESS: '10000000',
  CONNECTIONS_PER_SECOND_PER_ADDRESS: '10000000',
  HTTP_RATE_PER_10S: '100000000',
  LOG_LEVEL: 'warn',
  WS_RATE_PER_10S: '100000',
  PUBLISH_RATE_PER_MINUTE: '1000000',
  WS_HEARTBEAT_SECONDS: '60',
  SHUTDOWN_GRACE_SECONDS: '2',
};

export async function startTarget(name: TargetName, options: TargetOptions = {}): Promise<Target> {
  const multi = name.endsWith('-redis');
  const processes = options.processes ?? (multi ? 2 : 1);
  const redis = multi || processes > 1 ? await startRedis() : null;
  const started: Started[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      const env: Record<string, string> = { PORT: '0', ...options.env };
      if (redis) env.REDIS_URL = redis.url;
      if (name === 'ours' || name === 'ours-redis') {
        Object.assign(env, SERVER_ENV, { DATA_DIR: tempDir('bench-data-') }, options.env);
        started.push(await startOurs(env));
      } else if (name.startsWith('socketio')) {
        started.push(await startTs('bench/peers/socketio.ts', env));
      } else {
        started.push(await startTs('bench/peers/raw.ts', { ...env, MODE: name === 'raw-send' ? 'send' : 'frame' }));
      }
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    await redis?.stop();
    throw error;
  }
  return {
    name,
    protocol: name.startsWith('socketio') ? 'sio' : 'ws',
    wsUrls: started.map((s) => (name.startsWith('socketio') ? `http://127.0.0.1:${s.port}` : `ws://127.0.0.1:${s.port}/ws?topics=world`)),
    httpUrls: started.map((s) => `http://127.0.0.1:${s.port}`),
    pids: started.map((s) => s.pid),
    workerPids: started.map((s) => s.workerPid),
    redisPid: redis?.pid ?? null,
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
      await redis?.stop();
    },
  };
}

async function startOurs(env: Record<string, string>): Promise<Started> {
  // LOG_LEVEL=warn keeps the "listening" line quiet: choose the port here and poll /healthz.
  const port = await freePort();
  return startTs('src/main.ts', { ...env, PORT: String(port) }, port);
}
