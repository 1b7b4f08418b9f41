// The store and the bus: the embedded default, or Redis when REDIS_URL (or
// REDIS_SENTINELS, or REDIS_CLUSTER_NODES) is set. Several processes sharing
// one Redis act as one server.
import cluster from 'node:cluster';
import { LocalBus } from './bus/local.ts';
import type { Bus } from './bus/bus.ts';
import { IpcBus } from './bus/ipc.ts';
import { RedisBus } from './bus/redis.ts';
import { type Config, StartupError } from './config.ts';
import type { Logger } from './ops/logger.ts';
import type { Metrics } from './ops/metrics.ts';
import type { Outbox } from './outbound/outbox.ts';
import { RedisOutbox } from './outbound/outbox-redis.ts';
import { SqliteOutbox } from './outbound/outbox-sqlite.ts';
import { describeStoreProblem, RedisStore, whenReady } from './store/redis.ts';
import { describeTarget, type RedisTarget, targetVariable } from './store/redis-target.ts';
import { SqliteStore } from './store/sqlite.ts';
import type { Store } from './store/store.ts';

export interface Backends {
  store: Store;
  bus: Bus;
  /** Outbound deliveries (push, WebSub), kept beside the log. */
  outbox: Outbox;
}

export async function createBackends(config: Config, logger: Logger, metrics: Metrics): Promise<Backends> {
  if (config.redis.target) return createRedisBackends(config.redis.target, config, logger, metrics);
  const store = openEmbeddedStore(config);
  // Workers of one machine (WORKERS > 1) share the file and hear of each other's writes through the primary.
  const bus = cluster.isWorker ? new IpcBus({ store, logger, metrics }) : new LocalBus(store);
  return { store, bus, outbox: new SqliteOutbox(store.file) };
}

/** The embedded store in DATA_DIR; a folder it cannot use stops the start with a message that says so. */
export function openEmbeddedStore(config: Config): SqliteStore {
  try {
    return new SqliteStore({ dataDir: config.dataDir, retention: config.retention });
  } catch (error) {
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
    throw new StartupError(`DATA_DIR: cannot open the store in "${config.dataDir}" (${reason}): it must be a folder this process can write`);
  }
}

async function createRedisBackends(target: RedisTarget, config: Config, logger: Logger, metrics: Metrics): Promise<Backends> {
  const { minReplicas, waitMs } = config.redis;
  const store = new RedisStore({ target, prefix: config.redisKeyPrefix, retention: config.retention, minReplicas, waitMs });
  const where = describeTarget(target);
  const waiting = setTimeout(() => logger.warn({ redis: where }, 'waiting for Redis to accept connections'), 2_000);
  try {
    await whenReady(store.client, config.redisConnectTimeoutMs);
  } catch (error) {
    await store.close();
    throw new StartupError(`${targetVariable(target)}: ${describeStoreProblem(error)} (${where})`);
  } finally {
    clearTimeout(waiting);
  }
  const short = await store.missingReplicas().catch(() => null);
  if (short) logger.warn(short, 'REDIS_MIN_REPLICAS: the primary has fewer replicas than required: writes are answered 503 until enough are connected');
  const bus = new RedisBus({ store, logger, metrics });
  // The store's prefix: hash-tagged in a cluster, so outbox keys share the log's slot.
  return { store, bus, outbox: new RedisOutbox(store.client, store.prefix) };
}
