// Where publisher keys live: beside the log, in the same backend (a table of
// the SQLite file, or hashes under the Redis prefix). Every change bumps a
// version, so each process can tell cheaply whether its copy is current.
import type { StoredKey } from './keys.ts';

export interface KeyStore {
  /** Adds a key; false when the store already holds MAX_KEYS keys. */
  create(key: StoredKey, max: number): Promise<boolean>;
  /** Marks the key revoked (once: a second revoke keeps the first time); null when unknown. */
  revoke(id: string, at: string): Promise<StoredKey | null>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<StoredKey[]>;
  /** A value that changes whenever any key does. */
  version(): Promise<string>;
  /** Called (best effort, possibly on another process) soon after any change. */
  onChange(listener: () => void): void;
  close(): Promise<void>;
}
