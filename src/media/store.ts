// Uploaded media beside the log: a table in the embedded store's database
// file, or keys under the Redis prefix. A file is found by the name it is
// served under and by the id its sender gave it (Superdesk asks by its id).
import type Database from 'better-sqlite3';
import { openSqlite } from '../store/sqlite-file.ts';
import type { RedisClient } from '../store/redis-target.ts';
import { shortHash } from '../domain/item.ts';
import { MEDIA_TYPES, type MediaType } from './sniff.ts';

export interface StoredMedia {
  /** The name it is served under: `/media/<name>`. */
  name: string;
  type: MediaType;
  bytes: Buffer;
}

export interface MediaStore {
  /** The served name of the file a sender uploaded under `sourceId`, or null. */
  nameOf(sourceId: string): Promise<string | null>;
  /** Keeps the file (once: the same source id always names the same file). */
  put(sourceId: string, type: MediaType, bytes: Buffer): Promise<string>;
  get(name: string): Promise<StoredMedia | null>;
  /**
   * Forgets files uploaded before `beforeMs` (item retention): a sender that
   * uses one again uploads it again (Superdesk checks before every push) and
   * it comes back under the same name.
   */
  trim(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A sender's media id (untrusted, possibly with slashes) never becomes a
 * path: the served name is a hash of it plus the extension of the type its
 * bytes are, so one id keeps one stable URL.
 */
function mediaName(sourceId: string, type: MediaType): string {
  return `${shortHash(`media:${sourceId}`)}.${MEDIA_TYPES[type]}`;
}

/** What served names look like: anything else is not ours and is not looked up. */
export const MEDIA_NAME_PATTERN = /^[A-Za-z0-9_-]{22}\.(?:jpg|png|webp|gif)$/;

export class SqliteMediaStore implements MediaStore {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS media (
      name TEXT PRIMARY KEY,
      source_id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      bytes BLOB NOT NULL,
      created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS media_created ON media (created_ms)`);
    this.stmt = {
      nameOf: this.db.prepare<[string], { name: string }>('SELECT name FROM media WHERE source_id = ?'),
      put: this.db.prepare('INSERT OR IGNORE INTO media (name, source_id, type, bytes, created_ms) VALUES (?, ?, ?, ?, ?)'),
      get: this.db.prepare<[string], { name: string; type: MediaType; bytes: Buffer }>('SELECT name, type, bytes FROM media WHERE name = ?'),
      trim: this.db.prepare('DELETE FROM media WHERE created_ms < ?'),
    };
  }

  async nameOf(sourceId: string): Promise<string | null> {
    return this.stmt.nameOf.get(sourceId)?.name ?? null;
  }

  async put(sourceId: string, type: MediaType, bytes: Buffer): Promise<string> {
    const existing = this.stmt.nameOf.get(sourceId)?.name;
    if (existing) return existing;
    const name = mediaName(sourceId, type);
    this.stmt.put.run(name, sourceId, type, bytes, Date.now());
    return name;
  }

  async get(name: string): Promise<StoredMedia | null> {
    return this.stmt.get.get(name) ?? null;
  }

  async trim(beforeMs: number): Promise<number> {
    return this.stmt.trim.run(beforeMs).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/**
 * `${prefix}:media:<name>` holds the file (type, bytes, source id);
 * `${prefix}:media-sources` maps source ids to names; `${prefix}:media-uploaded`
 * orders names by upload time, for retention.
 */
export class RedisMediaStore implements MediaStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  private fileKey(name: string): string {
    return `${this.prefix}:media:${name}`;
  }

  async nameOf(sourceId: string): Promise<string | null> {
    return this.client.hget(`${this.prefix}:media-sources`, sourceId);
  }

  async put(sourceId: string, type: MediaType, bytes: Buffer): Promise<string> {
    // A name's bytes never change (it is cached for good): the first upload of an id stays.
    const existing = await this.nameOf(sourceId);
    if (existing) return existing;
    const name = mediaName(sourceId, type);
    // The file first: a name is only ever handed out for a file that is there.
    await this.client.hset(this.fileKey(name), 'type', type, 'bytes', bytes, 'source', sourceId);
    await this.client.zadd(`${this.prefix}:media-uploaded`, 'NX', Date.now(), name);
    const set = await this.client.hsetnx(`${this.prefix}:media-sources`, sourceId, name);
    return set ? name : ((await this.nameOf(sourceId)) ?? name);
  }

  async get(name: string): Promise<StoredMedia | null> {
    const [type, bytes] = await this.client.hmgetBuffer(this.fileKey(name), 'type', 'bytes');
    if (!type || !bytes) return null;
    return { name, type: type.toString() as MediaType, bytes };
  }

  async trim(beforeMs: number): Promise<number> {
    const index = `${this.prefix}:media-uploaded`;
    const names = await this.client.zrangebyscore(index, '-inf', `(${beforeMs}`, 'LIMIT', 0, 1000);
    for (const name of names) {
      const source = await this.client.hget(this.fileKey(name), 'source');
      const pipeline = this.client.multi().del(this.fileKey(name)).zrem(index, name);
      if (source && (await this.nameOf(source)) === name) pipeline.hdel(`${this.prefix}:media-sources`, source);
      await pipeline.exec();
    }
    return names.length;
  }

  async close(): Promise<void> {
    // The store owns the connection.
  }
}
