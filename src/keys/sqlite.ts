// Publisher keys in the embedded store's database file, on a connection of
// their own; every change is forced to disk (a revocation must survive a
// power cut) and bumps the version.
import type Database from 'better-sqlite3';
import { openSqlite } from '../store/sqlite-file.ts';
import type { KeyAction, StoredKey } from './keys.ts';
import type { KeyStore } from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS publisher_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  actions TEXT NOT NULL,
  topics TEXT,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS publisher_keys_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO publisher_keys_version (one, version) VALUES (1, 0);
`;

interface KeyRow {
  id: string;
  hash: string;
  name: string;
  actions: string;
  topics: string | null;
  created_at: string;
  revoked_at: string | null;
}

function fromRow(row: KeyRow): StoredKey {
  return {
    id: row.id,
    name: row.name,
    actions: JSON.parse(row.actions) as KeyAction[],
    ...(row.topics ? { topics: JSON.parse(row.topics) as string[] } : {}),
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
    hash: row.hash,
  };
}

export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  private readonly stmt;

  /** `file`: the store's database file (WAL mode). */
  constructor(file: string) {
    const db = openSqlite(file, 'FULL');
    db.exec(SCHEMA);
    this.db = db;
    this.stmt = {
      count: db.prepare('SELECT COUNT(*) FROM publisher_keys').pluck(),
      insert: db.prepare(
        'INSERT INTO publisher_keys (id, hash, name, actions, topics, created_at) VALUES (@id, @hash, @name, @actions, @topics, @createdAt)',
      ),
      get: db.prepare<[string], KeyRow>('SELECT * FROM publisher_keys WHERE id = ?'),
      revoke: db.prepare<[string, string]>('UPDATE publisher_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      list: db.prepare<[], KeyRow>('SELECT * FROM publisher_keys ORDER BY created_at, id'),
      version: db.prepare('SELECT version FROM publisher_keys_version WHERE one = 1').pluck(),
      bump: db.prepare('UPDATE publisher_keys_version SET version = version + 1 WHERE one = 1'),
    };
  }

  async create(key: StoredKey, max: number): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        if (Number(this.stmt.count.get()) >= max) return false;
        this.stmt.insert.run({
          id: key.id,
          hash: key.hash,
          name: key.name,
          actions: JSON.stringify(key.actions),
          topics: key.topics ? JSON.stringify(key.topics) : null,
          createdAt: key.createdAt,
        });
        this.stmt.bump.run();
        return true;
      })
      .immediate();
  }

  async revoke(id: string, at: string): Promise<StoredKey | null> {
    const row = this.db
      .transaction((): KeyRow | undefined => {
        if (this.stmt.revoke.run(at, id).changes > 0) this.stmt.bump.run();
        return this.stmt.get.get(id);
      })
      .immediate();
    return row ? fromRow(row) : null;
  }

  async list(): Promise<StoredKey[]> {
    return this.stmt.list.all().map(fromRow);
  }

  async version(): Promise<string> {
    return String(this.stmt.version.get());
  }

  // Nothing to tell: a change made here is this process's own, and its key ring
  // re-reads after each; other processes' changes are caught by the version.
  onChange(): void {}

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
