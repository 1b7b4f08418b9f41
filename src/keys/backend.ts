// The key store for a log store: in the same SQLite file, or under the same Redis prefix.
import { RedisStore } from '../store/redis.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { Store } from '../store/store.ts';
import { RedisKeyStore } from './redis.ts';
import { SqliteKeyStore } from './sqlite.ts';
import type { KeyStore } from './store.ts';

export function keyStoreFor(store: Store): KeyStore {
  if (store instanceof RedisStore) return new RedisKeyStore(store.client, store.prefix, store.target);
  if (store instanceof SqliteStore) return new SqliteKeyStore(store.file);
  throw new Error(`no key store for a ${store.kind} store`);
}
