// Parts that keep records beside the log (publisher keys, idempotency
// records, ninjs versions, media, reader counts) keep them in the log's own
// backend: the same SQLite file, or the same Redis under the same prefix.
import { RedisStore } from './redis.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

export function besideStore<T>(store: Store, what: string, make: { sqlite(store: SqliteStore): T; redis(store: RedisStore): T }): T {
  if (store instanceof RedisStore) return make.redis(store);
  if (store instanceof SqliteStore) return make.sqlite(store);
  throw new Error(`no ${what} for a ${store.kind} store`);
}
