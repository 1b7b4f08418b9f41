// Event-stream endpoint: GET /sse, Server-Sent Events for readers that cannot
// hold a WebSocket. The same sessions, limits, resume and reset as the
// WebSocket (live.ts, recovery.ts); one long HTTP response per reader. Every
// event carries its cursor as `id:`, so a browser's EventSource reconnects by
// itself with `Last-Event-ID` and resumes exactly where it stopped.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { onSocketClose } from '../edge/socket-close.ts';
import { type LiveSessions, type Refusal, refusalBody } from './live.ts';
import { isOriginAllowed } from './origin.ts';
import type { ConnectQuery } from './protocol.ts';
import type { Session } from './session.ts';
import { SseWire } from './wire.ts';

const PATH = '/sse';

const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  // nginx and others buffer responses unless told not to: events would arrive in lumps.
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
};

export class SseEndpoint {
  // Idle connections are the scale limit: every stream shares this handler.
  private readonly onClose: (this: Tagged) => void;

  constructor(private readonly live: LiveSessions) {
    const endpoint = this;
    this.onClose = function () {
      this[RELEASE]?.();
      const session = this[SESSION];
      if (session) endpoint.live.forget(session);
    };
    live.onHeartbeat(() => this.beat());
  }

  /** Serves /sse and returns true; false for every other path, which the caller serves. */
  serve(request: IncomingMessage, response: ServerResponse): boolean {
    const path = request.url ?? '';
    if (path !== PATH && !path.startsWith(`${PATH}?`)) return false;
    const status = this.open(request, response);
    this.live.options.metrics.httpRequests.inc({ route: PATH, method: request.method ?? 'GET', status: String(status) });
    return true;
  }

  /** Starts a stream, or answers why not; returns the status. */
  private open(request: IncomingMessage, response: ServerResponse): number {
    const cors = this.corsHeaders(request);
    if (request.method !== 'GET') {
      return answer(response, { status: 405, statusText: 'Method Not Allowed', message: 'the event stream is GET /sse' }, { ...cors, Allow: 'GET' });
    }
    const refusal = this.live.refusal(request);
    if (refusal) return answer(response, refusal, cors);
    const query = this.live.parseQuery(paramsOf(request));
    if ('error' in query) return answer(response, { status: 400, statusText: 'Bad Request', message: query.error }, cors);
    const socket = request.socket;
    // Events go straight to the socket: a response still ahead of this one
    // on the same connection (pipelining) would be interleaved with them.
    if (response.socket !== socket || socket.destroyed) {
      return answer(response, { status: 503, statusText: 'Service Unavailable', message: 'open the event stream on a connection of its own' }, cors);
    }
    const admitted = this.live.admit(request);
    if (typeof admitted !== 'function') return answer(response, admitted, cors);
    this.stream(response, socket as Tagged, query, admitted, cors);
    return 200;
  }

  private stream(response: ServerResponse, socket: Tagged, query: ConnectQuery, release: () => void, cors: Record<string, string>): void {
    // Quiet between heartbeats by design: the HTTP idle timeout is not for it.
    socket.setTimeout(0);
    // Not chunked: the stream ends with the connection, and a write of
    // events is just their bytes, as on a WebSocket.
    response.useChunkedEncodingByDefault = false;
    response.writeHead(200, { ...cors, ...STREAM_HEADERS });
    // Sends the head with it.
    response.write(`retry: ${retryMs()}\n\n`);
    const session = this.live.join(new SseWire(response, socket), query);
    socket[SESSION] = session;
    socket[RELEASE] = release;
    onSocketClose(socket, this.onClose as (this: Socket) => void);
    this.live.catchUp(session, query);
  }

  /**
   * A reader that took nothing of what waited for it since the last beat is
   * cut (it reconnects with Last-Event-ID); the others get a comment, which
   * also keeps proxies from closing a quiet stream.
   */
  private beat(): void {
    for (const session of this.live.of('sse')) {
      const wire = session.wire as SseWire;
      if (wire.stalled) wire.terminate();
      else wire.ping();
    }
  }

  /** EventSource across origins needs CORS; the same rule as WebSockets decides who gets it. */
  private corsHeaders(request: IncomingMessage): Record<string, string> {
    const { origin, host } = request.headers;
    const { publicOrigin, allowedOrigins } = this.live.options;
    if (!origin || !isOriginAllowed(origin, host, publicOrigin, allowedOrigins)) return {};
    return { 'Access-Control-Allow-Origin': allowedOrigins === '*' ? '*' : origin, Vary: 'Origin' };
  }
}

const SESSION = Symbol('session');
const RELEASE = Symbol('release');
type Tagged = Socket & { [SESSION]?: Session; [RELEASE]?: () => void };

/** The connect query; the browser's Last-Event-ID, newer than the URL's ?cursor=, wins over it. */
function paramsOf(request: IncomingMessage): URLSearchParams {
  const params = new URL(request.url ?? PATH, 'http://localhost').searchParams;
  const lastEventId = request.headers['last-event-id'];
  if (typeof lastEventId === 'string' && lastEventId.trim() !== '') params.set('cursor', lastEventId.trim());
  return params;
}

/** How long a browser waits before it reconnects by itself: 1–3 s, spread so that a restart is not met by everyone at once. */
function retryMs(): number {
  return 1_000 + Math.floor(Math.random() * 2_000);
}

function answer(response: ServerResponse, refusal: Refusal, headers: Record<string, string>): number {
  const body = refusalBody(refusal);
  response.writeHead(refusal.status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...(refusal.status === 429 ? { 'Retry-After': '10' } : {}),
  });
  response.end(body);
  return refusal.status;
}
