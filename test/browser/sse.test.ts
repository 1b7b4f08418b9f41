// Chromium's own EventSource against a real server: live events by topic,
// the browser's reconnect with Last-Event-ID across a restart with events
// published meanwhile, reset on a cursor of another epoch, CORS for the
// origins allowed, and public/client.js on the event stream.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../client/proxy.ts';
import { api, cleanup, publishOk, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, type WatchedPage } from './browser.ts';


/** Failed reconnects and refused streams are logged by the browser; they are the point here. */
const EXPECTED_NOISE = ['ERR_', 'EventSource', '403'];

interface Seen {
  type: string;
  lastEventId: string;
  data: Record<string, any>;
}

declare global {
  interface Window {
    seen: Seen[];
    stream: EventSource;
  }
}

/** Opens an EventSource in the page that records every named event in window.seen. */
async function listen(page: Page, url: string): Promise<void> {
  await page.evaluate((url) => {
    window.seen = [];
    window.stream = new EventSource(url);
    for (const type of ['welcome', 'published', 'updated', 'retracted', 'reset']) {
      window.stream.addEventListener(type, (event) => {
        const message = event as MessageEvent<string>;
        window.seen.push({ type, lastEventId: message.lastEventId, data: JSON.parse(message.data) });
      });
    }
  }, url);
}

const seen = (page: Page) => page.evaluate(() => window.seen);
const events = async (page: Page) => (await seen(page)).filter((s) => s.data.type === 'event');

async function waitFor(page: Page, check: () => boolean, timeout = 10_000): Promise<void> {
  try {
    await page.waitForFunction(check, undefined, { timeout, polling: 50 });
  } catch (error) {
    // What the page had, and the stream's state (0 connecting, 1 open, 2 given up), say why.
    const state = await page.evaluate(() => ({ readyState: window.stream?.readyState, seen: window.seen })).catch(() => undefined);
    throw new Error(`${(error as Error).message}\n${JSON.stringify(state)}`);
  }
}

describe('EventSource in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let proxy: TcpProxy;
  const pages: WatchedPage[] = [];
  // Pages of other origins: a blank page on a port of its own, as 127.0.0.1
  // (allowed) and as localhost (not). On loopback, since Chromium keeps
  // public pages from reaching local addresses.
  let elsewhere: Server;
  let allowed: string;
  let foreign: string;

  const publish = (fields: Record<string, unknown> = {}) => publishOk(server, fields);

  async function open(url: string): Promise<Page> {
    const watched = await openPage(browser, url, { allow: EXPECTED_NOISE });
    pages.push(watched);
    return watched.page;
  }

  beforeAll(async () => {
    elsewhere = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const { port } = elsewhere.address() as AddressInfo;
    allowed = `http://127.0.0.1:${port}`;
    foreign = `http://localhost:${port}`;
    [server, browser] = await Promise.all([startServer({ env: { ALLOWED_ORIGINS: allowed } }), launchBrowser()]);
    proxy = await TcpProxy.start(server.port);
  });

  afterAll(async () => {
    try {
      for (const watched of pages) await watched.close();
      await browser?.close();
      await proxy?.close();
      elsewhere?.closeAllConnections();
      await new Promise((resolve) => elsewhere?.close(resolve));
    } finally {
      await cleanup();
    }
  });

  it('gets live events by topic, and after a restart resumes by itself with Last-Event-ID: exactly what it missed, in order', async () => {
    // Through a TCP proxy, so the test can hold the browser off while the newsroom keeps publishing.
    const page = await open(`${proxy.url}/healthz`);
    await listen(page, '/sse?topics=world');
    await waitFor(page, () => window.seen.some((s) => s.type === 'welcome'));
    const a = await publish({ topics: ['world'] });
    await publish({ topics: ['sport'] });
    const b = await publish({ topics: ['world'] });
    await waitFor(page, () => window.seen.filter((s) => s.data.type === 'event').length >= 2);
    expect((await events(page)).map((e) => [e.type, e.data.item.id, e.lastEventId])).toEqual([
      ['published', a.item.id, a.cursor],
      ['published', b.item.id, b.cursor],
    ]);

    await server.stop();
    proxy.cut();
    server = await server.restart();
    const c = await publish({ topics: ['world'] });
    await publish({ topics: ['sport'] });
    const corrected = await api(server, 'PUT', `/api/v1/items/${a.item.id}`, { headline: 'Corrected', topics: ['world'] });
    const withdrawn = await api(server, 'DELETE', `/api/v1/items/${b.item.id}?reason=Withdrawn`);
    expect([corrected.status, withdrawn.status]).toEqual([200, 200]);
    expect(await events(page)).toHaveLength(2);

    proxy.heal();
    await waitFor(page, () => window.seen.filter((s) => s.data.type === 'event').length >= 5, 20_000);
    const d = await publish({ topics: ['world'] });
    await waitFor(page, () => window.seen.filter((s) => s.data.type === 'event').length >= 6);
    expect((await events(page)).map((e) => `${e.type} ${e.data.item.id} ${e.lastEventId === e.data.cursor}`)).toEqual([
      `published ${a.item.id} true`,
      `published ${b.item.id} true`,
      `published ${c.item.id} true`,
      `updated ${a.item.id} true`,
      `retracted ${b.item.id} true`,
      `published ${d.item.id} true`,
    ]);
    // The browser's own reconnect, from the id of the last event it had.
    const welcomes = (await seen(page)).filter((s) => s.type === 'welcome');
    expect(welcomes.at(-1)?.data).toMatchObject({ resumed: true, cursor: b.cursor });
    await page.evaluate(() => window.stream.close());
  });

  it('answers a cursor of another epoch with a reset whose cursor becomes the last event id', async () => {
    const latest = await publish({ topics: ['browser-reset'] });
    const page = await open(`${server.url}/healthz`);
    await listen(page, '/sse?topics=browser-reset&cursor=zzzzzzzzzzzzzzzz-4');
    await waitFor(page, () => window.seen.some((s) => s.type === 'reset'));
    const reset = (await seen(page)).find((s) => s.type === 'reset') as Seen;
    expect(reset.data).toMatchObject({ reason: 'epoch-changed', items: [{ id: latest.item.id }] });
    expect(reset.lastEventId).toBe(reset.data.cursor);
    await page.evaluate(() => window.stream.close());
  });

  it('opens across origins only for an allowed origin (CORS), and is refused for another', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const openFrom = async (origin: string) => {
        await page.goto(`${origin}/`);
        return page.evaluate(
          (url) =>
            new Promise<string>((resolve) => {
              const stream = new EventSource(url);
              stream.addEventListener('welcome', () => {
                stream.close();
                resolve('welcome');
              });
              stream.onerror = () => {
                if (stream.readyState === EventSource.CLOSED) resolve('refused');
              };
            }),
          `${server.url}/sse`,
        );
      };
      expect(await openFrom(allowed)).toBe('welcome');
      expect(await openFrom(foreign)).toBe('refused');
    } finally {
      await context.close();
    }
  });

  it('runs public/client.js on the event stream: live, then events', async () => {
    const page = await open(`${server.url}/healthz`);
    // A string, so that the test runner leaves the import to the page.
    await page.evaluate("import('/assets/client.js').then((module) => { window.NewsClient = module.NewsClient; })");
    await page.evaluate(() => {
      const { NewsClient } = window as unknown as { NewsClient: new (options: Record<string, unknown>) => { start(): void } };
      window.seen = [];
      const client = new NewsClient({
        transport: 'sse',
        topics: ['browser-client'],
        onEvent: (frame: Record<string, any>) => window.seen.push({ type: frame.event, lastEventId: '', data: frame }),
        onState: (state: string) => window.seen.push({ type: `state:${state}`, lastEventId: '', data: {} }),
      });
      client.start();
    });
    await waitFor(page, () => window.seen.some((s) => s.type === 'state:live'));
    const item = await publish({ topics: ['browser-client'] });
    await waitFor(page, () => window.seen.some((s) => s.data.type === 'event'));
    expect((await events(page)).map((e) => e.data.item.id)).toEqual([item.item.id]);
  });
});
