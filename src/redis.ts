// Redis store and bus, selected by REDIS_URL.
import type { Backends } from './app.ts';
import { ConfigError, type Config } from './config.ts';
import type { Logger } from './ops/logger.ts';
import type { Metrics } from './ops/metrics.ts';

export async function createRedisBackends(_config: Config, _logger: Logger, _metrics: Metrics): Promise<Backends> {
  throw new ConfigError(['REDIS_URL: the Redis backend is not built yet']);
}
