// What one address may take of a process: concurrent connections, new
// connections per second, requests per 10 s, live connections (WebSockets
// and event streams, counted together) at once. Connections over a limit
// are cut before a byte is read; requests get 429. Trusted
// proxies are exempt at the TCP level (many clients share them); their
// clients are counted by the address the proxy forwards.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import { addressKey, type Client, clientOf, type ProxyTrust } from './address.ts';
import type { Ceilings } from './files.ts';
import { Occupancy, WindowLimiter } from './limits.ts';
import { onSocketClose } from './socket-close.ts';

export interface EdgeLimits {
  /** Sockets (HTTP and WebSocket) one address may hold at once. */
  connectionsPerAddress: number;
  /** New connections per second one address may open (counted over 10 s). */
  newConnectionsPerSecond: number;
  /** HTTP requests one address may make in 10 s. */
  requestsPer10s: number;
}

export interface EdgeOptions {
  trust: ProxyTrust;
  limits: EdgeLimits;
  ceilings: Ceilings;
  metrics: Metrics;
  logger: Logger;
}

type Refusal = 'too-many-connections' | 'too-many-new-connections' | 'too-many-requests' | 'too-many-live-connections';

/**
 * The address key of a socket counted when it was accepted: set only for a
 * peer that is not a trusted proxy, whose requests' client is the peer
 * itself, so it is the key of every request on it.
 */
const SOCKET_KEY = Symbol('edge-key');
type Keyed = Socket & { [SOCKET_KEY]?: string };

export class Edge {
  private readonly sockets: Occupancy;
  private readonly live: Occupancy;
  private readonly newConnections: WindowLimiter;
  private readonly requests: WindowLimiter;
  /** One log line per address and reason a minute: a flood must not flood the logs. */
  private readonly logged = new WindowLimiter(1, 60_000, 10_000);
  /** Shared by every counted socket: gives its place back when it closes. */
  private readonly releaseSocket: (this: Keyed) => void;
  private readonly tooManyRequests: { body: string; length: number };

  constructor(private readonly options: EdgeOptions) {
    const { limits } = options;
    this.sockets = new Occupancy(limits.connectionsPerAddress);
    this.live = new Occupancy(limits.connectionsPerAddress);
    this.newConnections = new WindowLimiter(limits.newConnectionsPerSecond * 10, 10_000);
    this.requests = new WindowLimiter(limits.requestsPer10s, 10_000);
    const sockets = this.sockets;
    this.releaseSocket = function () {
      const key = this[SOCKET_KEY];
      if (key === undefined) return;
      this[SOCKET_KEY] = undefined;
      sockets.release(key);
    };
    const body = JSON.stringify({
      error: { code: 'rate-limited', message: `at most ${limits.requestsPer10s} requests per 10 seconds from one address` },
    });
    this.tooManyRequests = { body, length: Buffer.byteLength(body) };
  }

  client(request: IncomingMessage): Client {
    return clientOf(request, this.options.trust);
  }

  /** Counts every TCP connection the server accepts, and caps the process at its ceiling. */
  attach(server: Server): void {
    server.maxConnections = this.options.ceilings.sockets;
    server.on('connection', (socket: Keyed) => {
      const peer = socket.remoteAddress;
      if (!peer || this.options.trust.trusts(peer)) return;
      const key = addressKey(peer);
      const refusal: Refusal | null =
        this.newConnections.hit(key) !== null
          ? 'too-many-new-connections'
          : !this.sockets.acquire(key)
            ? 'too-many-connections'
            : null;
      if (refusal) {
        this.refused(refusal, key);
        socket.destroy();
        return;
      }
      socket[SOCKET_KEY] = key;
      onSocketClose(socket, this.releaseSocket);
    });
    server.on('drop', () => this.options.metrics.refusedConnections.inc({ reason: 'process-ceiling' }));
  }

  /**
   * Counts a request against its address. Answers 429 itself (with the
   * request's X-Request-Id, like every answer) and returns true when the
   * address is over its limit.
   */
  limitRequest(request: IncomingMessage, response: ServerResponse, requestId?: string): boolean {
    const key = (request.socket as Keyed)[SOCKET_KEY] ?? addressKey(this.client(request).address);
    const wait = this.requests.hit(key);
    if (wait === null) return false;
    this.refused('too-many-requests', key);
    const { body, length } = this.tooManyRequests;
    response.writeHead(429, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': length,
      'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))),
      ...(requestId ? { 'X-Request-Id': requestId } : {}),
    });
    response.end(body);
    return true;
  }

  /**
   * Takes a place for a live connection (a WebSocket or an event stream) of
   * the request's client; a release function, or why it may not have one.
   */
  admitLive(request: IncomingMessage): (() => void) | 'too-many-live-connections' | 'too-many-new-connections' {
    // A direct connection was counted when it was accepted (and keyed); one through a proxy was not.
    const counted = (request.socket as Keyed)[SOCKET_KEY];
    const client = counted === undefined ? this.client(request) : undefined;
    const key = client ? addressKey(client.address) : (counted as string);
    if (client?.proxied && this.newConnections.hit(key) !== null) {
      this.refused('too-many-new-connections', key);
      return 'too-many-new-connections';
    }
    if (!this.live.acquire(key)) {
      this.refused('too-many-live-connections', key);
      return 'too-many-live-connections';
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.live.release(key);
    };
  }

  private refused(reason: Refusal, key: string): void {
    this.options.metrics.refusedConnections.inc({ reason });
    if (this.logged.hit(`${reason}|${key}`) === null) {
      this.options.logger.warn({ address: key, reason }, 'refused: over a per-address limit');
    }
  }
}
