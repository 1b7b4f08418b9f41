// WebSocket endpoint: upgrade checks, sessions, client frames, heartbeats,
// shutdown. How a session catches up with the log is recovery.ts.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { formatCursor, } from '../domain/cursor.ts';
import type { Edge } from '../edge/guard.ts';
import type { Hub } from '../hub/hub.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';
import type { ViewCache } from '../views/views.ts';
import { isOriginAllowed } from './origin.ts';
import { CLOSE, clientFrameSchema, parseConnectQuery } from './protocol.ts';
import { type RecoveryContext, type ResetReason, resetSession, startSession } from './recovery.ts';
import { Session, type SessionHooks, type SessionLimits } from './session.ts';
import { WsWire } from './wire.ts';

export interface GatewayOptions {
  hub: Hub;
  store: Store;
  views: ViewCache;
  metrics: Metrics;
  logger: Logger;
  edge: Edge;
  allowedOrigins: string[] | '*';
  /** This server's own origin (PUBLIC_URL), if known: browsers on it are always allowed. */
  publicOrigin: string | undefined;
  limits: {
    maxPayload: number;
    maxTopics: number;
    maxItems: number;
    sendBuffer: number;
    heartbeatMs: number;
    maxConnections: number;
    messagesPer10s: number;
    snapshotItems: number;
  };
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;
  /** The payload of the last heartbeat ping: only a pong that echoes it counts as life. */
  private beatPayload = randomBytes(4);
  private readonly recovery: RecoveryContext;

  // Idle connections are the scale limit: every connection shares these
  // handlers and objects instead of holding closures of its own.
  private readonly sessionLimits: SessionLimits;
  private readonly sessionHooks: SessionHooks;
  private readonly onMessage: (this: Tagged, data: Buffer, isBinary: boolean) => void;
  private readonly onClose: (this: Tagged) => void;
  private readonly onPong: (this: Tagged, data: Buffer) => void;
  private readonly topicSets = new Map<string, Set<string>>();

  constructor(private readonly options: GatewayOptions) {
    const gateway = this;
    const { limits, metrics } = options;
    this.sessionLimits = {
      sendBuffer: limits.sendBuffer,
      messagesPer10s: limits.messagesPer10s,
      // A reader that takes nothing for a whole heartbeat is not coming back.
      drainTimeoutMs: Math.max(limits.heartbeatMs, 1_000),
    };
    this.sessionHooks = { onSlowConsumer: (s) => this.dropSlowConsumer(s) };
    this.recovery = {
      hub: options.hub,
      store: options.store,
      views: options.views,
      snapshotItems: limits.snapshotItems,
      onReplayed: (count) => metrics.replayedEvents.inc(count),
      onReset: (reason) => metrics.resets.inc({ reason }),
      onSlowConsumer: (session) => this.dropSlowConsumer(session),
    };
    this.onMessage = function (data, isBinary) {
      const session = this[SESSION];
      if (session) gateway.onFrame(session, data, isBinary);
    };
    this.onClose = function () {
      const session = this[SESSION];
      this[RELEASE]?.();
      if (!session) return;
      gateway.forget(session);
    };
    this.onPong = function (data) {
      const session = this[SESSION];
      // An unsolicited pong, or one for an older ping, says nothing about a reader now.
      if (session && data.equals(gateway.beatPayload)) session.alive = true;
    };
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: limits.maxPayload,
    });
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  get connections(): number {
    return this.sessions.size;
  }

  /** Hooked to the HTTP server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const refusal = this.refusal(request, url);
    if (refusal) {
      refuse(socket, ...refusal);
      return;
    }
    const admitted = this.options.edge.admitWebSocket(request);
    if (typeof admitted === 'string') {
      refuse(socket, 429, 'Too Many Requests', admitted === 'too-many-websockets'
        ? 'too many live connections from this address'
        : 'too many new connections from this address, retry later');
      return;
    }
    socket.once('close', admitted);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      (ws as Tagged)[RELEASE] = admitted;
      this.accept(ws, url);
    });
  }

  /** Sets of topics are never changed in place (a change makes a new set), so equal ones are shared. */
  private sharedTopics(topics: Set<string>): Set<string> {
    const key = [...topics].sort().join(',');
    let shared = this.topicSets.get(key);
    if (!shared) {
      if (this.topicSets.size >= 10_000) this.topicSets.clear();
      shared = topics;
      this.topicSets.set(key, shared);
    }
    return shared;
  }

  /** Why an upgrade must be refused, as [status, status text, message]; null to accept. */
  private refusal(request: IncomingMessage, url: URL): [number, string, string] | null {
    if (url.pathname !== '/ws') return [404, 'Not Found', 'WebSocket endpoint is /ws'];
    if (this.closing) return [503, 'Service Unavailable', 'server is shutting down'];
    if (!isOriginAllowed(request.headers.origin, request.headers.host, this.options.publicOrigin, this.options.allowedOrigins)) {
      return [403, 'Forbidden', 'Origin not allowed'];
    }
    if (this.sessions.size >= this.options.limits.maxConnections) {
      return [503, 'Service Unavailable', 'connection limit reached, retry later'];
    }
    return null;
  }

  private accept(ws: WebSocket, url: URL): void {
    const { limits, metrics, hub } = this.options;
    const query = parseConnectQuery(url.searchParams, limits);
    const topics = 'keys' in query && query.keys ? this.sharedTopics(query.keys) : null;
    const session = new Session(new WsWire(ws), topics, 'detail' in query ? query.detail : 'card', this.sessionLimits, this.sessionHooks);
    ws.on('error', terminate);
    if ('error' in query) {
      session.sendError('bad-request', query.error);
      session.close(CLOSE.badRequest, 'bad request');
      return;
    }
    this.sessions.add(session);
    hub.add(session);
    metrics.connections.set(this.sessions.size);
    (ws as Tagged)[SESSION] = session;
    ws.on('pong', this.onPong as (data: Buffer) => void);
    ws.on('message', this.onMessage as (data: unknown, isBinary: boolean) => void);
    ws.on('close', this.onClose);
    const welcome = (cursor: string, resumed: boolean) =>
      session.sendJson({
        type: 'welcome',
        cursor,
        resumed,
        topics: query.topics ?? ['all'],
        ...(query.items.length ? { items: query.items } : {}),
        detail: session.detail,
        heartbeatMs: limits.heartbeatMs,
        limits: { maxTopics: limits.maxTopics, maxPayload: limits.maxPayload },
      });
    startSession(session, query.cursor, this.recovery, welcome).catch((error: unknown) => this.unavailable(session, error));
  }

  private unavailable(session: Session, error: unknown): void {
    this.options.logger.warn({ err: error }, 'could not catch a WebSocket session up with the log');
    if (!session.open) return;
    session.sendError('unavailable', 'the log cannot be read right now; reconnect with your cursor');
    session.close(CLOSE.tryAgainLater, 'log unavailable');
  }

  /** The log was replaced: every open session gets a fresh snapshot. */
  async resetAll(reason: ResetReason): Promise<void> {
    await Promise.all(
      [...this.sessions].map(async (session) => {
        if (!session.open) return;
        // Its position was in the old log: nothing of the new one has reached it.
        session.hold();
        session.lastSeq = 0;
        try {
          await resetSession(session, reason, this.recovery);
        } catch (error) {
          this.unavailable(session, error);
        }
      }),
    );
  }

  private onFrame(session: Session, data: Buffer, isBinary: boolean): void {
    if (!session.allowFrame(Date.now())) {
      session.sendError('rate-limited', `at most ${this.options.limits.messagesPer10s} frames per 10 seconds`);
      session.close(CLOSE.rateLimited, 'rate limited');
      return;
    }
    if (isBinary) {
      session.sendError('bad-frame', 'frames must be JSON text');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      session.sendError('bad-frame', 'frame is not valid JSON');
      return;
    }
    const parsed = clientFrameSchema.safeParse(json);
    if (!parsed.success) {
      session.sendError(
        'bad-frame',
        'frame does not match {"type":"subscribe"|"unsubscribe","topics":[...]} or {"type":"ping"}',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
      return;
    }
    const frame = parsed.data;
    if (frame.type === 'ping') {
      session.sendJson({ type: 'pong', cursor: formatCursor(this.options.hub.epoch, session.lastSeq) });
      return;
    }
    const { hub, limits, metrics } = this.options;
    const wantsAll = frame.topics.includes('all');
    const current = session.topics;
    if (frame.type === 'subscribe') {
      if (current !== null) {
        const next = wantsAll ? null : new Set([...current, ...frame.topics]);
        if (next && topicCount(next) > limits.maxTopics) {
          session.sendError('too-many-topics', `at most ${limits.maxTopics} topics per connection`);
          return;
        }
        hub.reindex(session, () => {
          session.topics = next && this.sharedTopics(next);
        });
      }
    } else {
      if (current === null || wantsAll) {
        session.sendError('bad-frame', 'this connection follows every topic: reconnect with ?topics= to narrow it');
        return;
      }
      const next = new Set(current);
      for (const topic of frame.topics) next.delete(topic);
      if (next.size === 0) {
        session.sendError('bad-frame', 'cannot leave a connection with nothing to follow: close it instead');
        return;
      }
      hub.reindex(session, () => {
        session.topics = this.sharedTopics(next);
      });
    }
    metrics.subscriptions.set(hub.subscriptions);
    session.sendJson({ type: 'subscribed', topics: session.topics ? topicsOf(session.topics) : ['all'] });
  }

  private forget(session: Session): void {
    if (!this.sessions.delete(session)) return;
    this.options.hub.remove(session);
    this.options.metrics.connections.set(this.sessions.size);
  }

  private dropSlowConsumer(session: Session): void {
    if (!this.sessions.has(session)) return;
    this.forget(session);
    this.options.metrics.slowConsumerCloses.inc();
    session.close(CLOSE.slowConsumer, 'slow consumer: reconnect with your cursor', 2_000);
  }

  private beat(): void {
    this.options.metrics.subscriptions.set(this.options.hub.subscriptions);
    this.beatPayload = randomBytes(4);
    for (const session of this.sessions) {
      if (!session.alive) {
        session.wire.terminate();
        continue;
      }
      session.alive = false;
      session.wire.ping(this.beatPayload);
    }
  }

  /** Stops accepting and closes every connection with 1001 so clients go elsewhere. */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const session of this.sessions) session.close(CLOSE.goingAway, 'server shutting down');
    const deadline = Date.now() + Math.min(graceMs, 3_000);
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const session of this.sessions) session.wire.terminate();
    this.wss.close();
  }
}

const SESSION = Symbol('session');
const RELEASE = Symbol('release');
type Tagged = WebSocket & { [SESSION]?: Session; [RELEASE]?: () => void };

function terminate(this: WebSocket): void {
  this.terminate();
}

/** Topics of a routing key set, without the items followed by id. */
function topicsOf(keys: ReadonlySet<string>): string[] {
  return [...keys].filter((key) => !key.startsWith('item:'));
}

function topicCount(keys: ReadonlySet<string>): number {
  let count = 0;
  for (const key of keys) if (!key.startsWith('item:')) count++;
  return count;
}

function refuse(socket: Duplex, status: number, statusText: string, message: string): void {
  const body = JSON.stringify({ error: { code: statusText.toLowerCase().replace(/ /g, '-'), message } });
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${
      status === 429 ? 'Retry-After: 10\r\n' : ''
    }\r\n${body}`,
  );
}
