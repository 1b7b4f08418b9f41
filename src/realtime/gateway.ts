// WebSocket endpoint: upgrades, client frames, heartbeats. What it shares
// with event streams (limits, sessions, the welcome, shutdown) is live.ts;
// how a session catches up with the log is recovery.ts.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { formatCursor } from '../domain/cursor.ts';
import { itemIdOf } from '../domain/event.ts';
import { type LiveOptions, LiveSessions, type Refusal, refusalBody } from './live.ts';
import { CLOSE, clientFrameSchema } from './protocol.ts';
import type { ResetReason } from './recovery.ts';
import type { Session } from './session.ts';
import { WsWire } from './wire.ts';
import { onSocketClose } from '../edge/socket-close.ts';

export type GatewayOptions = LiveOptions;

export class Gateway {
  /** What WebSockets share with event streams (sse.ts): limits, sessions, catching up, shutdown. */
  readonly live: LiveSessions;
  private readonly wss: WebSocketServer;
  /** The payload of the last heartbeat ping: only a pong that echoes it counts as life. */
  private beatPayload = randomBytes(4);

  // Idle connections are the scale limit: every connection shares these
  // handlers instead of holding closures of its own.
  private readonly onMessage: (this: Tagged, data: Buffer, isBinary: boolean) => void;
  private readonly onClose: (this: Tagged) => void;
  private readonly onPong: (this: Tagged, data: Buffer) => void;

  constructor(private readonly options: GatewayOptions) {
    const gateway = this;
    this.live = new LiveSessions(options);
    this.onMessage = function (data, isBinary) {
      const session = this[SESSION];
      if (session) gateway.onFrame(session, data, isBinary);
    };
    this.onClose = function () {
      const session = this[SESSION];
      if (session) gateway.live.forget(session);
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
      maxPayload: options.limits.maxPayload,
    });
    this.live.onHeartbeat(() => this.beat());
  }

  /** Hooked to the HTTP server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      refuse(socket, { status: 404, statusText: 'Not Found', message: 'WebSocket endpoint is /ws' });
      return;
    }
    const refusal = this.live.refusal(request);
    if (refusal) {
      refuse(socket, refusal);
      return;
    }
    const admitted = this.live.admit(request);
    if (typeof admitted !== 'function') {
      refuse(socket, admitted);
      return;
    }
    // The place is given back when the socket closes, whatever becomes of
    // the upgrade: ws destroys the socket of a handshake it refuses, and the
    // socket of a WebSocket closes before the WebSocket does.
    onSocketClose(socket, admitted);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, url));
  }

  private accept(ws: WebSocket, url: URL): void {
    const query = this.live.parseQuery(url.searchParams);
    const wire = new WsWire(ws);
    ws.on('error', terminate);
    if ('error' in query) {
      const session = this.live.outsider(wire);
      session.sendError('bad-request', query.error);
      session.close(CLOSE.badRequest, 'bad request');
      return;
    }
    const session = this.live.join(wire, query);
    (ws as Tagged)[SESSION] = session;
    ws.on('pong', this.onPong as (data: Buffer) => void);
    ws.on('message', this.onMessage as (data: unknown, isBinary: boolean) => void);
    ws.on('close', this.onClose);
    this.live.catchUp(session, query);
  }

  /** The log was replaced: every open session (WebSockets and event streams) gets a fresh snapshot. */
  resetAll(reason: ResetReason): Promise<void> {
    return this.live.resetAll(reason);
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
          session.topics = next && this.live.sharedTopics(next);
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
        session.topics = this.live.sharedTopics(next);
      });
    }
    metrics.subscriptions.set(hub.subscriptions);
    session.sendJson({ type: 'subscribed', topics: session.topics ? topicsOf(session.topics) : ['all'] });
  }

  private beat(): void {
    this.beatPayload = randomBytes(4);
    for (const session of this.live.of('ws')) {
      if (!session.alive) {
        this.options.metrics.heartbeatCloses.inc();
        session.wire.terminate();
        continue;
      }
      session.alive = false;
      session.wire.ping(this.beatPayload);
    }
  }

  /** Stops accepting and ends every live connection (event streams too) so clients go elsewhere. */
  async shutdown(graceMs: number): Promise<void> {
    await this.live.shutdown(graceMs);
    this.wss.close();
  }
}

const SESSION = Symbol('session');
type Tagged = WebSocket & { [SESSION]?: Session };

function terminate(this: WebSocket): void {
  this.terminate();
}

/** Topics of a routing key set, without the items followed by id. */
function topicsOf(keys: ReadonlySet<string>): string[] {
  return [...keys].filter((key) => itemIdOf(key) === undefined);
}

function topicCount(keys: ReadonlySet<string>): number {
  let count = 0;
  for (const key of keys) if (itemIdOf(key) === undefined) count++;
  return count;
}

function refuse(socket: Duplex, refusal: Refusal): void {
  const { status, statusText } = refusal;
  const body = refusalBody(refusal);
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${
      status === 429 ? 'Retry-After: 10\r\n' : ''
    }\r\n${body}`,
  );
}
