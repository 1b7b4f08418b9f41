// Composition: store → bus → hub → transports (WebSocket, feeds, pages, API),
// behind the edge that bounds what any one address may take.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { HttpBindings } from '@hono/node-server';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { principalChecker, tokenGuard } from './api/auth.ts';
import { problem } from './api/errors.ts';
import { itemsApi } from './api/items.ts';
import { keysApi } from './api/keys.ts';
import { apiDocsRoutes } from './api/openapi-page.ts';
import { newswireApiDocument } from './api/openapi-routes.ts';
import { createBackends } from './backends.ts';
import type { Bus, BusSink } from './bus/bus.ts';
import { type Config, StartupError } from './config.ts';
import { ProxyTrust } from './edge/address.ts';
import { ceilingsFor, openFilesLimit } from './edge/files.ts';
import { Edge } from './edge/guard.ts';
import { PublicOrigin } from './edge/public-origin.ts';
import { precompressedAssets } from './http/assets.ts';
import { HttpDrain } from './http/drain.ts';
import { FeedCache } from './feeds/cache.ts';
import { feedFastPath } from './feeds/fast-path.ts';
import { feedRoutes } from './feeds/routes.ts';
import { Hub } from './hub/hub.ts';
import { keyStoreFor } from './keys/backend.ts';
import { KeyRing } from './keys/ring.ts';
import { mediaRoutes } from './media/routes.ts';
import { idempotency } from './idempotency/middleware.ts';
import { type IdempotencyRecords, idempotencyRecordsFor } from './idempotency/records.ts';
import { ninjsApi } from './ninjs/routes.ts';
import { type NinjsState, ninjsState } from './ninjs/state.ts';
import { type AccessLog, createAccessLog, REQUEST_ID_HEADER } from './ops/access-log.ts';
import type { Logger } from './ops/logger.ts';
import { createMetrics, type Metrics } from './ops/metrics.ts';
import { createOutbound, type Outbound } from './outbound/outbound.ts';
import { pageRoutes } from './pages/routes.ts';
import type { Presence } from './presence/presence.ts';
import { createPresence } from './presence/select.ts';
import { Gateway } from './realtime/gateway.ts';
import { SseEndpoint } from './realtime/sse.ts';
import { Scheduler } from './schedule/scheduler.ts';
import { seoRoutes } from './seo/routes.ts';
import { SitemapCache } from './seo/sitemaps.ts';
import { describeStoreProblem } from './store/redis.ts';
import { type Store, StoreUnavailableError } from './store/store.ts';
import { ViewCache } from './views/views.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));
/** Modules the server's pages and the browser both run (served as /assets/shared/). */
const SHARED_DIR = fileURLToPath(new URL('./shared', import.meta.url));
/** Probes are never rate-limited: monitoring must see a process under attack. */
const PROBES = new Set(['/healthz', '/readyz']);

export interface Runtime {
  readonly server: Server;
  /** The web application, for requests in this process (tests) without the edge in front. */
  readonly app: Hono<AppEnv>;
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
  const { store, bus, outbox } = await createBackends(config, logger, metrics);
  const ninjs = ninjsState(store, config.retention.itemMaxAgeMs, logger);
  const idempotent = idempotencyRecordsFor(store, logger);
  const { limits } = config;
  // Publisher keys beside the log; each process keeps them in memory, current within a second.
  const keys = new KeyRing(keyStoreFor(store), logger);
  const hub = new Hub(
    {
      onDeliver(event, reached) {
        metrics.events.inc({ type: event.type });
        metrics.deliveries.inc(reached);
        metrics.busLag.observe(Math.max(0, Date.now() - Date.parse(event.at)) / 1000);
      },
    },
    { events: limits.resumeMemoryEvents, bytes: limits.resumeMemoryBytes },
  );
  const listLimit = Math.max(100, limits.snapshotItems);
  // Readers connected per topic, for the newsroom console (summed over processes on Redis).
  const presence = createPresence(store, () => hub.readers(), logger);
  const views = new ViewCache({
    store,
    limits: { card: listLimit, full: config.feed.items },
    maxBytes: limits.viewCacheBytes,
    onRead: (detail) => metrics.viewBuilds.inc({ detail }),
  });
  const publicOrigin = new PublicOrigin(config.publicUrl, logger);
  /** PUBLIC_URL, or the origin this process settled on: every absolute link (feeds, sitemaps, pages, push). */
  const baseUrl = () => publicOrigin.base;
  const feeds = new FeedCache({
    views,
    metrics,
    siteTitle: config.siteTitle,
    maxAgeSeconds: config.feed.maxAgeSeconds,
    maxBytes: limits.feedCacheBytes,
    baseUrl,
    withdrawals: {
      read: (sinceMs, limit) => store.withdrawn(sinceMs, limit),
      windowMs: config.feed.withdrawnMs,
      feedItems: config.feed.items,
    },
  });

  const sitemaps = new SitemapCache({ store, metrics, siteTitle: config.siteTitle, baseUrl });

  const outbound = await createOutbound({
    config,
    store,
    outbox,
    feeds,
    metrics,
    logger,
    baseUrl,
    deliveredSeq: () => hub.lastSeq,
  });

  const ceilings = ceilingsFor(openFilesLimit());
  const wsMax = Math.min(limits.wsMaxConnections ?? ceilings.webSockets, ceilings.webSockets);
  if (limits.wsMaxConnections !== undefined && limits.wsMaxConnections > ceilings.webSockets) {
    logger.warn(
      { configured: limits.wsMaxConnections, ceiling: ceilings.webSockets },
      'WS_MAX_CONNECTIONS is above what the open-files limit allows: using the ceiling (raise `ulimit -n` for more)',
    );
  }
  metrics.ceilings.set({ kind: 'sockets' }, ceilings.sockets);
  metrics.ceilings.set({ kind: 'websockets' }, wsMax);
  const edge = new Edge({
    trust: new ProxyTrust(config.trustProxy),
    limits: {
      connectionsPerAddress: limits.connectionsPerAddress,
      newConnectionsPerSecond: limits.newConnectionsPerSecond,
      requestsPer10s: limits.requestsPer10s,
    },
    ceilings,
    metrics,
    logger,
  });
  const gateway = new Gateway({
    hub,
    store,
    views,
    metrics,
    logger,
    edge,
    allowedOrigins: config.allowedOrigins,
    publicOrigin: config.publicUrl ? new URL(config.publicUrl).origin : undefined,
    limits: {
      maxPayload: limits.wsMaxPayload,
      maxTopics: limits.wsMaxTopics,
      maxItems: limits.wsMaxItems,
      sendBuffer: limits.wsSendBuffer,
      heartbeatMs: limits.wsHeartbeatMs,
      maxConnections: wsMax,
      messagesPer10s: limits.wsMessagesPer10s,
      snapshotItems: limits.snapshotItems,
    },
  });
  // Event streams share the WebSockets' sessions, limits and shutdown.
  const sse = new SseEndpoint(gateway.live);

  const sink: BusSink = {
    event(event, epoch) {
      // Views and feeds first: whatever a reader is served after this knows of the event.
      views.invalidate(event, epoch);
      feeds.invalidate(event);
      sitemaps.invalidate();
      hub.deliver(event, epoch);
      // Push and WebSub plan after this turn's fan-out, never before it.
      outbound.dispatcher.event(event);
    },
    reset(epoch, headSeq) {
      logger.warn({ epoch, headSeq }, 'the log was replaced (new epoch): sending every client a reset');
      views.startAt(epoch, headSeq);
      feeds.invalidateAll();
      sitemaps.invalidate();
      hub.startAt(epoch, headSeq);
      void gateway.resetAll('epoch-changed');
      void outbound.dispatcher.restart(headSeq);
    },
  };

  const accessLog = createAccessLog({ logger, enabled: config.accessLog, addressOf: (req) => edge.client(req).address });
  const app = createApp({
    config,
    store,
    bus,
    metrics,
    feeds,
    views,
    edge,
    logger,
    listLimit,
    outbound,
    accessLog,
    keys,
    ninjs,
    idempotencyRecords: idempotent.records,
    sitemaps,
    baseUrl,
    presence,
  });
  const honoListener = getRequestListener(app.fetch, { hostname: config.host });
  let feedPolls: ((req: IncomingMessage, res: ServerResponse, requestId: string) => boolean) | undefined;
  const server = createServer(
    {
      // A slow or silent client is let go quickly: each connection is a file descriptor.
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const path = req.url ?? '/';
      const requestId = accessLog.request(req, res);
      if (!publicOrigin.origin) publicOrigin.offer(req.headers.host, edge.client(req).proto);
      if (!PROBES.has(path) && edge.limitRequest(req, res, requestId)) return;
      // Feed answers carry the id in their own header block; every other answer gets it here.
      if (feedPolls?.(req, res, requestId)) {
        accessLog.route(req, '/feeds/:name');
        return;
      }
      res.setHeader(REQUEST_ID_HEADER, requestId);
      if (sse.serve(req, res)) {
        accessLog.route(req, '/sse');
        accessLog.streamOpened(req, res);
        return;
      }
      void honoListener(req, res);
    },
  );
  // A connection that says nothing at all is closed too (a request in progress has its own timeouts).
  server.timeout = limits.headersTimeoutMs + limits.keepAliveMs;
  edge.attach(server);
  const drain = new HttpDrain(server);
  server.on('upgrade', (request, socket, head) => {
    accessLog.upgrade(request, socket);
    gateway.handleUpgrade(request, socket, head);
  });

  let trimTimer: NodeJS.Timeout | undefined;
  const scheduler = new Scheduler({ store, bus, logger, metrics });

  return {
    server,
    app,
    store,
    bus,
    hub,
    gateway,
    metrics,
    async start() {
      const origin = await bus.start(sink);
      views.startAt(origin.epoch, origin.seq);
      hub.startAt(origin.epoch, origin.seq);
      await keys.start();
      await store.trim().catch((error: unknown) => logger.warn({ err: error }, 'retention trim failed'));
      trimTimer = setInterval(() => {
        store.trim().catch((error: unknown) => logger.warn({ err: error }, 'retention trim failed'));
        metrics.cacheBytes.set({ cache: 'views' }, views.size.bytes);
        metrics.cacheBytes.set({ cache: 'recent-events' }, hub.recent.size.bytes);
      }, 60_000);
      trimTimer.unref();
      // After the bus: a released item's event must have somewhere to go.
      scheduler.start();
      presence.start();
      await outbound.dispatcher.start(origin.seq);
      // The fast path answers feeds with the same headers the app's
      // middleware gives them: ask the app once which those are.
      const probe = await app.request('/feeds/-.rss');
      // Not the probe's own request id: each feed response carries its own.
      const baseHeaders = [...probe.headers].filter(([name]) => !/^(content-(type|length)|x-request-id)$/.test(name));
      feedPolls = feedFastPath(feeds, {
        maxAgeSeconds: config.feed.maxAgeSeconds,
        baseHeaders,
        fallback: (req, res, requestId) => {
          res.setHeader(REQUEST_ID_HEADER, requestId);
          void honoListener(req, res);
        },
        answered: (method, status) => metrics.httpRequests.inc({ route: '/feeds/:name', method, status: String(status) }),
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          const where = `${config.host}:${config.port}`;
          if (error.code === 'EADDRINUSE') reject(new StartupError(`PORT: ${where} is already in use by another process`));
          else if (error.code === 'EACCES') reject(new StartupError(`PORT: this process may not listen on ${where} (a port below 1024 needs privileges)`));
          else if (error.code === 'EADDRNOTAVAIL') reject(new StartupError(`HOST: ${config.host} is not an address of this machine`));
          else reject(error);
        });
        // A reconnect storm arrives faster than Node's default backlog (511) drains.
        server.listen({ port: config.port, host: config.host, backlog: 4_096 }, () => resolve());
      });
      return server.address() as AddressInfo;
    },
    async stop() {
      clearInterval(trimTimer);
      await scheduler.stop();
      await presence.stop();
      await outbound.dispatcher.stop();
      await outbound.crypto.close();
      await outbox.close();
      // Requests in flight finish with `Connection: close`; the server closes when the last is out.
      const drained = drain.drain(config.shutdownGraceMs);
      await gateway.shutdown(config.shutdownGraceMs);
      await drained;
      server.closeAllConnections();
      await bus.close();
      await ninjs.close();
      await idempotent.close();
      keys.stop();
      await keys.store.close();
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
  views: ViewCache;
  edge: Edge;
  logger: Logger;
  listLimit: number;
  outbound: Outbound;
  keys: KeyRing;
  /** ninjs version ledger and uploaded media. */
  ninjs: NinjsState;
  /** What each Idempotency-Key answered, beside the log. */
  idempotencyRecords: IdempotencyRecords;
  /** Without one (in-process apps), no request is logged. */
  accessLog?: AccessLog;
  sitemaps: SitemapCache;
  /** PUBLIC_URL, or the origin this process settled on: canonical links, sitemaps. */
  baseUrl: () => string;
  presence: Presence;
}

type AppEnv = { Bindings: HttpBindings; Variables: { requestId: string } };

export function createApp({
  config,
  store,
  bus,
  metrics,
  feeds,
  views,
  edge,
  logger,
  listLimit,
  outbound,
  keys,
  ninjs,
  idempotencyRecords,
  accessLog,
  sitemaps,
  baseUrl,
  presence,
}: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  if (accessLog) app.use('*', accessLog.middleware);
  const addressOf = (c: Context<AppEnv>) => (c.env?.incoming ? edge.client(c.env.incoming).address : 'unknown');

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.httpRequests.inc({ route, method: c.req.method, status: String(c.res.status) });
    metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
  });

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
      allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Idempotency-Key'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
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
      checks.store = `${store.kind === 'redis' ? 'Redis' : 'SQLite'} store unavailable: ${describeStoreProblem(error)}; writes answer 503 until it is back`;
    }
    checks.bus = bus.isLive()
      ? 'ok'
      : bus.kind === 'redis'
        ? 'live fan-out is paused: the Redis subscriber connection is down; events are read from the log when it is back, none is lost'
        : 'live fan-out has not started';
    const ready = checks.store === 'ok' && checks.bus === 'ok';
    return c.json({ status: ready ? 'ready' : 'unready', checks }, ready ? 200 : 503);
  });

  const metricsToken = config.metricsToken ? principalChecker([config.metricsToken]) : undefined;
  app.get('/metrics', async (c) => {
    // With METRICS_TOKEN, a bearer token; without it, loopback only: metrics describe the operator's fleet.
    if (metricsToken) {
      if (typeof metricsToken(c.req.header('authorization')) !== 'object') {
        c.header('WWW-Authenticate', 'Bearer realm="metrics"');
        return problem(c, 401, 'unauthorized', 'send "Authorization: Bearer <METRICS_TOKEN>"');
      }
    } else if (!isLoopback(c.env?.incoming?.socket.remoteAddress) || c.req.header('x-forwarded-for')) {
      return problem(c, 403, 'forbidden', 'metrics are served to loopback clients only; set METRICS_TOKEN to read them from elsewhere');
    }
    c.header('Content-Type', metrics.registry.contentType);
    c.header('Cache-Control', 'no-store');
    return c.body(await metrics.registry.metrics());
  });

  const auth = {
    tokens: config.publisherTokens,
    keys,
    failuresPerMinute: config.limits.authFailuresPerMinute,
    addressOf,
    metrics,
    logger,
  };
  // One guard for every route that reads a token (items, keys, ninjs):
  // one failure budget per address.
  const guard = tokenGuard(auth);
  app.route('/api/v1', keysApi({ keys, guard, logger, writesPerMinute: config.limits.publishPerMinute, environmentKeys: config.publisherTokens.length }));
  const items = itemsApi({
    store,
    bus,
    views,
    metrics,
    auth,
    guard,
    maxBodyBytes: config.limits.maxBodyBytes,
    publishPerMinute: config.limits.publishPerMinute,
    listLimit,
    fullListLimit: config.feed.items,
    readers: () => presence.read(),
    idempotency: idempotency(idempotencyRecords, logger),
  });
  // ninjs first: it answers item reads that ask for ninjs and passes the rest on.
  app.route(
    '/api/v1',
    ninjsApi({
      store,
      views,
      writes: items.writes,
      ledger: ninjs.ledger,
      media: ninjs.media,
      settings: config.ninjs,
      logger,
      baseUrl,
      maxBodyBytes: config.limits.maxBodyBytes,
      publishPerMinute: config.limits.publishPerMinute,
      fullListLimit: config.feed.items,
    }),
  );
  app.route('/api/v1', items);
  app.route('/', mediaRoutes(ninjs.media));
  app.route('/api/v1', outbound.pushApi);
  app.route('/websub', outbound.hub);
  app.route('/feeds', feedRoutes(feeds, { maxAgeSeconds: config.feed.maxAgeSeconds }));
  app.route('/', seoRoutes(sitemaps, baseUrl));
  // /openapi.json and /docs/api: this server's routes described with their own schemas and limits.
  const apiDocument = newswireApiDocument(config, { listLimit, fullListLimit: config.feed.items, pushMaxTopics: config.limits.wsMaxTopics });
  app.route('/', apiDocsRoutes(apiDocument, config.siteTitle));
  app.route(
    '/',
    pageRoutes({
      store,
      views,
      siteTitle: config.siteTitle,
      snapshotItems: config.limits.snapshotItems,
      maxTopics: config.limits.pageMaxTopics,
      baseUrl,
    }),
  );

  // Type definitions are documentation here: served as text, never as a script.
  app.use('/assets/*', async (c, next) => {
    await next();
    if (c.req.path.endsWith('.ts') && c.res.ok) c.res.headers.set('Content-Type', 'text/plain; charset=utf-8');
  });
  // Compressed once per file, in memory; everything else goes on to serveStatic.
  app.use('/assets/*', precompressedAssets([['/assets/shared/', SHARED_DIR], ['/assets/', PUBLIC_DIR]]));
  app.use('/assets/shared/*', serveStatic({ root: SHARED_DIR, rewriteRequestPath: (path) => path.replace(/^\/assets\/shared/, '') }));
  app.use('/assets/*', serveStatic({ root: PUBLIC_DIR, rewriteRequestPath: (path) => path.replace(/^\/assets/, '') }));

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

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || address?.startsWith('127.') === true || address?.startsWith('::ffff:127.') === true;
}
