// WORKERS=2 on the embedded store: two real server processes behind one port,
// one SQLite file, events told to each other through the primary. Readers on
// every worker get every event once, in order, through a worker's SIGKILL;
// the primary replaces the dead worker, rolls them all on SIGHUP without the
// port ever refusing a connection, and drains them all on SIGTERM.
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, logLines as serverLogLines, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';
import { type Frame, seqOf, TestClient } from '../support/ws.ts';

afterAll(cleanup);

let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    // The health poller opens a connection per request: more than the per-address rate allows by default.
    env: { WORKERS: '2', SHUTDOWN_GRACE_SECONDS: '3', CONNECTIONS_PER_SECOND_PER_ADDRESS: '100000' },
    startTimeoutMs: 120_000,
  });
  // The primary's "listening" can come before the workers' own lines reach the pipe.
  await until(() => logLines('worker listening').length === 2, 'both workers to say they listen');
}, 150_000);

/** Every JSON log line of the primary and its workers with this message. */
const logLines = (msg: string) => serverLogLines(server, msg);

/** A plain GET on a connection of its own (no keep-alive): the status, or the socket error's code. */
function getOnce(path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port: server.port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.setTimeout(20_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  });
}

/** Each worker's /metrics, told apart by their `worker` label; each GET lands where the cluster sends it. */
async function metricsPerWorker(): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  await until(
    async () => {
      const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } })).text();
      const worker = /^process_start_time_seconds\{worker="(\d+)"\}/m.exec(text)?.[1] ?? '';
      seen.set(worker, text);
      return seen.size >= 2;
    },
    'the metrics of both workers',
    10_000,
    10,
  );
  return seen;
}

/** A reader that, when its connection is cut, comes back through the port with its cursor. */
class ResumingReader {
  /** Events of the connections before this one. */
  private earlier: Frame[] = [];
  private client: TestClient | undefined;
  private lastWelcome: string | undefined;
  reconnects = 0;
  private stopped = false;

  /** Every event received, over every connection, in arrival order. */
  get events(): Frame[] {
    return [...this.earlier, ...(this.client?.events ?? [])];
  }

  async open(cursor?: string): Promise<void> {
    const client = await TestClient.connect(server.wsUrl, cursor ? { cursor } : {});
    this.client = client;
    this.lastWelcome ??= client.frames.find((f) => f.type === 'welcome')?.cursor;
    void client.closed.then(() => this.reopen(client));
  }

  private async reopen(closed: TestClient): Promise<void> {
    if (this.stopped) return;
    this.reconnects++;
    this.earlier.push(...closed.events);
    this.client = undefined;
    const cursor = this.earlier.at(-1)?.cursor ?? this.lastWelcome;
    for (;;) {
      try {
        await this.open(cursor);
        return;
      } catch {
        if (this.stopped) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.client?.close();
  }
}

/** Publishes one item, retrying the same item (idempotent) when a worker dies under the request. */
async function publishAcknowledged(fields: Record<string, unknown>): Promise<{ id: string; seq: number }> {
  const item = newItem(fields);
  for (let attempt = 0; ; attempt++) {
    try {
      // A connection of its own, bounded: one handed to a worker as it died is given up and retried.
      const res = await fetch(`${server.url}/api/v1/items`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(item),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as { cursor?: string };
      if (res.status === 201 || res.status === 200) return { id: item.id, seq: seqOf(body.cursor) };
      throw new Error(`publish answered ${res.status}: ${JSON.stringify(body)}`);
    } catch (error) {
      if (attempt >= 20 || (error as Error).message.startsWith('publish answered')) throw error;
    }
  }
}

describe('WORKERS=2 on SQLite', () => {
  it('spreads readers over both workers, and a publish on either reaches every reader', async () => {
    const readers = await Promise.all(Array.from({ length: 8 }, () => TestClient.connect(server.wsUrl)));
    const perWorker = [...(await metricsPerWorker()).values()].map((text) => Number(/^newswire_ws_connections\{worker="\d+"\} (\S+)$/m.exec(text)?.[1]));
    expect(perWorker).toHaveLength(2);
    for (const count of perWorker) expect(count).toBeGreaterThan(0);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(8);

    // Connections of their own: the cluster hands them to both workers in turn.
    const published = [];
    for (let i = 0; i < 6; i++) published.push(await publishAcknowledged({ headline: `Spread ${i}` }));
    const writers = new Set(logLines('write').filter((line) => line.action === 'publish').map((line) => line.worker));
    expect(writers.size).toBe(2);
    for (const reader of readers) {
      const events = await reader.waitForEvents(published.length);
      expect(events.map((e) => e.item?.id)).toEqual(published.map((p) => p.id));
      expect(events.map((e) => seqOf(e.cursor))).toEqual(published.map((p) => p.seq));
    }
    await Promise.all(readers.map((reader) => reader.close()));
  });

  it('loses nothing when a worker is killed mid-stream: its readers resume on the other, and it is replaced', async () => {
    const before = logLines('worker listening').length;
    const readers = Array.from({ length: 10 }, () => new ResumingReader());
    await Promise.all(readers.map((reader) => reader.open()));
    const acknowledged: { id: string; seq: number }[] = [];
    const victim = (logLines('listening').at(-1)?.pids as number[] | undefined)?.[0] ?? 0;
    expect(victim).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) {
      if (i === 15) process.kill(victim, 'SIGKILL');
      acknowledged.push(await publishAcknowledged({ headline: `Stream ${i}` }));
      if (process.env.DEBUG_CLUSTER_TEST) console.log('published', i, Date.now());
    }
    const seqs = acknowledged.map((a) => a.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);

    for (const reader of readers) {
      await until(() => reader.events.some((e) => seqOf(e.cursor) === seqs.at(-1)), 'the last acknowledged item at every reader', 15_000);
      expect(reader.events.map((e) => e.item?.id)).toEqual(acknowledged.map((a) => a.id));
      expect(reader.events.map((e) => seqOf(e.cursor))).toEqual(seqs);
    }
    // Readers were on both workers: some were cut by the kill, some never noticed.
    const cut = readers.filter((reader) => reader.reconnects > 0).length;
    expect(cut).toBeGreaterThan(0);
    expect(cut).toBeLessThan(readers.length);

    const died = await until(() => logLines('worker died: starting another').find((line) => line.pid === victim), 'the primary to see the death');
    expect(died.signal).toBe('SIGKILL');
    await until(() => logLines('worker listening').length > before, 'a replacement worker listening', 90_000);
    const replaced = await until(() => logLines('worker replaced')[0], 'the replacement logged');
    await Promise.all(readers.map((reader) => reader.close()));

    // A worker that dies soon after its start is replaced after a backoff, not at once.
    process.kill(replaced.pid as number, 'SIGKILL');
    const again = await until(() => logLines('worker died: starting another').find((line) => line.pid === replaced.pid), 'the second death');
    // Each death within 10 s of a start doubles the wait (from 500 ms); the first kill counts if that worker was young too.
    const backoff = died.replaceInMs === 0 ? 500 : (died.replaceInMs as number) * 2;
    expect(again.replaceInMs).toBe((again.livedMs as number) < 10_000 ? backoff : 0);
    await until(() => logLines('worker replaced').length === 2, 'the second replacement', 90_000);
  }, 150_000);

  it('replaces every worker on SIGHUP while the port keeps answering', async () => {
    const polls: (number | string)[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        polls.push(await getOnce('/healthz'));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const reader = new ResumingReader();
    await reader.open();
    const before = new Set(logLines('worker listening').map((line) => line.pid));

    server.process.kill('SIGHUP');
    const done = await until(() => logLines('rolling restart done')[0], 'the rolling restart to finish', 120_000, 100);
    const fresh = done.pids as number[];
    expect(fresh).toHaveLength(2);
    for (const pid of fresh) expect(before.has(pid)).toBe(false);
    const after = polls.length;
    await until(() => polls.length > after + 5, 'a few more polls on the new workers');
    polling = false;
    await poller;
    expect(polls.filter((status) => status !== 200)).toEqual([]);
    expect(polls.length).toBeGreaterThan(20);

    // A reader of a drained worker resumed on a new one and still gets what is published.
    const { id } = await publishAcknowledged({ headline: 'After the rolling restart' });
    await until(() => reader.events.some((e) => e.item?.id === id), 'the reader to get the item after the restart');
    await reader.close();
  }, 150_000);

  it('drains every worker on SIGTERM and exits', async () => {
    const pids = logLines('rolling restart done')[0]?.pids as number[];
    const code = await server.stop();
    expect(code).toBe(0);
    expect(logLines('stopped').filter((line) => line.worker === undefined)).toHaveLength(1);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
