// Opening the store's SQLite file, the same way for every part that keeps
// tables in it (items and log, keys, media, ninjs versions, outbox).
import Database from 'better-sqlite3';

/** `synchronous`: FULL where an acknowledged write must survive a power cut; NORMAL where a replay is harmless. */
export function openSqlite(file: string, synchronous?: 'FULL' | 'NORMAL'): Database.Database {
  const db = new Database(file);
  // Set first: other processes (WORKERS) may hold the file's write lock, and
  // a write waits its turn rather than failing with SQLITE_BUSY.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  if (synchronous) db.pragma(`synchronous = ${synchronous}`);
  return db;
}
