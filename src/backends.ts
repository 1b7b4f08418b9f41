// The store and the bus: the embedded default, or Redis when REDIS_URL is
// set. Several processes sharing one Redis act as one server.
import { LocalBus } from './bus/local.ts';
import type { Bus } from './bus/bus.ts';
import { RedisBus } from './bus/redis.ts';
import { type Config, StartupError } from './config.ts';
import type { Logger } from './ops/logger.ts';
import type { Metrics } from './ops/metrics.ts';
import type { Outbox } from './outbound/outbox.ts';
import { RedisOutbox } from './outbound/outbox-redis.ts';
import { SqliteOutbox } from './outbound/outbox-sqlite.ts';
import { describeStoreProblem, RedisStore, whenReady } from './store/redis.ts';
import { SqliteStore } from './store/sqlite.ts';
import type { Store } from './store/store.ts';

export interface Backends {
  store: Store;
  bus: Bus;
  /** Outbound deliveries (push, WebSub), kept beside the log. */
  outbox: Outbox;
}

export async function createBackends(config: Config, logger: Logger, metrics: Metrics): Promise<Backends> {
  if (config.redisUrl) return createRedisBackends(config.redisUrl, config, logger, metrics);
  let store: SqliteStore;
  try {
    store = new SqliteStore({ dataDir: config.dataDir, retention: config.retention });
  } catch (error) {
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
    throw new StartupError(`DATA_DIR: cannot open the store in "${config.dataDir}" (${reason}): it must be a folder this process can write`);
  }
  return { store, bus: new LocalBus(store), outbox: new SqliteOutbox(store.file) };
}

async function createRedisBackends(url: string, config: Config, logger: Logger, metrics: Metrics): Promise<Backends> {
  const store = new RedisStore({ url, prefix: config.redisKeyPrefix, retention: config.retention });
  const where = redact(url);
  const waiting = setTimeout(() => logger.warn({ redis: where }, 'waiting for Redis to accept connections'), 2_000);
  try {
    await whenReady(store.client, config.redisConnectTimeoutMs);
  } catch (error) {
    await store.close();
    throw new StartupError(`REDIS_URL: ${describeStoreProblem(error)} (${where})`);
  } finally {
    clearTimeout(waiting);
  }
  const bus = new RedisBus({ url, store, logger, metrics });
  return { store, bus, outbox: new RedisOutbox(store.client, config.redisKeyPrefix) };
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
