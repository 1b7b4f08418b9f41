// The outbox in the embedded store's database file: its own tables beside
// the log, on a connection of its own. Every step is one transaction, so
// planning and the cursor move together, and a claim cannot hand a delivery
// to two senders. Its commits are not forced to disk one by one
// (synchronous=NORMAL): what a power cut could take back is a plan or a
// settlement, and the log makes it again, so a delivery may be repeated,
// never lost, and fan-out never waits on the outbox's disk writes.
import type Database from 'better-sqlite3';
import { openSqlite } from '../store/sqlite-file.ts';
import type { Channel, Delivery, Note, Outbox, PlannedDelivery, Settlement, Subscription } from './outbox.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbound_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbound_subscriptions (
  channel TEXT NOT NULL,
  id TEXT NOT NULL,
  target TEXT NOT NULL,
  data TEXT NOT NULL,
  expires_ms INTEGER,
  PRIMARY KEY (channel, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbound_state (channel TEXT PRIMARY KEY, cursor INTEGER NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbound_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  seq INTEGER NOT NULL,
  subscription_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  coalesce_key TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  planned_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbound_due ON outbound_deliveries (channel, due_ms);
CREATE TABLE IF NOT EXISTS outbound_notes (channel TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (channel, key)) WITHOUT ROWID;
`;

interface DeliveryRow {
  id: number;
  seq: number;
  subscription_id: string;
  payload: string;
  coalesce_key: string | null;
  attempts: number;
  planned_ms: number;
}

export class SqliteOutbox implements Outbox {
  private readonly stmt;

  private readonly db: Database.Database;

  /** `file`: the store's database file (WAL mode). */
  constructor(file: string) {
    const db = openSqlite(file, 'NORMAL');
    this.db = db;
    db.exec(SCHEMA);
    this.stmt = {
      getSetting: db.prepare<[string]>('SELECT value FROM outbound_settings WHERE name = ?').pluck(),
      addSetting: db.prepare<[string, string]>('INSERT OR IGNORE INTO outbound_settings (name, value) VALUES (?, ?)'),
      state: db.prepare<[string], { cursor: number; version: number }>('SELECT cursor, version FROM outbound_state WHERE channel = ?'),
      initState: db.prepare<[string, number]>('INSERT OR IGNORE INTO outbound_state (channel, cursor, version) VALUES (?, ?, 0)'),
      setCursor: db.prepare<[number, string]>('UPDATE outbound_state SET cursor = ? WHERE channel = ?'),
      bumpVersion: db.prepare<[string]>(
        'INSERT INTO outbound_state (channel, cursor, version) VALUES (?, 0, 1) ON CONFLICT (channel) DO UPDATE SET version = version + 1',
      ),
      countSubs: db.prepare<[string]>('SELECT COUNT(*) FROM outbound_subscriptions WHERE channel = ?').pluck(),
      hasSub: db.prepare<[string, string]>('SELECT 1 FROM outbound_subscriptions WHERE channel = ? AND id = ?').pluck(),
      putSub: db.prepare(
        'INSERT INTO outbound_subscriptions (channel, id, target, data, expires_ms) VALUES (@channel, @id, @target, @data, @expiresMs) ON CONFLICT (channel, id) DO UPDATE SET target = excluded.target, data = excluded.data, expires_ms = excluded.expires_ms',
      ),
      deleteSub: db.prepare<[string, string]>('DELETE FROM outbound_subscriptions WHERE channel = ? AND id = ?'),
      subs: db.prepare<[string], { id: string; target: string; data: string; expires_ms: number | null }>(
        'SELECT id, target, data, expires_ms FROM outbound_subscriptions WHERE channel = ? ORDER BY id',
      ),
      expired: db.prepare<[string, number]>('SELECT id FROM outbound_subscriptions WHERE channel = ? AND expires_ms IS NOT NULL AND expires_ms < ?').pluck(),
      insertDelivery: db.prepare(
        'INSERT INTO outbound_deliveries (channel, seq, subscription_id, payload, coalesce_key, planned_ms, due_ms) VALUES (@channel, @seq, @subscriptionId, @payload, @coalesce, @now, @now)',
      ),
      due: db.prepare<[string, number, number], DeliveryRow>(
        'SELECT id, seq, subscription_id, payload, coalesce_key, attempts, planned_ms FROM outbound_deliveries WHERE channel = ? AND due_ms <= ? ORDER BY due_ms, id LIMIT ?',
      ),
      lease: db.prepare<[number, number]>('UPDATE outbound_deliveries SET due_ms = ?, attempts = attempts + 1 WHERE id = ?'),
      reschedule: db.prepare<[number, number]>('UPDATE outbound_deliveries SET due_ms = ? WHERE id = ?'),
      deleteDelivery: db.prepare<[number]>('DELETE FROM outbound_deliveries WHERE id = ?'),
      backlog: db.prepare<[string]>('SELECT COUNT(*) FROM outbound_deliveries WHERE channel = ?').pluck(),
      putNote: db.prepare(
        'INSERT INTO outbound_notes (channel, key, value, expires_ms) VALUES (@channel, @key, @value, @expiresMs) ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms',
      ),
      getNote: db.prepare<[string, string, number]>('SELECT value FROM outbound_notes WHERE channel = ? AND key = ? AND expires_ms > ?').pluck(),
      dropNotes: db.prepare<[string, number]>('DELETE FROM outbound_notes WHERE channel = ? AND expires_ms <= ?'),
    };
  }

  async setting(name: string, make: () => string): Promise<string> {
    return this.db.transaction(() => {
      const existing = this.stmt.getSetting.get(name) as string | undefined;
      if (existing !== undefined) return existing;
      this.stmt.addSetting.run(name, make());
      return this.stmt.getSetting.get(name) as string;
    }).immediate();
  }

  async subscribe(channel: Channel, subscription: Subscription, max: number): Promise<boolean> {
    return this.db.transaction(() => {
      const known = this.stmt.hasSub.get(channel, subscription.id) !== undefined;
      if (!known && (this.stmt.countSubs.get(channel) as number) >= max) return false;
      this.stmt.putSub.run({
        channel,
        id: subscription.id,
        target: subscription.target,
        data: JSON.stringify(subscription.data),
        expiresMs: subscription.expiresMs ?? null,
      });
      this.stmt.bumpVersion.run(channel);
      return true;
    }).immediate();
  }

  async unsubscribe(channel: Channel, id: string): Promise<boolean> {
    return this.db.transaction(() => this.drop(channel, id)).immediate();
  }

  /** Its deliveries still waiting are dropped as they come due: the sender finds no subscription. */
  private drop(channel: Channel, id: string): boolean {
    const removed = this.stmt.deleteSub.run(channel, id).changes > 0;
    if (removed) this.stmt.bumpVersion.run(channel);
    return removed;
  }

  async version(channel: Channel): Promise<string> {
    return String(this.stmt.state.get(channel)?.version ?? 0);
  }

  async subscriptions(channel: Channel): Promise<{ version: string; list: Subscription[] }> {
    return this.db.transaction(() => {
      const version = String(this.stmt.state.get(channel)?.version ?? 0);
      const list = this.stmt.subs.all(channel).map((row) => {
        const subscription: Subscription = { id: row.id, target: row.target, data: JSON.parse(row.data) };
        if (row.expires_ms !== null) subscription.expiresMs = row.expires_ms;
        return subscription;
      });
      return { version, list };
    })();
  }

  async expire(channel: Channel, nowMs: number): Promise<number> {
    return this.db.transaction(() => {
      const ids = this.stmt.expired.all(channel, nowMs) as string[];
      for (const id of ids) this.drop(channel, id);
      this.stmt.dropNotes.run(channel, nowMs);
      return ids.length;
    }).immediate();
  }

  async cursor(channel: Channel, startSeq: number): Promise<number> {
    this.stmt.initState.run(channel, startSeq);
    return this.stmt.state.get(channel)?.cursor ?? startSeq;
  }

  async plan(
    channel: Channel,
    from: number,
    to: number,
    deliveries: (PlannedDelivery & { seq: number })[],
    notes: Note[],
    nowMs: number,
  ): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.stmt.state.get(channel)?.cursor !== from) return false;
      for (const delivery of deliveries) {
        this.stmt.insertDelivery.run({ channel, ...delivery, coalesce: delivery.coalesce ?? null, now: nowMs });
      }
      for (const note of notes) this.stmt.putNote.run({ channel, key: note.key, value: note.value, expiresMs: nowMs + note.ttlMs });
      this.stmt.setCursor.run(to, channel);
      return true;
    }).immediate();
  }

  async note(channel: Channel, key: string, nowMs: number): Promise<string | null> {
    return (this.stmt.getNote.get(channel, key, nowMs) as string | undefined) ?? null;
  }

  async restart(channel: Channel, seq: number): Promise<void> {
    this.stmt.initState.run(channel, seq);
    this.stmt.setCursor.run(seq, channel);
  }

  async claim(channel: Channel, nowMs: number, leaseMs: number, limit: number): Promise<Delivery[]> {
    return this.db.transaction(() => {
      const rows = this.stmt.due.all(channel, nowMs, limit);
      for (const row of rows) this.stmt.lease.run(nowMs + leaseMs, row.id);
      return rows.map((row) => {
        const delivery: Delivery = {
          // Padded as Redis keeps them: ids sort as numbers.
          id: String(row.id).padStart(12, '0'),
          seq: row.seq,
          subscriptionId: row.subscription_id,
          payload: row.payload,
          attempts: row.attempts + 1,
          plannedMs: row.planned_ms,
        };
        if (row.coalesce_key !== null) delivery.coalesce = row.coalesce_key;
        return delivery;
      });
    }).immediate();
  }

  async settle(channel: Channel, settled: { delivery: Delivery; settlement: Settlement }[]): Promise<void> {
    this.db
      .transaction(() => {
        for (const { delivery, settlement } of settled) {
          const id = Number(delivery.id);
          if (settlement.outcome === 'retry') this.stmt.reschedule.run(settlement.atMs, id);
          else this.stmt.deleteDelivery.run(id);
          if (settlement.outcome === 'gone') this.drop(channel, delivery.subscriptionId);
        }
      })
      .immediate();
  }

  async backlog(channel: Channel): Promise<number> {
    return this.stmt.backlog.get(channel) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
