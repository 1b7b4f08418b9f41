// Redis store and bus, selected by REDIS_URL: several processes sharing one
// Redis act as one server.
import type { Backends } from './app.ts';
import { RedisBus } from './bus/redis.ts';
import type { Config } from './config.ts';
import type { Logger } from './ops/logger.ts';
import type { Metrics } from './ops/metrics.ts';
import { RedisStore, whenReady } from './store/redis.ts';

/** How long a starting process waits for Redis before giving up. */
const START_TIMEOUT_MS = 30_000;

export async function createRedisBackends(config: Config, logger: Logger, metrics: Metrics): Promise<Backends> {
  const url = config.redisUrl;
  if (!url) throw new Error('createRedisBackends needs REDIS_URL');
  const store = new RedisStore({ url, prefix: config.redisKeyPrefix, retention: config.retention });
  const waiting = setTimeout(() => logger.warn('waiting for Redis to accept connections'), 2_000);
  try {
    await whenReady(store.client, START_TIMEOUT_MS);
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    clearTimeout(waiting);
  }
  const bus = new RedisBus({ url, store, logger, metrics });
  return { store, bus };
}
