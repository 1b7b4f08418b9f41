// What was acknowledged survives the process; retention turns old cursors
// into an explicit reset, never a silent gap.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { api, cleanup, newItem, startServer, tempDir } from '../support/server.ts';
import { seqOf, TestClient } from '../support/ws.ts';

afterAll(cleanup);

describe('kill -9', () => {
  it('keeps every acknowledged item and its seq', async () => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir });
    const acknowledged: { id: string; cursor: string }[] = [];
    // Fire a burst and kill the process the moment the last 201 arrives.
    const burst = await Promise.all(Array.from({ length: 20 }, () => api(server, 'POST', '/api/v1/items', newItem({ topics: ['durable'] }))));
    for (const res of burst) {
      expect(res.status).toBe(201);
      acknowledged.push({ id: res.body.item.id, cursor: res.body.cursor });
    }
    await server.kill();

    const again = await startServer({ dataDir });
    for (const { id } of acknowledged) {
      const res = await api(again, 'GET', `/api/v1/items/${id}`);
      expect(res.status).toBe(200);
    }
    // Same log (same epoch), and the seqs continue after the last one.
    const last = acknowledged.map((a) => a.cursor).sort((a, b) => seqOf(a) - seqOf(b)).at(-1) as string;
    const next = await api(again, 'POST', '/api/v1/items', newItem());
    expect(next.body.cursor.split('-')[0]).toBe(last.split('-')[0]);
    expect(seqOf(next.body.cursor)).toBe(seqOf(last) + 1);
    // A reader resuming from before the crash gets all of it, in seq order.
    const first = acknowledged.map((a) => a.cursor).sort((a, b) => seqOf(a) - seqOf(b))[0] as string;
    const epoch = first.split('-')[0];
    const client = await TestClient.connect(again.wsUrl, { topics: ['durable'], cursor: `${epoch}-${seqOf(first) - 1}` });
    const events = await client.waitForEvents(acknowledged.length);
    expect(events.map((e) => seqOf(e.cursor))).toEqual(acknowledged.map((a) => seqOf(a.cursor)).sort((a, b) => a - b));
    await client.close();
    await again.stop();
  });

  it('starts a new epoch when the data folder is lost: old cursors get reset', async () => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir });
    const { body } = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['epoch'] }));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    const fresh = await startServer({ dataDir });
    const published = await api(fresh, 'POST', '/api/v1/items', newItem({ topics: ['epoch'] }));
    expect(published.body.cursor.split('-')[0]).not.toBe(body.cursor.split('-')[0]);
    const client = await TestClient.connect(fresh.wsUrl, { topics: ['epoch'], cursor: body.cursor });
    const reset = await client.waitForType('reset');
    expect(reset.reason).toBe('epoch-changed');
    expect(reset.items?.map((i) => i.id)).toEqual([published.body.item.id]);
    await client.close();
    await fresh.stop();
  });
});

describe('retention', () => {
  it('trims the log by count but keeps item state; a cursor behind the trim gets reset', async () => {
    const server = await startServer({ env: { RETENTION_EVENTS: '100' } });
    const first = await api(server, 'POST', '/api/v1/items', newItem({ topics: ['retained'] }));
    for (let i = 0; i < 105; i++) await api(server, 'POST', '/api/v1/items', newItem({ topics: ['retained'] }));
    // Retention runs at start and every minute: restart to apply it now.
    const again = await server.restart();
    // The item outlives its event in the log.
    expect((await api(again, 'GET', `/api/v1/items/${first.body.item.id}`)).status).toBe(200);
    const client = await TestClient.connect(again.wsUrl, { topics: ['retained'], cursor: first.body.cursor });
    const reset = await client.waitForType('reset');
    expect(reset.reason).toBe('cursor-expired');
    expect(reset.items).toHaveLength(50);
    expect(seqOf(reset.cursor)).toBe(106);
    await client.close();
    // A cursor just inside retention still resumes.
    const epoch = first.body.cursor.split('-')[0];
    const inside = await TestClient.connect(again.wsUrl, { topics: ['retained'], cursor: `${epoch}-100` });
    await inside.waitForEvents(6);
    expect(inside.frames.some((f) => f.type === 'reset')).toBe(false);
    await inside.close();
    await again.stop();
  });
});
