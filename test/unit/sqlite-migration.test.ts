// A data folder written before items had cards opens as it is: every item
// gets its card, killed items leave the topic lists, and lists read cards.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_ITEMS, itemKey } from '../../src/domain/event.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { cleanup, tempDir } from '../support/server.ts';

afterAll(cleanup);

const retention = { maxEvents: 1_000, maxAgeMs: 3_600_000_000, itemMaxAgeMs: 86_400_000_000 };

describe('an older data folder', () => {
  it('is migrated in place: cards made, kills out of the lists, nothing else changed', async () => {
    const dir = tempDir();
    const old = new Database(join(dir, 'newswire.db'));
    old.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('epoch', 'oldepocholdepoch');
      CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE items (id TEXT PRIMARY KEY, status TEXT NOT NULL, hash TEXT NOT NULL, change_note TEXT,
        first_seq INTEGER NOT NULL, updated_ms INTEGER NOT NULL, expires_ms INTEGER, data TEXT NOT NULL);
      CREATE TABLE item_topics (topic TEXT NOT NULL, first_seq INTEGER NOT NULL, item_id TEXT NOT NULL,
        PRIMARY KEY (topic, first_seq, item_id)) WITHOUT ROWID;
      CREATE TABLE topics (topic TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_at TEXT NOT NULL) WITHOUT ROWID;
    `);
    const at = new Date().toISOString();
    const live = { id: 'a', headline: 'Live', topics: ['world'], priority: 'routine', body: '<p>Body</p>', version: 1, publishedAt: at, updatedAt: at, status: 'published' };
    const killed = { id: 'b', topics: ['world'], version: 2, publishedAt: at, updatedAt: at, status: 'retracted', reason: 'wrong' };
    const insert = old.prepare('INSERT INTO items VALUES (?, ?, ?, NULL, ?, ?, NULL, ?)');
    insert.run('a', 'published', 'h1', 1, Date.now(), JSON.stringify(live));
    insert.run('b', 'retracted', 'retracted', 2, Date.now(), JSON.stringify(killed));
    old.prepare('INSERT INTO item_topics VALUES (?, ?, ?)').run('world', 1, 'a');
    old.prepare('INSERT INTO item_topics VALUES (?, ?, ?)').run('world', 2, 'b');
    const payload = (seq: number, type: string, item: unknown) => JSON.stringify({ seq, type, at, item });
    old.prepare('INSERT INTO events (at_ms, payload) VALUES (?, ?)').run(Date.now(), payload(1, 'published', live));
    old.prepare('INSERT INTO events (at_ms, payload) VALUES (?, ?)').run(Date.now(), payload(2, 'published', killed));
    old.close();

    const store = new SqliteStore({ dataDir: dir, retention });
    expect(await store.head()).toMatchObject({ epoch: 'oldepocholdepoch', seq: 2 });
    const lists = await store.lists([ALL_ITEMS, 'world', itemKey('a')], 10, 'card');
    expect(lists.lists.get('world')?.entries.map((e) => e.id)).toEqual(['a']);
    const { body: _body, ...card } = live;
    expect(JSON.parse(lists.lists.get(ALL_ITEMS)?.entries[0]?.json ?? '{}')).toEqual(card);
    const full = await store.lists([itemKey('a')], 1, 'full');
    expect(JSON.parse(full.lists.get(itemKey('a'))?.entries[0]?.json ?? '{}').body).toBe('<p>Body</p>');
    expect(await store.getItem('b')).toMatchObject({ status: 'retracted', reason: 'wrong' });
    expect(Object.values(store.explainLists()).join(' ')).not.toMatch(/TEMP B-TREE/);
    await store.close();
  });
});
