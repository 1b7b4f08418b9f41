// No anonymous request costs more than a few plain front pages: pages take a
// bounded number of topics, and views of many topics are merged from shared
// per-topic reads, so a client varying its topic sets selects no new work.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuMs, http } from '../support/http.ts';
import { metricsText } from '../support/metrics.ts';
import { api, cleanup, newItem, startServer, type TestServer } from '../support/server.ts';

afterAll(cleanup);

const TOPICS = Array.from({ length: 64 }, (_, i) => `topic-${i}`);
const pick = (count: number, seed: number) => {
  const chosen = new Set<string>();
  let x = seed;
  while (chosen.size < count) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    chosen.add(TOPICS[(x >>> 16) % TOPICS.length] as string);
  }
  return [...chosen];
};
const reads = async (server: TestServer) => {
  const text = await metricsText(server);
  return [...text.matchAll(/^newswire_view_reads_total\{detail="\w+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
};

describe('work an anonymous request may cause', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { CONNECTIONS_PER_SECOND_PER_ADDRESS: '10000', HTTP_RATE_PER_10S: '100000', PUBLISH_RATE_PER_MINUTE: '100000' } });
    const body = `<p>${'A paragraph of the report. '.repeat(180)}</p>`;
    // 1,280 stories over 64 topics, three topics each.
    for (let i = 0; i < 1_280; i += 16) {
      await Promise.all(
        Array.from({ length: 16 }, (_, k) =>
          api(server, 'POST', '/api/v1/items', newItem({ body, summary: 'Summary of the report.', topics: pick(3, i + k + 1) })),
        ),
      );
    }
  }, 120_000);

  it('refuses a page of more topics than a page may combine, as a page', async () => {
    const res = await http(`${server.url}/?topics=${pick(9, 7).join(',')}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('at most 8 topics');
    const nope = await http(`${server.url}/?topics=NOPE!!`);
    expect(nope.status).toBe(400);
    expect(nope.body).toContain('<h1>This page cannot be shown</h1>');
  });

  it('serves pages of ever-new topic sets from shared reads, at a few front pages’ cost', async () => {
    const pid = server.process.pid as number;
    // Plain front pages, each after an event (so each is a fresh build and render).
    let front = 0;
    for (let i = 0; i < 20; i++) {
      await api(server, 'POST', '/api/v1/items', newItem({ topics: ['elsewhere'] }));
      const before = cpuMs(pid);
      expect((await http(`${server.url}/`)).status).toBe(200);
      front += cpuMs(pid) - before;
    }
    // Every topic read once (the parts every view is merged from).
    for (const topic of TOPICS) await http(`${server.url}/?topics=${topic}`);
    const readsBefore = await reads(server);
    const before = cpuMs(pid);
    for (let i = 0; i < 40; i++) expect((await http(`${server.url}/?topics=${pick(8, 1_000 + i).join(',')}`)).status).toBe(200);
    const eight = (cpuMs(pid) - before) / 40;
    expect(await reads(server)).toBe(readsBefore);
    expect(eight).toBeLessThan(Math.max(4 * (front / 20), 20));
  });

  it('answers stale cursors with 64 topics from shared reads: no read per connection', async () => {
    const pid = server.process.pid as number;
    const connect = (topics: string[]) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${server.wsUrl}?topics=${topics.join(',')}&cursor=zzzzzzzzzzzzzzzz-5`);
        const started = Date.now();
        ws.on('message', (data) => {
          if (JSON.parse(data.toString()).type !== 'reset') return;
          resolve(Date.now() - started);
          ws.close();
        });
        ws.on('error', reject);
      });
    await connect(TOPICS);
    const readsBefore = await reads(server);
    const before = cpuMs(pid);
    // The same 64 topics in other orders, and 60 of them with 4 made-up ones.
    for (let i = 0; i < 20; i++) {
      const topics = i % 2 ? [...TOPICS].reverse() : [...pick(60, 50 + i), `made-up-${i}-a`, `made-up-${i}-b`, `made-up-${i}-c`, `made-up-${i}-d`];
      await connect(topics);
    }
    const perConnect = (cpuMs(pid) - before) / 20;
    // Only the made-up topics were never read before: one read per such connection at most.
    expect((await reads(server)) - readsBefore).toBeLessThanOrEqual(10);
    expect(perConnect).toBeLessThan(25);
  });

  it('keeps health checks fast while clients hammer topic pages', async () => {
    let stop = false;
    const hammer = async (seed: number) => {
      let n = 0;
      while (!stop) await http(`${server.url}/?topics=${pick(8, seed * 1_000 + n++).join(',')}`, { from: `127.0.0.${30 + (seed % 10)}` });
    };
    const hammers = Array.from({ length: 10 }, (_, i) => hammer(i));
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = Date.now();
      await http(`${server.url}/healthz`, { from: '127.0.0.50' });
      times.push(Date.now() - started);
    }
    stop = true;
    await Promise.all(hammers);
    times.sort((a, b) => a - b);
    expect(times[10]).toBeLessThan(200);
  });
});
