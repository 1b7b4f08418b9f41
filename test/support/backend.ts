// TEST_BACKEND=redis: every server that startServer() makes runs on a shared
// redis-server instead of SQLite, so the core contract tests check the Redis
// backend too. The data folder still names the store: each folder gets its
// own key prefix (kept in a file inside it), so a restart on the same folder
// finds the same log, and a lost folder means a new, empty log.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, type TestRedis } from './redis.ts';

let shared: Promise<TestRedis> | null = null;


/** REDIS_URL and REDIS_KEY_PREFIX for a server on `dataDir`. */
export async function redisBackendEnv(dataDir: string): Promise<Record<string, string>> {
  shared ??= startRedis();
  const redis = await shared;
  mkdirSync(dataDir, { recursive: true });
  const marker = join(dataDir, 'redis-key-prefix');
  if (!existsSync(marker)) writeFileSync(marker, `t${randomBytes(6).toString('hex')}`);
  return { REDIS_URL: redis.url, REDIS_KEY_PREFIX: readFileSync(marker, 'utf8').trim() };
}

export async function stopRedisBackend(): Promise<void> {
  const redis = shared;
  shared = null;
  if (redis) await (await redis).stop();
}

/** The stores a server can run on, for the tests that check both. */
export type StoreKind = 'sqlite' | 'redis';
export const STORES: StoreKind[] = ['sqlite', 'redis'];

/**
 * The settings for a server on `store`: SQLite needs none; Redis gets a
 * redis-server of its own, without persistence (stopAllRedis stops it), and
 * `prefix` for its keys.
 */
export async function storeEnv(store: StoreKind, prefix: string): Promise<Record<string, string>> {
  if (store === 'sqlite') return {};
  const redis = await startRedis({ appendOnly: false });
  return { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix };
}
