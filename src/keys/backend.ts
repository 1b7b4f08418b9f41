// The key store for a log store: in the same SQLite file, or under the same Redis prefix.
import { besideStore } from '../store/beside.ts';
import type { Store } from '../store/store.ts';
import { RedisKeyStore } from './redis.ts';
import { SqliteKeyStore } from './sqlite.ts';
import type { KeyStore } from './store.ts';

export function keyStoreFor(store: Store): KeyStore {
  return besideStore<KeyStore>(store, 'key store', {
    redis: (redis) => new RedisKeyStore(redis.client, redis.prefix, redis.target),
    sqlite: (sqlite) => new SqliteKeyStore(sqlite.file),
  });
}
