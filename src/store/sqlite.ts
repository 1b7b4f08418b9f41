// Embedded store: one SQLite file in WAL mode. Each write is one transaction
// that decides, appends the event and changes item state, so the log and the
// state never disagree and seq order is commit order.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from './sqlite-file.ts';
import { newEpoch } from '../domain/cursor.ts';
import { ALL_ITEMS, type EventType, itemIdOf, type NewsEvent } from '../domain/event.ts';
import { type Item, type ItemContent, isEmbargoed, type RetractedItem, type ScheduledItem, toCard } from '../domain/item.ts';
import {
  type Actor,
  type Appended,
  actorJson,
  type Detail,
  HISTORY_LIMIT,
  type HistoryEntry,
  historyJson,
  type ListEntry,
  type Lists,
  type LiveList,
  type LogHead,
  type Retention,
  type Store,
  type StoredItem,
  topicsBeyond,
  type WriteResult,
} from './store.ts';

/** An item's state: its card (the item without its body) ahead of the whole item. */
const ITEMS_COLUMNS = `(
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  hash TEXT NOT NULL,
  change_note TEXT,
  first_seq INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  expires_ms INTEGER,
  card TEXT NOT NULL,
  data TEXT NOT NULL
)`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at_ms);
CREATE TABLE IF NOT EXISTS items ${ITEMS_COLUMNS};
CREATE TABLE IF NOT EXISTS item_topics (
  topic TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  PRIMARY KEY (topic, first_seq, item_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS item_topics_item ON item_topics (item_id);
CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS held (id TEXT PRIMARY KEY, release_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS held_release ON held (release_ms, id);
CREATE TABLE IF NOT EXISTS item_history (
  item_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  entry TEXT NOT NULL,
  PRIMARY KEY (item_id, version)
) WITHOUT ROWID;
`;

// After any migration: lists of every item walk this index newest first, and
// retention finds old items without reading the table.
const INDEXES = `
CREATE INDEX IF NOT EXISTS items_live ON items (first_seq) WHERE status = 'published';
DROP INDEX IF EXISTS items_updated;
CREATE INDEX IF NOT EXISTS items_changed ON items (updated_ms, id);
`;

/**
 * Databases made before items had cards: the table is rebuilt with a card
 * column (the item without its body) ahead of the data, so reading a card
 * never touches the pages that hold a body.
 */
const ADD_CARDS = `
ALTER TABLE items RENAME TO items_before_cards;
CREATE TABLE items ${ITEMS_COLUMNS};
INSERT INTO items SELECT id, status, hash, change_note, first_seq, updated_ms, expires_ms, json_remove(data, '$.body'), data
  FROM items_before_cards;
DROP TABLE items_before_cards;
DELETE FROM item_topics WHERE item_id IN (SELECT id FROM items WHERE status = 'retracted');
`;

interface ItemRow {
  id: string;
  status: StoredItem['status'];
  hash: string;
  change_note: string | null;
  first_seq: number;
  data: string;
}

interface ListRow {
  id: string;
  first_seq: number;
  expires_ms: number | null;
  json: string;
}

function listEntry(row: ListRow): ListEntry {
  return { id: row.id, order: row.first_seq, json: row.json, expiresMs: row.expires_ms ?? undefined };
}

export interface SqliteStoreOptions {
  dataDir: string;
  retention: Retention;
  /** Passed to SQLite; FULL survives power loss, NORMAL survives process crashes. */
  synchronous?: 'FULL' | 'NORMAL';
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly file: string;
  private readonly db: Database.Database;
  private readonly retention: Retention;
  private readonly epoch: string;
  private readonly stmt;
  private readonly appendTx;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.file = join(options.dataDir, 'newswire.db');
    this.retention = options.retention;
    this.db = openSqlite(this.file, options.synchronous ?? 'FULL');
    // Schema, migration and epoch in one writer's turn: processes opening the
    // file at once never migrate twice nor make two epochs.
    this.epoch = this.db
      .transaction((): string => {
        this.db.exec(SCHEMA);
        const columns = this.db.prepare<[string]>('SELECT name FROM pragma_table_info(?)').pluck();
        const has = (table: string, column: string) => (columns.all(table) as string[]).includes(column);
        if (!has('items', 'card')) this.db.exec(ADD_CARDS);
        // A held item remembers who scheduled it: its release is theirs in the history.
        if (!has('held', 'actor')) this.db.exec("ALTER TABLE held ADD COLUMN actor TEXT NOT NULL DEFAULT ''");
        this.db.exec(INDEXES);
        this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)").run(newEpoch());
        return (this.db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string }).value;
      })
      .immediate();

    this.stmt = {
      getItem: this.db.prepare<[string], ItemRow>('SELECT id, status, hash, change_note, first_seq, data FROM items WHERE id = ?'),
      appendEvent: this.db.prepare<[number, string]>('INSERT INTO events (at_ms, payload) VALUES (?, ?)'),
      setEventPayload: this.db.prepare<[string, number | bigint]>('UPDATE events SET payload = ? WHERE seq = ?'),
      insertItem: this.db.prepare(
        'INSERT INTO items (id, status, hash, change_note, first_seq, updated_ms, expires_ms, card, data) VALUES (@id, @status, @hash, @changeNote, @firstSeq, @updatedMs, @expiresMs, @card, @data)',
      ),
      updateItem: this.db.prepare(
        'UPDATE items SET status = @status, hash = @hash, change_note = @changeNote, updated_ms = @updatedMs, expires_ms = @expiresMs, card = @card, data = @data WHERE id = @id',
      ),
      deleteItemTopics: this.db.prepare<[string]>('DELETE FROM item_topics WHERE item_id = ?'),
      insertItemTopic: this.db.prepare<[string, number, string]>(
        'INSERT OR IGNORE INTO item_topics (topic, first_seq, item_id) VALUES (?, ?, ?)',
      ),
      touchTopic: this.db.prepare<[string, number, string]>(
        'INSERT INTO topics (topic, last_seq, last_at) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET last_seq = excluded.last_seq, last_at = excluded.last_at',
      ),
      headSeq: this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck(),
      lastEventAt: this.db.prepare('SELECT at_ms FROM events ORDER BY seq DESC LIMIT 1').pluck(),
      floor: this.db.prepare("SELECT value FROM meta WHERE key = 'floor'").pluck(),
      setFloor: this.db.prepare(
        "INSERT INTO meta (key, value) VALUES ('floor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      topic: this.db.prepare<[string], { last_seq: number; last_at: string }>(
        'SELECT last_seq, last_at FROM topics WHERE topic = ?',
      ),
      ...listStatements(this.db, 'card'),
      ...listStatements(this.db, 'data'),
      readAfter: this.db.prepare<[number, number], { seq: number; payload: string }>(
        'SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      trimByCount: this.db.prepare<[number]>('DELETE FROM events WHERE seq <= ?'),
      // The newest event older than the cut, found at the end of the time index.
      maxSeqBefore: this.db.prepare<[number]>('SELECT seq FROM events WHERE at_ms < ? ORDER BY at_ms DESC, seq DESC LIMIT 1').pluck(),
      // A held item waits for its embargo however long that is.
      expiredItems: this.db
        .prepare<[number]>("SELECT id FROM items WHERE updated_ms < ? AND status <> 'scheduled'")
        .pluck(),
      deleteItem: this.db.prepare<[string]>('DELETE FROM items WHERE id = ?'),
      // Kills are rare: the newest changes, walked back, hold the recent ones.
      withdrawn: this.db
        .prepare<[number, number]>(
          "SELECT data FROM items INDEXED BY items_changed WHERE updated_ms > ? AND status = 'retracted' ORDER BY updated_ms DESC, id DESC LIMIT ?",
        )
        .pluck(),
      hold: this.db.prepare<[string, number, string]>(
        'INSERT INTO held (id, release_ms, actor) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET release_ms = excluded.release_ms, actor = excluded.actor',
      ),
      heldActor: this.db.prepare<[string]>('SELECT actor FROM held WHERE id = ?').pluck(),
      insertHistory: this.db.prepare<[string, number, string]>('INSERT OR REPLACE INTO item_history (item_id, version, entry) VALUES (?, ?, ?)'),
      history: this.db.prepare<[string, number]>('SELECT entry FROM item_history WHERE item_id = ? ORDER BY version DESC LIMIT ?').pluck(),
      deleteHistory: this.db.prepare<[string]>('DELETE FROM item_history WHERE item_id = ?'),
      unhold: this.db.prepare<[string]>('DELETE FROM held WHERE id = ?'),
      releaseMs: this.db.prepare<[string]>('SELECT release_ms FROM held WHERE id = ?').pluck(),
      heldDue: this.db
        .prepare<[number, number]>(
          'SELECT i.data FROM held h JOIN items i ON i.id = h.id WHERE h.release_ms <= ? ORDER BY h.release_ms, h.id LIMIT ?',
        )
        .pluck(),
    };

    // One transaction per write: decide, append, change state.
    this.appendTx = this.db.transaction(
      (
        type: EventType,
        build: (seq: number, at: string) => { item: NewsEvent['item']; hash: string; changeNote?: string; formerTopics?: string[]; notify?: boolean },
      ) => {
        const now = Date.now();
        const at = new Date(now).toISOString();
        const info = this.stmt.appendEvent.run(now, '');
        const seq = Number(info.lastInsertRowid);
        const { item, hash, changeNote, formerTopics, notify } = build(seq, at);
        const event: NewsEvent = { seq, type, at, item };
        if (formerTopics?.length) event.formerTopics = formerTopics;
        if (notify) event.notify = true;
        this.stmt.setEventPayload.run(JSON.stringify(event), seq);
        const row = {
          id: item.id,
          status: item.status,
          hash,
          changeNote: changeNote ?? null,
          firstSeq: seq,
          updatedMs: now,
          expiresMs: 'expiresAt' in item && item.expiresAt ? Date.parse(item.expiresAt) : null,
          card: JSON.stringify(item.status === 'published' ? toCard(item) : item),
          data: JSON.stringify(item),
        };
        if (type === 'published') {
          this.stmt.insertItem.run(row);
          for (const topic of item.topics) this.stmt.insertItemTopic.run(topic, seq, item.id);
        } else {
          this.stmt.updateItem.run(row);
          // A retracted item leaves every list; a correction may change topics, and keeps its place in each.
          const firstSeq = this.stmt.getItem.get(item.id)?.first_seq ?? seq;
          this.stmt.deleteItemTopics.run(item.id);
          if (type === 'updated') for (const topic of item.topics) this.stmt.insertItemTopic.run(topic, firstSeq, item.id);
        }
        return event;
      },
    );
  }

  private touchTopics(event: NewsEvent, previousTopics: readonly string[] = []): void {
    for (const topic of new Set([ALL_ITEMS, ...event.item.topics, ...previousTopics])) {
      this.stmt.touchTopic.run(topic, event.seq, event.at);
    }
  }

  async head(): Promise<LogHead> {
    return this.headSync();
  }

  private headSync(): LogHead {
    const seq = Number(this.stmt.headSeq.get() ?? 0);
    const floor = Number(this.stmt.floor.get() ?? 0);
    return { epoch: this.epoch, seq, floor };
  }

  private readItem(id: string): { row: ItemRow; item: StoredItem } | null {
    const row = this.stmt.getItem.get(id);
    return row ? { row, item: JSON.parse(row.data) as StoredItem } : null;
  }

  /** The new version in the item's history, in the transaction of its event. */
  private remember(event: NewsEvent, changeNote: string | undefined, actor: string): void {
    const { item } = event;
    const reason = item.status === 'retracted' ? item.reason : undefined;
    const note = event.type === 'updated' ? changeNote : undefined;
    this.stmt.insertHistory.run(item.id, item.version, historyJson(item.version, event.type, event.at, note, reason, actor));
  }

  async history(id: string, limit = HISTORY_LIMIT): Promise<HistoryEntry[]> {
    const rows = this.stmt.history.all(id, limit) as string[];
    return rows.reverse().map((entry) => JSON.parse(entry) as HistoryEntry);
  }

  async publish(content: ItemContent, hash: string, actor?: Actor): Promise<WriteResult> {
    return this.db.transaction((): WriteResult => {
      const existing = this.readItem(content.id);
      if (existing) {
        if (existing.item.status === 'retracted') return { outcome: 'gone', item: existing.item };
        if (existing.row.hash === hash) {
          return { outcome: 'unchanged', epoch: this.epoch, seq: this.headSync().seq, item: existing.item };
        }
        return { outcome: 'conflict', item: existing.item };
      }
      const by = actorJson(actor);
      return isEmbargoed(content) ? this.hold(content, hash, undefined, by) : this.publishNow(content, hash, undefined, by);
    }).immediate();
  }

  /** Keeps the item out of every list and the log until its embargo lifts. */
  private hold(content: ItemContent & { embargoUntil: string }, hash: string, changeNote: string | undefined, actor: string): WriteResult {
    const now = Date.now();
    const item: ScheduledItem = { ...content, updatedAt: new Date(now).toISOString(), status: 'scheduled' };
    this.stmt.deleteItem.run(content.id);
    this.stmt.insertItem.run({
      id: content.id,
      status: item.status,
      hash,
      changeNote: changeNote ?? null,
      firstSeq: 0,
      updatedMs: now,
      expiresMs: content.expiresAt ? Date.parse(content.expiresAt) : null,
      card: JSON.stringify(item),
      data: JSON.stringify(item),
    });
    this.stmt.hold.run(content.id, Date.parse(content.embargoUntil), actor);
    return { outcome: 'scheduled', item };
  }

  /** Version 1 goes into the log; a held item of this id stops being held. */
  private publishNow(content: ItemContent, hash: string, changeNote: string | undefined, actor: string): Appended {
    this.stmt.deleteItem.run(content.id);
    this.stmt.unhold.run(content.id);
    const event = this.appendTx('published', (_seq, at) => ({
      item: { ...content, version: 1, publishedAt: at, updatedAt: at, status: 'published' } satisfies Item,
      hash,
      // Kept beside the item so a retry of the same correction stays a retry; readers saw no earlier version.
      changeNote,
    }));
    this.remember(event, undefined, actor);
    this.touchTopics(event);
    return { outcome: 'appended', epoch: this.epoch, event };
  }

  async update(content: ItemContent, hash: string, changeNote: string | undefined, notify = false, actor?: Actor): Promise<WriteResult> {
    return this.db.transaction((): WriteResult => {
      const existing = this.readItem(content.id);
      if (!existing) return { outcome: 'not-found' };
      const previous = existing.item;
      const outside = topicsBeyond(actor, previous.topics);
      if (outside.length) return { outcome: 'forbidden-topic', topics: outside };
      if (previous.status === 'retracted') return { outcome: 'gone', item: previous };
      if (existing.row.hash === hash && (existing.row.change_note ?? undefined) === changeNote) {
        return { outcome: 'unchanged', epoch: this.epoch, seq: this.headSync().seq, item: previous };
      }
      const by = actorJson(actor);
      if (previous.status === 'scheduled') {
        return isEmbargoed(content) ? this.hold(content, hash, changeNote, by) : this.publishNow(content, hash, changeNote, by);
      }
      // Readers have it already: no embargo can take it back.
      if (isEmbargoed(content)) return { outcome: 'conflict', item: previous };
      const event = this.appendTx('updated', (_seq, at) => {
        const item: Item = {
          ...content,
          version: previous.version + 1,
          publishedAt: previous.publishedAt,
          updatedAt: at,
          status: 'published',
        };
        if (changeNote) item.changeNote = changeNote;
        const formerTopics = previous.topics.filter((topic) => !content.topics.includes(topic));
        return { item, hash, changeNote, formerTopics, notify };
      });
      this.remember(event, changeNote, by);
      this.touchTopics(event, previous.topics);
      return { outcome: 'appended', epoch: this.epoch, event };
    }).immediate();
  }

  async retract(id: string, reason: string, actor?: Actor): Promise<WriteResult> {
    return this.db.transaction((): WriteResult => {
      const existing = this.readItem(id);
      if (!existing) return { outcome: 'not-found' };
      const previous = existing.item;
      const outside = topicsBeyond(actor, previous.topics);
      if (outside.length) return { outcome: 'forbidden-topic', topics: outside };
      if (previous.status === 'retracted') return { outcome: 'gone', item: previous };
      if (previous.status === 'scheduled') {
        // Readers never knew of it: it goes without a trace in the log.
        this.stmt.deleteItem.run(id);
        this.stmt.unhold.run(id);
        return { outcome: 'cancelled', epoch: this.epoch, seq: this.headSync().seq, item: { ...previous, status: 'cancelled' } };
      }
      const event = this.appendTx('retracted', (_seq, at) => ({
        item: {
          id,
          topics: previous.topics,
          version: previous.version + 1,
          publishedAt: previous.publishedAt,
          updatedAt: at,
          status: 'retracted',
          reason,
        } satisfies RetractedItem,
        hash: 'retracted',
      }));
      this.remember(event, undefined, actorJson(actor));
      this.touchTopics(event);
      return { outcome: 'appended', epoch: this.epoch, event };
    }).immediate();
  }

  async scheduled(limit: number, dueBy = Number.MAX_SAFE_INTEGER): Promise<ScheduledItem[]> {
    return (this.stmt.heldDue.all(dueBy, limit) as string[]).map((data) => JSON.parse(data) as ScheduledItem);
  }

  async release(id: string, now = Date.now()): Promise<Appended | null> {
    return this.db.transaction((): Appended | null => {
      const existing = this.readItem(id);
      if (existing?.item.status !== 'scheduled') return null;
      const due = this.stmt.releaseMs.get(id) as number | undefined;
      if (due === undefined || due > now) return null;
      const { updatedAt: _updatedAt, status: _status, ...content } = existing.item;
      const actor = (this.stmt.heldActor.get(id) as string | undefined) ?? '';
      return this.publishNow(content, existing.row.hash, existing.row.change_note ?? undefined, actor);
    }).immediate();
  }

  async getItem(id: string): Promise<StoredItem | null> {
    return this.readItem(id)?.item ?? null;
  }

  async lists(keys: readonly string[], limit: number, detail: Detail): Promise<Lists> {
    const column = detail === 'card' ? 'card' : 'data';
    return this.db.transaction((): Lists => {
      const now = Date.now();
      const head = this.headSync();
      const lists = new Map<string, LiveList>();
      for (const key of keys) {
        const id = itemIdOf(key);
        if (id !== undefined) {
          const row = this.stmt[`${column}Item`].get(id, now);
          lists.set(key, { entries: row ? [listEntry(row)] : [], seq: 0, at: undefined });
          continue;
        }
        const rows = key === ALL_ITEMS ? this.stmt[`${column}All`].all(now, limit) : this.stmt[`${column}Topic`].all(key, now, limit);
        const mark = this.stmt.topic.get(key);
        let seq = mark?.last_seq ?? 0;
        let at = mark?.last_at;
        if (key === ALL_ITEMS && !mark && head.seq > 0) {
          // A log written before "every item" had a mark of its own.
          const ms = this.stmt.lastEventAt.get() as number | undefined;
          seq = head.seq;
          at = ms === undefined ? undefined : new Date(ms).toISOString();
        }
        lists.set(key, { entries: rows.map(listEntry), seq, at });
      }
      return { epoch: this.epoch, headSeq: head.seq, lists };
    })();
  }

  private liveCardsPage: Database.Statement<[number, number, number], ListRow> | undefined;

  async liveCards(beforeOrder: number, limit: number): Promise<ListEntry[]> {
    this.liveCardsPage ??= this.db.prepare<[number, number, number], ListRow>(
      `SELECT id, first_seq, expires_ms, card AS json FROM items INDEXED BY items_live
       WHERE status = 'published' AND (expires_ms IS NULL OR expires_ms > ?) AND first_seq < ? ORDER BY first_seq DESC LIMIT ?`,
    );
    return this.liveCardsPage.all(Date.now(), beforeOrder, limit).map(listEntry);
  }

  async withdrawn(sinceMs: number, limit: number): Promise<RetractedItem[]> {
    return (this.stmt.withdrawn.all(Math.floor(sinceMs), limit) as string[]).map((data) => JSON.parse(data) as RetractedItem);
  }

  /**
   * The query plan of every list read and of retention's scans, by name:
   * each must walk an index and stop at its limit, never scan the archive.
   */
  explainLists(): Record<string, string> {
    const plan = (sql: string, ...args: unknown[]) =>
      (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((row) => row.detail).join('; ');
    const out: Record<string, string> = {};
    for (const column of ['card', 'data'] as const) {
      for (const [name, statement] of Object.entries(listStatements(this.db, column))) {
        out[name] = plan(statement.source, ...(name.endsWith('Topic') ? ['t', 0, 1] : name.endsWith('Item') ? ['x', 0] : [0, 1]));
      }
    }
    out.expiredItems = plan(this.stmt.expiredItems.source, 0);
    out.withdrawn = plan(this.stmt.withdrawn.source, 0, 1);
    out.readAfter = plan(this.stmt.readAfter.source, 0, 1);
    out.maxSeqBefore = plan(this.stmt.maxSeqBefore.source, 0);
    return out;
  }

  async readAfter(after: number, limit: number): Promise<NewsEvent[]> {
    return this.stmt.readAfter.all(after, limit).map((row) => JSON.parse(row.payload) as NewsEvent);
  }

  async trim(now = Date.now()): Promise<number> {
    return this.db.transaction((): number => {
      const head = this.headSync();
      const byCount = head.seq - this.retention.maxEvents;
      const byAge = Number(this.stmt.maxSeqBefore.get(now - this.retention.maxAgeMs) ?? 0);
      const cut = Math.max(byCount, byAge);
      let dropped = 0;
      if (cut > head.floor) {
        dropped = this.stmt.trimByCount.run(cut).changes;
        this.stmt.setFloor.run(String(cut));
      }
      for (const id of this.stmt.expiredItems.all(now - this.retention.itemMaxAgeMs) as string[]) {
        this.stmt.deleteItemTopics.run(id);
        this.stmt.deleteItem.run(id);
        this.stmt.deleteHistory.run(id);
      }
      return dropped;
    }).immediate();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * The three list reads for one column (`card` or `data`): every item, one
 * topic, one item. Each walks an index newest first and stops at the limit.
 */
function listStatements<C extends 'card' | 'data'>(db: Database.Database, column: C) {
  const live = (alias: string) => `${alias}.status = 'published' AND (${alias}.expires_ms IS NULL OR ${alias}.expires_ms > ?)`;
  const statements = {
    all: db.prepare<[number, number], ListRow>(
      `SELECT i.id, i.first_seq, i.expires_ms, i.${column} AS json FROM items i INDEXED BY items_live
       WHERE ${live('i')} ORDER BY i.first_seq DESC LIMIT ?`,
    ),
    topic: db.prepare<[string, number, number], ListRow>(
      `SELECT i.id, i.first_seq, i.expires_ms, i.${column} AS json FROM item_topics t JOIN items i ON i.id = t.item_id
       WHERE t.topic = ? AND ${live('i')} ORDER BY t.first_seq DESC LIMIT ?`,
    ),
    item: db.prepare<[string, number], ListRow>(
      `SELECT i.id, i.first_seq, i.expires_ms, i.${column} AS json FROM items i WHERE i.id = ? AND ${live('i')}`,
    ),
  };
  return {
    [`${column}All`]: statements.all,
    [`${column}Topic`]: statements.topic,
    [`${column}Item`]: statements.item,
  } as { [K in `${C}All`]: typeof statements.all } & { [K in `${C}Topic`]: typeof statements.topic } & {
    [K in `${C}Item`]: typeof statements.item;
  };
}
