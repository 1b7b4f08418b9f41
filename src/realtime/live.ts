// What every live connection shares, whatever its transport (WebSocket or
// event stream): who may open one, the process ceiling they count against
// together, the connect query, joining the hub, the welcome and catching up
// (recovery.ts), slow consumers, resets of everyone, heartbeats and shutdown.
import type { IncomingMessage } from 'node:http';
import type { Edge } from '../edge/guard.ts';
import type { Hub } from '../hub/hub.ts';
import type { Framing } from '../hub/message.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';
import type { ViewCache } from '../views/views.ts';
import { isOriginAllowed } from './origin.ts';
import { CLOSE, type ConnectQuery, parseConnectQuery } from './protocol.ts';
import { type RecoveryContext, type ResetReason, resetSession, startSession } from './recovery.ts';
import { Session, type SessionHooks, type SessionLimits } from './session.ts';
import type { WireSocket } from './wire.ts';

export interface LiveOptions {
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
    /** Live connections of every transport, together. */
    maxConnections: number;
    messagesPer10s: number;
    snapshotItems: number;
  };
}

/** Why a new live connection is refused: an HTTP answer. */
export interface Refusal {
  status: number;
  statusText: string;
  message: string;
}

/** A refusal's body, in the error shape of the whole API. */
export function refusalBody({ statusText, message }: Refusal): string {
  return JSON.stringify({ error: { code: statusText.toLowerCase().replace(/ /g, '-'), message } });
}

export class LiveSessions {
  private closing = false;
  private readonly members: Record<Framing, Set<Session>> = { ws: new Set(), sse: new Set() };
  readonly recovery: RecoveryContext;
  // Idle connections are the scale limit: every session shares these.
  readonly sessionLimits: SessionLimits;
  readonly sessionHooks: SessionHooks;
  private readonly topicSets = new Map<string, Set<string>>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly beats: (() => void)[] = [];

  constructor(readonly options: LiveOptions) {
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
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Open sessions of one transport. */
  of(framing: Framing): ReadonlySet<Session> {
    return this.members[framing];
  }

  get size(): number {
    return this.members.ws.size + this.members.sse.size;
  }

  /** Runs on every heartbeat, until shutdown. */
  onHeartbeat(beat: () => void): void {
    this.beats.push(beat);
  }

  /** Why a new connection must be refused now (draining, a foreign page, the ceiling); null to go on. */
  refusal(request: IncomingMessage): Refusal | null {
    const { options } = this;
    if (this.closing) return { status: 503, statusText: 'Service Unavailable', message: 'server is shutting down' };
    if (!isOriginAllowed(request.headers.origin, request.headers.host, options.publicOrigin, options.allowedOrigins)) {
      return { status: 403, statusText: 'Forbidden', message: 'Origin not allowed' };
    }
    if (this.size >= options.limits.maxConnections) {
      return { status: 503, statusText: 'Service Unavailable', message: 'connection limit reached, retry later' };
    }
    return null;
  }

  /** Takes a place for the client's address: a release function, or why there is none. */
  admit(request: IncomingMessage): (() => void) | Refusal {
    const admitted = this.options.edge.admitLive(request);
    if (typeof admitted !== 'string') return admitted;
    return {
      status: 429,
      statusText: 'Too Many Requests',
      message:
        admitted === 'too-many-live-connections'
          ? 'too many live connections from this address'
          : 'too many new connections from this address, retry later',
    };
  }

  parseQuery(params: URLSearchParams): ConnectQuery | { error: string } {
    return parseConnectQuery(params, this.options.limits);
  }

  /** A session in the hub, holding live events until it has caught up (catchUp). */
  join(wire: WireSocket, query: ConnectQuery): Session {
    const topics = query.keys ? this.sharedTopics(query.keys) : null;
    const session = new Session(wire, topics, query.detail, this.sessionLimits, this.sessionHooks);
    this.members[session.framing].add(session);
    this.options.hub.add(session);
    this.counted(session.framing);
    return session;
  }

  /** A session outside the hub, only to answer a bad request on a socket already open. */
  outsider(wire: WireSocket): Session {
    return new Session(wire, null, 'card', this.sessionLimits, this.sessionHooks);
  }

  /** Welcome, then replay or reset (recovery.ts), then live. */
  catchUp(session: Session, query: ConnectQuery): void {
    const { limits } = this.options;
    const welcome = (cursor: string, resumed: boolean) =>
      session.sendControl(
        'welcome',
        JSON.stringify({
          type: 'welcome',
          cursor,
          resumed,
          topics: query.topics ?? ['all'],
          ...(query.items.length ? { items: query.items } : {}),
          detail: session.detail,
          heartbeatMs: limits.heartbeatMs,
          limits: { maxTopics: limits.maxTopics, maxPayload: limits.maxPayload },
        }),
        // The welcome is the reader's position only when it resumed or asked
        // for none; otherwise the reset that follows is, and a drop between
        // the two must not skip it.
        resumed || !query.cursor ? cursor : undefined,
      );
    startSession(session, query.cursor, this.recovery, welcome).catch((error: unknown) => this.unavailable(session, error));
  }

  /** Sets of topics are never changed in place (a change makes a new set), so equal ones are shared. */
  sharedTopics(topics: Set<string>): Set<string> {
    const key = [...topics].sort().join(',');
    let shared = this.topicSets.get(key);
    if (!shared) {
      if (this.topicSets.size >= 10_000) this.topicSets.clear();
      shared = topics;
      this.topicSets.set(key, shared);
    }
    return shared;
  }

  forget(session: Session): void {
    if (!this.members[session.framing].delete(session)) return;
    this.options.hub.remove(session);
    this.counted(session.framing);
  }

  private counted(framing: Framing): void {
    if (framing === 'ws') this.options.metrics.connections.set(this.members.ws.size);
    else this.options.metrics.sseStreams.set(this.members.sse.size);
  }

  private dropSlowConsumer(session: Session): void {
    if (!this.members[session.framing].has(session)) return;
    this.forget(session);
    this.options.metrics.slowConsumerCloses.inc();
    session.close(CLOSE.slowConsumer, 'slow consumer: reconnect with your cursor', 2_000);
  }

  private unavailable(session: Session, error: unknown): void {
    this.options.logger.warn({ err: error }, 'could not catch a live session up with the log');
    if (!session.open) return;
    session.sendError('unavailable', 'the log cannot be read right now; reconnect with your cursor');
    session.close(CLOSE.tryAgainLater, 'log unavailable');
  }

  /** The log was replaced: every open session gets a fresh snapshot. */
  async resetAll(reason: ResetReason): Promise<void> {
    await Promise.all(
      this.everyone().map(async (session) => {
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

  private beat(): void {
    this.options.metrics.subscriptions.set(this.options.hub.subscriptions);
    for (const beat of this.beats) beat();
  }

  /**
   * Stops accepting and ends every connection (WebSockets with 1001, event
   * streams by ending them) so clients go elsewhere; what has not gone
   * within the grace is cut.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const session of this.everyone()) session.close(CLOSE.goingAway, 'server shutting down');
    const deadline = Date.now() + Math.min(graceMs, 3_000);
    while (this.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const session of this.everyone()) session.wire.terminate();
  }

  private everyone(): Session[] {
    return [...this.members.ws, ...this.members.sse];
  }
}
