// WebSocket endpoint: upgrade checks, welcome, resume by cursor, reset,
// subscribe/unsubscribe, heartbeats, shutdown.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { formatCursor, parseCursor } from '../domain/cursor.ts';
import { eventTopics } from '../domain/event.ts';
import { eventFrameText, type Hub } from '../hub/hub.ts';
import { type OutboundMessage, prepareMessage } from '../hub/message.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import { latestFor } from '../store/latest.ts';
import type { Snapshot, Store } from '../store/store.ts';
import { isOriginAllowed } from './origin.ts';
import { CLOSE, clientFrameSchema, parseTopicsParam } from './protocol.ts';
import { Session, type SessionHooks, type SessionLimits } from './session.ts';

// Items may carry bodies of up to 200 KB: a page of the log stays well below 100 MB.
const REPLAY_PAGE = 256;

export interface GatewayOptions {
  hub: Hub;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  allowedOrigins: string[] | '*';
  limits: {
    maxPayload: number;
    maxTopics: number;
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

  // Idle connections are the scale limit: every connection shares these
  // handlers and objects instead of holding closures of its own.
  private readonly sessionLimits: SessionLimits;
  private readonly sessionHooks: SessionHooks;
  private readonly onMessage: (this: Tagged, data: Buffer, isBinary: boolean) => void;
  private readonly onClose: (this: Tagged) => void;
  private readonly topicSets = new Map<string, Set<string>>();

  constructor(private readonly options: GatewayOptions) {
    const gateway = this;
    this.sessionLimits = { sendBuffer: options.limits.sendBuffer, messagesPer10s: options.limits.messagesPer10s };
    this.sessionHooks = { onSlowConsumer: (s) => this.dropSlowConsumer(s) };
    this.onMessage = function (data, isBinary) {
      const session = this[SESSION];
      if (session) gateway.onFrame(session, data, isBinary);
    };
    this.onClose = function () {
      const session = this[SESSION];
      if (!session) return;
      gateway.sessions.delete(session);
      gateway.options.hub.remove(session);
      gateway.options.metrics.connections.set(gateway.sessions.size);
    };
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.limits.maxPayload,
    });
    this.heartbeat = setInterval(() => this.beat(), options.limits.heartbeatMs);
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
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, url));
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
    if (!isOriginAllowed(request.headers.origin, request.headers.host, this.options.allowedOrigins)) {
      return [403, 'Forbidden', 'Origin not allowed'];
    }
    if (this.sessions.size >= this.options.limits.maxConnections) {
      return [503, 'Service Unavailable', 'connection limit reached, retry later'];
    }
    return null;
  }

  private accept(ws: WebSocket, url: URL): void {
    const { limits, metrics, hub } = this.options;
    const parsed = parseTopicsParam(url.searchParams.get('topics'), limits.maxTopics);
    const cursorParam = url.searchParams.get('cursor');
    const cursor = cursorParam ? parseCursor(cursorParam) : null;
    const topics = 'topics' in parsed && parsed.topics ? this.sharedTopics(parsed.topics) : null;
    const session = new Session(ws, topics, this.sessionLimits, this.sessionHooks);
    ws.on('error', terminate);
    if ('error' in parsed || (cursorParam && !cursor)) {
      session.pending = null;
      session.sendError('bad-request', 'error' in parsed ? parsed.error : 'cursor: not a cursor issued by this server');
      session.close(CLOSE.badRequest, 'bad request');
      return;
    }
    this.sessions.add(session);
    hub.add(session);
    metrics.connections.set(this.sessions.size);
    (ws as Tagged)[SESSION] = session;
    ws.on('pong', markAlive);
    ws.on('message', this.onMessage as (data: unknown, isBinary: boolean) => void);
    ws.on('close', this.onClose);
    this.start(session, cursor).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not start a WebSocket session');
      session.sendError('unavailable', 'the log cannot be read right now; reconnect with your cursor');
      session.close(CLOSE.tryAgainLater, 'log unavailable');
    });
  }

  /** Welcome, then replay or reset, then live: buffered live events fill in behind. */
  private async start(session: Session, cursor: { epoch: string; seq: number } | null): Promise<void> {
    const { hub, store, metrics } = this.options;
    const topics = session.topics ? [...session.topics] : ['all'];
    const welcome = (at: string, resumed: boolean) =>
      session.sendJson({
        type: 'welcome',
        cursor: at,
        resumed,
        topics,
        heartbeatMs: this.options.limits.heartbeatMs,
        limits: { maxTopics: this.options.limits.maxTopics, maxPayload: this.options.limits.maxPayload },
      });

    if (!cursor) {
      session.lastSeq = hub.lastSeq;
      welcome(formatCursor(hub.epoch, hub.lastSeq), false);
      session.goLive();
      return;
    }

    // Fast path: this process holds every event after the cursor in memory.
    const head =
      cursor.epoch === hub.epoch && cursor.seq <= hub.lastSeq && hub.recent.covers(cursor.seq)
        ? { epoch: hub.epoch, seq: hub.lastSeq, floor: 0 }
        : await store.head();
    const reason =
      cursor.epoch !== head.epoch
        ? 'epoch-changed'
        : cursor.seq < head.floor
          ? 'cursor-expired'
          : cursor.seq > head.seq
            ? 'cursor-unknown'
            : null;
    if (reason) {
      await this.sendReset(session, reason, welcome);
      session.goLive();
      return;
    }

    welcome(formatCursor(cursor.epoch, cursor.seq), true);
    session.lastSeq = cursor.seq;
    let replayed = 0;
    // Replay waits for the socket to drain rather than overflow it; live
    // events meanwhile wait in the session's pending list.
    const send = async (topics: readonly string[], seq: number, message: () => OutboundMessage) => {
      if (!session.wants(topics)) {
        session.lastSeq = seq;
        return;
      }
      session.write(message());
      replayed++;
      await session.drained();
    };
    for (;;) {
      if (!session.open) return;
      if (session.pendingOverflow) {
        this.dropSlowConsumer(session);
        return;
      }
      if (hub.epoch === head.epoch && hub.recent.covers(session.lastSeq)) {
        // Joined once for everyone resuming from the same place, sent in one
        // write; what arrives after this point is in the pending list anyway.
        const replay = hub.replay(session.lastSeq, session.topics);
        if (replay.frames) session.writeFrames(replay.frames, replay.lastSeq);
        else session.lastSeq = replay.lastSeq;
        replayed += replay.count;
        await session.drained();
        break;
      }
      const events = await store.readAfter(session.lastSeq, REPLAY_PAGE);
      for (const event of events) {
        await send(eventTopics(event), event.seq, () => prepareMessage(event.seq, eventFrameText(event, head.epoch)));
        if (!session.open) return;
      }
      if (events.length < REPLAY_PAGE) break;
    }
    metrics.replayedEvents.inc(replayed);
    session.goLive();
  }

  private async sendReset(
    session: Session,
    reason: string,
    welcome?: (at: string, resumed: boolean) => void,
    snapshots?: Map<string, Promise<Snapshot>>,
  ): Promise<void> {
    const load = () => latestFor(this.options.store, session.topics, this.options.limits.snapshotItems);
    let snapshot: Snapshot;
    if (snapshots) {
      // One read per distinct topic set, however many sessions share it.
      const key = session.topics ? [...session.topics].sort().join(',') : '*';
      let pending = snapshots.get(key);
      if (!pending) {
        pending = load();
        snapshots.set(key, pending);
      }
      snapshot = await pending;
    } else {
      snapshot = await load();
    }
    const cursor = formatCursor(snapshot.epoch, snapshot.headSeq);
    welcome?.(cursor, false);
    session.lastSeq = Math.max(snapshot.epoch === this.options.hub.epoch ? session.lastSeq : 0, snapshot.headSeq);
    session.sendJson({ type: 'reset', reason, cursor, items: snapshot.items });
    this.options.metrics.resets.inc({ reason });
  }

  /** The log was replaced: every open session gets a fresh snapshot. */
  async resetAll(reason: string): Promise<void> {
    const snapshots = new Map<string, Promise<Snapshot>>();
    await Promise.all(
      [...this.sessions].map(async (session) => {
        if (!session.open) return;
        try {
          session.lastSeq = 0;
          await this.sendReset(session, reason, undefined, snapshots);
        } catch (error) {
          this.options.logger.warn({ err: error }, 'could not send reset; closing so the client reconnects');
          session.close(CLOSE.tryAgainLater, 'reset failed');
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
    if (frame.type === 'subscribe') {
      if (session.topics !== null) {
        const next = wantsAll ? null : new Set([...session.topics, ...frame.topics]);
        if (next && next.size > limits.maxTopics) {
          session.sendError('too-many-topics', `at most ${limits.maxTopics} topics per connection`);
          return;
        }
        hub.reindex(session, () => {
          session.topics = next;
        });
      }
    } else {
      if (session.topics === null || wantsAll) {
        session.sendError('bad-frame', 'this connection follows every topic: reconnect with ?topics= to narrow it');
        return;
      }
      const next = new Set(session.topics);
      for (const topic of frame.topics) next.delete(topic);
      if (next.size === 0) {
        session.sendError('bad-frame', 'cannot leave a connection with no topic: close it instead');
        return;
      }
      hub.reindex(session, () => {
        session.topics = next;
      });
    }
    metrics.subscriptions.set(hub.subscriptions);
    session.sendJson({ type: 'subscribed', topics: session.topics ? [...session.topics] : ['all'] });
  }

  private dropSlowConsumer(session: Session): void {
    if (!this.sessions.has(session)) return;
    this.sessions.delete(session);
    this.options.hub.remove(session);
    this.options.metrics.slowConsumerCloses.inc();
    this.options.metrics.connections.set(this.sessions.size);
    session.close(CLOSE.slowConsumer, 'slow consumer: reconnect with your cursor');
  }

  private beat(): void {
    this.options.metrics.subscriptions.set(this.options.hub.subscriptions);
    for (const session of this.sessions) {
      if (!session.alive) {
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      session.ws.ping();
    }
  }

  /** Stops accepting and closes every connection with 1001 so clients go elsewhere. */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const session of this.sessions) session.close(CLOSE.goingAway, 'server shutting down');
    const deadline = Date.now() + Math.min(graceMs, 3_000);
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const session of this.sessions) session.ws.terminate();
    this.wss.close();
  }
}

const SESSION = Symbol('session');
type Tagged = WebSocket & { [SESSION]?: Session };

function terminate(this: WebSocket): void {
  this.terminate();
}

function markAlive(this: Tagged): void {
  const session = this[SESSION];
  if (session) session.alive = true;
}

function refuse(socket: Duplex, status: number, statusText: string, message: string): void {
  const body = JSON.stringify({ error: { code: statusText.toLowerCase().replace(/ /g, '-'), message } });
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
