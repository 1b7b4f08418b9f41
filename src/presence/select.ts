// Reader counts from this process alone (the embedded store: one process),
// or summed over every process on the same Redis.
import type { Logger } from '../ops/logger.ts';
import type { RedisStore } from '../store/redis.ts';
import type { Store } from '../store/store.ts';
import { type LocalCounts, LocalPresence, type Presence } from './presence.ts';
import { RedisPresence } from './redis.ts';

/** On Redis, under the store's own prefix (a hash tag in a cluster: one slot). */
export function createPresence(store: Store, local: () => LocalCounts, logger: Logger): Presence {
  if (store.kind === 'redis') return new RedisPresence((store as RedisStore).client, (store as RedisStore).prefix, local, logger);
  return new LocalPresence(local);
}
