// A reader that stops reading cannot make the server hold more for it:
// a resume it does not take, live events piling up behind the replay, and
// pongs it sends without being asked all end in its connection being cut,
// within the heartbeat, with memory back where it was.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssMb } from '../support/http.ts';
import { metric, metricsText } from '../support/metrics.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

afterAll(cleanup);

const connections = (server: TestServer) => metric(server, 'newswire_ws_connections', NaN);

/** How long (ms) `check` took to hold, polling every 100 ms; -1 past `ms`. */
async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  try {
    await until(check, 'the condition', ms, 100);
    return Date.now() - started;
  } catch {
    return -1;
  }
}

/** Opens a socket and stops reading at once; it keeps sending pongs nobody asked for. */
async function stalled(url: string): Promise<{ ws: WebSocket; stop(): void; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve) => ws.once('open', resolve));
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const pongs = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.pong(Buffer.from('alive'));
  }, 150);
  return { ws, closed, stop: () => clearInterval(pongs) };
}

describe('readers that stop reading', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: { WS_SEND_BUFFER_BYTES: '262144', WS_HEARTBEAT_SECONDS: '1', MAX_BODY_BYTES: '400000', PUBLISH_RATE_PER_MINUTE: '100000' },
    });
  });

  it('a stalled resume is cut within the heartbeat, whatever arrives meanwhile; memory comes back', async () => {
    const body = `<p>${'Twenty kilobytes of report. '.repeat(700)}</p>`;
    const first = await api(server, 'POST', '/api/v1/items', newItem({ body }));
    for (let i = 0; i < 40; i++) await api(server, 'POST', '/api/v1/items', newItem({ body }));
    const pid = server.process.pid as number;
    const before = rssMb(pid);
    const reader = await stalled(`${server.wsUrl}?detail=full&cursor=${first.body.cursor}`);
    // Live events pile up behind the replay it does not take: 300 × 20 KB.
    const publishing = (async () => {
      for (let i = 0; i < 300; i++) await api(server, 'POST', '/api/v1/items', newItem({ body }));
    })();
    const took = await waitUntil(async () => (await connections(server)) === 0, 8_000);
    reader.stop();
    await publishing;
    expect(took).toBeGreaterThanOrEqual(0);
    // Reading again, it learns the connection is over: 4008 if the close frame
    // reached it before the cut, 1006 if not (see the README).
    (reader.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1006, 4008]).toContain(await reader.closed);
    expect(rssMb(pid) - before).toBeLessThan(60);
    const metrics = await metricsText(server);
    // Cut by whichever came first: the send buffer's bound or the missed heartbeat.
    const cuts = ['newswire_slow_consumer_closes_total', 'newswire_heartbeat_closes_total']
      .map((name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0))
      .reduce((sum, count) => sum + count, 0);
    expect(cuts).toBeGreaterThan(0);
  }, 60_000);

  it('pongs nobody asked for do not keep a silent reader alive', async () => {
    const reader = await stalled(server.wsUrl);
    expect(await connections(server)).toBe(1);
    // Two missed heartbeats (1 s each), and it is gone.
    const took = await waitUntil(async () => (await connections(server)) === 0, 5_000);
    reader.stop();
    expect(took).toBeGreaterThanOrEqual(0);
    expect(took).toBeLessThan(3_500);
    // A reader that reads (and so answers pings) stays.
    const live = new WebSocket(server.wsUrl);
    await new Promise((resolve) => live.once('open', resolve));
    await new Promise((r) => setTimeout(r, 2_500));
    expect(live.readyState).toBe(WebSocket.OPEN);
    live.close();
  });
});
