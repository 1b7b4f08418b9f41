// Composition: store → bus → hub → transports (WebSocket, feeds, pages, API).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { problem } from './api/errors.ts';
import { itemsApi } from './api/items.ts';
import type { Bus, BusSink } from './bus/bus.ts';
import { LocalBus } from './bus/local.ts';
import type { Config } from './config.ts';
import { formatCursor } from './domain/cursor.ts';
import { ID_PATTERN } from './domain/item.ts';
import { FeedCache } from './feeds/cache.ts';
import { feedFastPath } from './feeds/fast-path.ts';
import { feedRoutes } from './feeds/routes.ts';
import { Hub } from './hub/hub.ts';
import type { Logger } from './ops/logger.ts';
import { createMetrics, type Metrics } from './ops/metrics.ts';
import { notFoundPage, withdrawnPage } from './pages/layout.ts';
import { newsroomPage } from './pages/newsroom.ts';
import { itemPage, readerPage } from './pages/reader.ts';
import { Gateway } from './realtime/gateway.ts';
import { parseTopicsParam } from './realtime/protocol.ts';
import { Scheduler } from './schedule/scheduler.ts';
import { latestFor } from './store/latest.ts';
import { SqliteStore } from './store/sqlite.ts';
import { type Store, StoreUnavailableError } from './store/store.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

export interface Backends {
  store: Store;
  bus: Bus;
}

/** The embedded default, or Redis when REDIS_URL is set. */
export async function createBackends(config: Config, logger: Logger, metrics: Metrics): Promise<Backends> {
  if (config.redisUrl) {
    const { createRedisBackends } = await import('./redis.ts');
    return createRedisBackends(config, logger, metrics);
  }
  const store = new SqliteStore({ dataDir: config.dataDir, retention: config.retention });
  return { store, bus: new LocalBus(store) };
}

export interface Runtime {
  readonly server: Server;
  readonly store: Store;
  readonly bus: Bus;
  readonly hub: Hub;
  readonly gateway: Gateway;
  readonly metrics: Metrics;
  start(): Promise<AddressInfo>;
  stop(): Promise<void>;
}

export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const metrics = createMetrics();
  const { store, bus } = await createBackends(config, logger, metrics);
  const hub = new Hub({
    onDeliver(event, reached) {
      metrics.events.inc({ type: event.type });
      metrics.deliveries.inc(reached);
      metrics.busLag.observe(Math.max(0, Date.now() - Date.parse(event.at)) / 1000);
    },
  }, config.limits.resumeMemoryEvents);
  const feeds = new FeedCache({
    store,
    metrics,
    siteTitle: config.siteTitle,
    items: config.feed.items,
    maxAgeSeconds: config.feed.maxAgeSeconds,
  });
  const gateway = new Gateway({
    hub,
    store,
    metrics,
    logger,
    allowedOrigins: config.allowedOrigins,
    limits: {
      maxPayload: config.limits.wsMaxPayload,
      maxTopics: config.limits.wsMaxTopics,
      sendBuffer: config.limits.wsSendBuffer,
      heartbeatMs: config.limits.wsHeartbeatMs,
      maxConnections: config.limits.wsMaxConnections,
      messagesPer10s: config.limits.wsMessagesPer10s,
      snapshotItems: config.limits.snapshotItems,
    },
  });

  const sink: BusSink = {
    event(event, epoch) {
      hub.deliver(event, epoch);
      feeds.invalidate(event);
    },
    reset(epoch, headSeq) {
      logger.warn({ epoch, headSeq }, 'the log was replaced (new epoch): sending every client a reset');
      hub.startAt(epoch, headSeq);
      feeds.invalidateAll();
      void gateway.resetAll('epoch-changed');
    },
  };

  const app = createApp({ config, store, bus, metrics, feeds, logger });
  const honoListener = getRequestListener(app.fetch, { hostname: config.host });
  let feedPolls: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  const server = createServer((req, res) => {
    if (feedPolls?.(req, res)) return;
    void honoListener(req, res);
  });
  server.on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  server.keepAliveTimeout = 65_000;

  let trimTimer: NodeJS.Timeout | undefined;
  const scheduler = new Scheduler({ store, bus, logger, metrics });

  return {
    server,
    store,
    bus,
    hub,
    gateway,
    metrics,
    async start() {
      const origin = await bus.start(sink);
      hub.startAt(origin.epoch, origin.seq);
      await store.trim().catch((error: unknown) => logger.warn({ err: error }, 'retention trim failed'));
      trimTimer = setInterval(() => {
        store.trim().catch((error: unknown) => logger.warn({ err: error }, 'retention trim failed'));
      }, 60_000);
      trimTimer.unref();
      // After the bus: a released item's event must have somewhere to go.
      scheduler.start();
      // The fast path answers cached feeds with the same headers the app's
      // middleware gives them: ask the app once which those are.
      const probe = await app.request('/feeds/-.rss');
      const baseHeaders = [...probe.headers].filter(([name]) => !/^content-(type|length)$/.test(name));
      feedPolls = feedFastPath(feeds, { publicUrl: config.publicUrl, maxAgeSeconds: config.feed.maxAgeSeconds, baseHeaders });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // A reconnect storm arrives faster than Node's default backlog (511) drains.
        server.listen({ port: config.port, host: config.host, backlog: 4_096 }, () => resolve());
      });
      return server.address() as AddressInfo;
    },
    async stop() {
      clearInterval(trimTimer);
      await scheduler.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.shutdown(config.shutdownGraceMs);
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, config.shutdownGraceMs).unref())]);
      server.closeAllConnections();
      await bus.close();
      await store.close();
    },
  };
}

interface AppDeps {
  config: Config;
  store: Store;
  bus: Bus;
  metrics: Metrics;
  feeds: FeedCache;
  logger: Logger;
}

export function createApp({ config, store, bus, metrics, feeds, logger }: AppDeps): Hono {
  const app = new Hono();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'https:', 'data:'],
        // 'self' covers this origin's ws:/wss: too; a bare ws: would let a page talk to any host.
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      crossOriginResourcePolicy: 'cross-origin',
    }),
  );

  app.use(
    '/api/*',
    cors({
      origin: config.allowedOrigins === '*' ? '*' : config.allowedOrigins,
      allowHeaders: ['Authorization', 'Content-Type'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['Location', 'Retry-After'],
      maxAge: 600,
    }),
  );
  app.use('/feeds/*', cors({ origin: '*', exposeHeaders: ['ETag', 'Last-Modified'] }));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    try {
      await store.ping();
      checks.store = 'ok';
    } catch (error) {
      checks.store = error instanceof Error ? error.message : 'unreachable';
    }
    checks.bus = bus.isLive() ? 'ok' : 'fan-out is not live';
    const ready = checks.store === 'ok' && checks.bus === 'ok';
    return c.json({ status: ready ? 'ready' : 'unready', checks }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.route(
    '/api/v1',
    itemsApi({
      store,
      bus,
      metrics,
      tokens: config.publisherTokens,
      maxBodyBytes: config.limits.maxBodyBytes,
      publishPerMinute: config.limits.publishPerMinute,
      listLimit: Math.max(100, config.limits.snapshotItems),
    }),
  );
  app.route('/feeds', feedRoutes(feeds, { publicUrl: config.publicUrl, maxAgeSeconds: config.feed.maxAgeSeconds }));

  app.get('/', async (c) => {
    const parsed = parseTopicsParam(c.req.query('topics') ?? null, config.limits.wsMaxTopics);
    if ('error' in parsed) return problem(c, 400, 'invalid-request', parsed.error);
    const snapshot = await latestFor(store, parsed.topics, config.limits.snapshotItems);
    c.header('Cache-Control', 'no-cache');
    return c.html(
      readerPage({
        siteTitle: config.siteTitle,
        topics: parsed.topics ? [...parsed.topics] : null,
        items: snapshot.items,
        cursor: formatCursor(snapshot.epoch, snapshot.headSeq),
      }),
    );
  });
  app.get('/items/:id', async (c) => {
    const id = c.req.param('id');
    const item = ID_PATTERN.test(id) ? await store.getItem(id) : null;
    // A held item does not exist for readers until its embargo lifts.
    if (!item || item.status === 'scheduled') return c.html(notFoundPage(config.siteTitle), 404);
    if (item.status === 'retracted') return c.html(withdrawnPage(config.siteTitle, item.reason), 410);
    c.header('Cache-Control', 'no-cache');
    return c.html(itemPage(config.siteTitle, item));
  });

  // Newsroom console: a static shell; the token lives in the tab, never in a cookie.
  app.get('/newsroom', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.html(newsroomPage(config.siteTitle));
  });
  app.use(
    '/assets/*',
    serveStatic({ root: PUBLIC_DIR, rewriteRequestPath: (path) => path.replace(/^\/assets/, '') }),
  );

  app.notFound((c) => problem(c, 404, 'not-found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((error, c) => {
    if (error instanceof StoreUnavailableError) {
      c.header('Retry-After', '2');
      return problem(c, 503, 'store-unavailable', 'the store cannot be reached right now, retry');
    }
    logger.error({ err: error, path: c.req.path }, 'request failed');
    return problem(c, 500, 'internal', 'internal error');
  });
  return app;
}
