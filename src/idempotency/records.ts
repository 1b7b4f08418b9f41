// What each Idempotency-Key of a publisher key was used for, and what the
// write it named answered: kept beside the log (a table in the embedded
// store's file, or keys under the Redis prefix) so a retry on any process,
// or after a restart, gets the first outcome.
import type Database from 'better-sqlite3';
import type { Logger } from '../ops/logger.ts';
import { besideStore } from '../store/beside.ts';
import { redisCall, Script } from '../store/redis.ts';
import type { RedisClient } from '../store/redis-target.ts';
import { openSqlite } from '../store/sqlite-file.ts';
import type { Store } from '../store/store.ts';

/** A finished write's answer, replayed as it was sent. */
export interface StoredAnswer {
  status: number;
  body: string;
  location?: string;
}

/** A key in use: `answer` once its write has finished, none while it runs. */
export interface IdempotencyRecord {
  fingerprint: string;
  answer?: StoredAnswer;
}

export interface IdempotencyRecords {
  /**
   * Takes `key` for a request with this fingerprint for `leaseMs`; returns
   * null when taken, or the record that holds it (another request with it
   * running, or finished).
   */
  claim(key: string, fingerprint: string, leaseMs: number): Promise<IdempotencyRecord | null>;
  /** Keeps the answer of the request that took `key`, for `keepMs`. */
  finish(key: string, fingerprint: string, answer: StoredAnswer, keepMs: number): Promise<void>;
  /** Lets `key` go while unfinished (the write's outcome is unknown, or it was not made): a retry runs again. */
  release(key: string, fingerprint: string): Promise<void>;
  /** Forgets what expired; returns how many. */
  trim(now?: number): Promise<number>;
  close(): Promise<void>;
}

interface Row {
  fingerprint: string;
  answer: string | null;
  expires_ms: number;
}

export class SqliteIdempotencyRecords implements IdempotencyRecords {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly claimTx;

  constructor(file: string) {
    // NORMAL: a record lost to a power cut costs a retry its replay, not its
    // safety (a publish without an id takes one made from the key).
    this.db = openSqlite(file, 'NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS idempotency_keys (
      key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      answer TEXT,
      expires_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_ms);`);
    this.stmt = {
      get: this.db.prepare<[string], Row>('SELECT fingerprint, answer, expires_ms FROM idempotency_keys WHERE key = ?'),
      put: this.db.prepare('INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, answer, expires_ms) VALUES (?, ?, ?, ?)'),
      finish: this.db.prepare('UPDATE idempotency_keys SET answer = ?, expires_ms = ? WHERE key = ? AND fingerprint = ? AND answer IS NULL'),
      release: this.db.prepare('DELETE FROM idempotency_keys WHERE key = ? AND fingerprint = ? AND answer IS NULL'),
      trim: this.db.prepare('DELETE FROM idempotency_keys WHERE expires_ms <= ?'),
    };
    this.claimTx = this.db.transaction((key: string, fingerprint: string, leaseMs: number): IdempotencyRecord | null => {
      const now = Date.now();
      const row = this.stmt.get.get(key);
      if (row && row.expires_ms > now) return { fingerprint: row.fingerprint, ...(row.answer ? { answer: JSON.parse(row.answer) as StoredAnswer } : {}) };
      this.stmt.put.run(key, fingerprint, null, now + leaseMs);
      return null;
    });
  }

  async claim(key: string, fingerprint: string, leaseMs: number): Promise<IdempotencyRecord | null> {
    // IMMEDIATE: two processes (WORKERS) claiming one key take turns.
    return this.claimTx.immediate(key, fingerprint, leaseMs);
  }

  async finish(key: string, fingerprint: string, answer: StoredAnswer, keepMs: number): Promise<void> {
    this.stmt.finish.run(JSON.stringify(answer), Date.now() + keepMs, key, fingerprint);
  }

  async release(key: string, fingerprint: string): Promise<void> {
    this.stmt.release.run(key, fingerprint);
  }

  async trim(now = Date.now()): Promise<number> {
    return this.stmt.trim.run(now).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

// The store's script runner passes the key as KEYS[1] and again as ARGV[1].
// Lets a key go only while it is still the unfinished claim of this fingerprint.
const RELEASE = new Script(`
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local record = cjson.decode(value)
if record.fingerprint == ARGV[2] and record.answer == nil then return redis.call('DEL', KEYS[1]) end
return 0`);

// Keeps the answer only on this fingerprint's unfinished claim.
const FINISH = new Script(`
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local record = cjson.decode(value)
if record.fingerprint ~= ARGV[2] or record.answer ~= nil then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1`);

/** `${prefix}:idem:<key>`: one string each, expiring by itself. */
export class RedisIdempotencyRecords implements IdempotencyRecords {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(key: string): string {
    return `${this.prefix}:idem:${key}`;
  }

  async claim(key: string, fingerprint: string, leaseMs: number): Promise<IdempotencyRecord | null> {
    const name = this.key(key);
    const taken = await redisCall(() => this.client.set(name, JSON.stringify({ fingerprint }), 'PX', leaseMs, 'NX'));
    if (taken === 'OK') return null;
    const value = await redisCall(() => this.client.get(name));
    // Gone between the two: it expired or was let go; take it now.
    if (value === null) return this.claim(key, fingerprint, leaseMs);
    return JSON.parse(value) as IdempotencyRecord;
  }

  async finish(key: string, fingerprint: string, answer: StoredAnswer, keepMs: number): Promise<void> {
    const record: IdempotencyRecord = { fingerprint, answer };
    await redisCall(() => FINISH.run(this.client, [this.key(key), fingerprint, JSON.stringify(record), keepMs]));
  }

  async release(key: string, fingerprint: string): Promise<void> {
    await redisCall(() => RELEASE.run(this.client, [this.key(key), fingerprint]));
  }

  async trim(): Promise<number> {
    return 0; // Redis expires them itself.
  }

  async close(): Promise<void> {
    // The store owns the connection.
  }
}

/** How often expired records are forgotten (SQLite; Redis expires them itself). */
const TRIM_EVERY_MS = 10 * 60_000;

/** The records beside the log of `store`, with a timer that forgets expired ones; `close` ends both. */
export function idempotencyRecordsFor(store: Store, logger: Logger): { records: IdempotencyRecords; close(): Promise<void> } {
  const records = besideStore<IdempotencyRecords>(store, 'idempotency records', {
    redis: (redis) => new RedisIdempotencyRecords(redis.client, redis.prefix),
    sqlite: (sqlite) => new SqliteIdempotencyRecords(sqlite.file),
  });
  const timer = setInterval(() => {
    records.trim().catch((error: unknown) => logger.warn({ err: error }, 'idempotency records trim failed'));
  }, TRIM_EVERY_MS);
  timer.unref();
  return {
    records,
    async close() {
      clearInterval(timer);
      await records.close();
    },
  };
}
