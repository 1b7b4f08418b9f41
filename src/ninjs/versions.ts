// The last ninjs version taken in for each uri, kept beside the log: a
// replayed or older version is then acknowledged without a new event, across
// restarts and processes. A table in the embedded store's file, or one hash
// under the Redis prefix.
import type Database from 'better-sqlite3';
import { openSqlite } from '../store/sqlite-file.ts';
import type { RedisClient } from '../store/redis-target.ts';

export interface VersionLedger {
  /** The highest version recorded for the uri, or null if none. */
  last(uri: string): Promise<number | null>;
  /** Records the version unless a higher one is already there. */
  record(uri: string, version: number): Promise<void>;
  close(): Promise<void>;
}

export class SqliteVersionLedger implements VersionLedger {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS ninjs_versions (uri TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID');
    this.stmt = {
      last: this.db.prepare<[string], { version: number }>('SELECT version FROM ninjs_versions WHERE uri = ?'),
      record: this.db.prepare(
        `INSERT INTO ninjs_versions (uri, version, updated_ms) VALUES (?, ?, ?)
         ON CONFLICT (uri) DO UPDATE SET version = excluded.version, updated_ms = excluded.updated_ms
         WHERE excluded.version > ninjs_versions.version`,
      ),
    };
  }

  async last(uri: string): Promise<number | null> {
    return this.stmt.last.get(uri)?.version ?? null;
  }

  async record(uri: string, version: number): Promise<void> {
    this.stmt.record.run(uri, version, Date.now());
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** `${prefix}:ninjs-versions`: uri → version. */
export class RedisVersionLedger implements VersionLedger {
  private readonly key: string;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
  ) {
    this.key = `${prefix}:ninjs-versions`;
  }

  async last(uri: string): Promise<number | null> {
    const value = await this.client.hget(this.key, uri);
    return value === null ? null : Number(value);
  }

  async record(uri: string, version: number): Promise<void> {
    // Read, then raise: two pushes of one uri at the same instant are not a
    // newsroom's pattern, and the store's own idempotence covers a replay.
    const last = await this.last(uri);
    if (last === null || version > last) await this.client.hset(this.key, uri, String(version));
  }

  async close(): Promise<void> {
    // The store owns the connection.
  }
}
