// The access log: one JSON line per request through pino, for every path a
// request can take (the web app, the feeds' node:http path, event streams,
// WebSocket upgrades), and an X-Request-Id on every response. Live
// connections get a line when they open and one when they close, with how
// long they lasted. Never logged: tokens, query strings (a cursor, a token in
// a URL), bodies.
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import { onSocketClose } from '../edge/socket-close.ts';
import type { Logger } from './logger.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** A request id the client chose is kept when it is this safe to log and echo. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_PATH_LOGGED = 256;

/** What the layers a request passes through learn about it, kept on the IncomingMessage. */
interface RequestNotes {
  id: string;
  started: number;
  /** The route pattern, when a router matched one. */
  route?: string;
  /** The id of the publisher token (or key) that made a write; never the token. */
  token?: string;
  /** The name of the key that made a write (a desk or a tool). */
  key?: string;
  /** An event stream that opened: its end is logged as the stream's close. */
  stream?: boolean;
  /** Bytes the socket had written before this request's answer. */
  before?: number;
}

const NOTES = Symbol('access-log');
type Noted = IncomingMessage & { [NOTES]?: RequestNotes };

/** What an open WebSocket keeps for its close line (it was upgraded at GET /ws). */
interface LiveNotes {
  id: string;
  address: string;
  started: number;
  before: number;
}

const LIVE = Symbol('access-log-live');
type Live = Duplex & { [LIVE]?: LiveNotes; write: Duplex['write']; end: Duplex['end'] };

/** The client's X-Request-Id when it is safe (≤ 128 of [A-Za-z0-9._:-]); otherwise a new one. */
export function acceptRequestId(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && REQUEST_ID_PATTERN.test(offered) ? offered : newRequestId();
}

const HEX = Buffer.from('0123456789abcdef');
const random = Buffer.alloc(16 * 256);
let randomAt = random.length;
const uuid = Buffer.alloc(36);

/**
 * A random (version 4) UUID as one flat string. crypto.randomUUID() builds
 * its string from some twenty joined pieces, which V8 keeps as a tree of
 * about 450 bytes; a WebSocket holds its id for as long as it is open.
 */
export function newRequestId(): string {
  if (randomAt === random.length) {
    randomFillSync(random);
    randomAt = 0;
  }
  random[randomAt + 6] = ((random[randomAt + 6] as number) & 0x0f) | 0x40;
  random[randomAt + 8] = ((random[randomAt + 8] as number) & 0x3f) | 0x80;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) uuid[at++] = 0x2d;
    const byte = random[randomAt + i] as number;
    uuid[at++] = HEX[byte >> 4] as number;
    uuid[at++] = HEX[byte & 0x0f] as number;
  }
  randomAt += 16;
  return uuid.toString('latin1', 0, 36);
}

/** Milliseconds since `started` (a performance.now() reading), to two decimals. */
const msSince = (started: number): number => Math.round((performance.now() - started) * 100) / 100;

/** The request id of a request seen by the access log, if any. */
export function requestIdOf(request: IncomingMessage | undefined): string | undefined {
  return (request as Noted | undefined)?.[NOTES]?.id;
}

/** The request id inside the web app (the same as `c.get('requestId')`). */
export function requestId(c: Context): string {
  return (c.get('requestId') as string | undefined) ?? requestIdOf(c.env?.incoming) ?? 'unknown';
}

export type RequestIdEnv = { Variables: { requestId: string } };

export interface AccessLogOptions {
  logger: Logger;
  /** false: requests still get an X-Request-Id, but no line is written. */
  enabled: boolean;
  /** The client's address (behind trusted proxies, the forwarded one). */
  addressOf(request: IncomingMessage): string;
}

export interface AccessLog {
  /**
   * Call first for every HTTP request: gives it an id, returned for the
   * response to carry (X-Request-Id), and logs it when it ends. The caller
   * sends the header: the feeds' fast path puts it in its one header block
   * (a setHeader before writeHead would send every feed answer down Node's
   * slow header path).
   */
  request(request: IncomingMessage, response: ServerResponse, route?: string): string;
  /** Names the route a request matched, for requests answered outside the web app. */
  route(request: IncomingMessage, route: string): void;
  /** Call for an event stream that opened: a line now; its end is logged by `request`. */
  streamOpened(request: IncomingMessage, response: ServerResponse): void;
  /** Call first for every upgrade: an id in the handshake answer, a line at open and at close. */
  upgrade(request: IncomingMessage, socket: Duplex): void;
  /** Web-app middleware: c.get('requestId'), and the matched route and token name for the log line. */
  middleware: MiddlewareHandler<RequestIdEnv>;
}

export function createAccessLog(options: AccessLogOptions): AccessLog {
  const log = options.logger.child({ log: 'access' });
  // Lines the logger would drop (LOG_LEVEL above info) are not gathered at all: no listener, no fields.
  const enabled = options.enabled && log.isLevelEnabled('info');

  const pathOf = (request: IncomingMessage): string => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    return path.length > MAX_PATH_LOGGED ? `${path.slice(0, MAX_PATH_LOGGED)}…` : path;
  };

  // The line of an HTTP request, when its response closes (`this.req` is its request).
  const responseClosed = function (this: ServerResponse): void {
    const request = this.req as Noted;
    const notes = request[NOTES];
    if (!notes) return;
    const durationMs = msSince(notes.started);
    const bytes = request.socket.bytesWritten - (notes.before ?? 0);
    const stream = notes.stream === true;
    log.info(
      {
        requestId: notes.id,
        method: request.method,
        route: notes.route,
        path: pathOf(request),
        status: this.statusCode,
        kind: stream ? 'sse' : undefined,
        durationMs,
        bytes,
        aborted: stream || this.writableFinished ? undefined : true,
        address: options.addressOf(request),
        token: notes.token,
        key: notes.key,
      },
      stream ? 'stream closed' : 'request',
    );
  };

  /** Who asked for what: the fields every line of a request carries. */
  const fieldsOf = (request: IncomingMessage, notes: RequestNotes): Record<string, unknown> => ({
    requestId: notes.id,
    method: request.method,
    route: notes.route,
    path: pathOf(request),
    address: options.addressOf(request),
    token: notes.token,
    key: notes.key,
  });

  const line = (request: IncomingMessage, notes: RequestNotes, fields: Record<string, unknown>, message: string): void => {
    log.info({ ...fieldsOf(request, notes), ...fields }, message);
  };

  // One close listener for every WebSocket, reading the socket's own record:
  // a closure per socket would keep its upgrade request alive as long as it.
  const liveClosed = function (this: Live): void {
    const live = this[LIVE];
    if (!live) return;
    this[LIVE] = undefined;
    log.info(
      {
        requestId: live.id,
        method: 'GET',
        route: '/ws',
        path: '/ws',
        status: 101,
        kind: 'ws',
        durationMs: msSince(live.started),
        bytes: 'bytesWritten' in this ? (this.bytesWritten as number) - live.before : undefined,
        address: live.address,
      },
      'websocket closed',
    );
  };

  const middleware: MiddlewareHandler<RequestIdEnv> = async (c, next) => {
    const incoming = (c.env as { incoming?: Noted } | undefined)?.incoming;
    const notes = incoming?.[NOTES];
    const id = notes?.id ?? acceptRequestId(c.req.header(REQUEST_ID_HEADER));
    c.set('requestId', id);
    // In-process requests (no node:http underneath) get the header from here.
    if (!notes) c.header(REQUEST_ID_HEADER, id);
    await next();
    if (!notes) return;
    const route = c.req.routePath;
    if (route && route !== '/*' && route !== '*') notes.route = route;
    // Set by the publisher auth on write routes: the token's id and the key's
    // name (a desk or a tool), never the token.
    const token = (c as Context).get('tokenId') as string | undefined;
    if (token) notes.token = token;
    const key = ((c as Context).get('principal') as { name?: string } | undefined)?.name;
    if (key) notes.key = key;
  };

  return {
    middleware,
    request(request, response, route) {
      const notes: RequestNotes = { id: acceptRequestId(request.headers['x-request-id']), started: performance.now(), route };
      (request as Noted)[NOTES] = notes;
      if (!enabled) return notes.id;
      notes.before = request.socket.bytesWritten;
      // 'close' comes for every response, finished or cut; one shared listener, no closure per request.
      response.on('close', responseClosed);
      return notes.id;
    },
    route(request, route) {
      const notes = (request as Noted)[NOTES];
      if (notes) notes.route = route;
    },
    streamOpened(request, response) {
      const notes = (request as Noted)[NOTES];
      if (!enabled || !notes || response.statusCode !== 200 || response.writableEnded) return;
      notes.stream = true;
      line(request, notes, { status: 200, kind: 'sse' }, 'stream opened');
    },
    upgrade(request, socket) {
      const path = pathOf(request);
      const notes: RequestNotes = {
        id: acceptRequestId(request.headers['x-request-id']),
        started: performance.now(),
        route: path === '/ws' ? '/ws' : undefined,
      };
      (request as Noted)[NOTES] = notes;
      // The handshake answer (101, or a refusal) is the socket's first write:
      // the id goes into its head, and its status into the log.
      const target = socket as Live;
      const originalWrite = target.write;
      const originalEnd = target.end;
      const restore = () => {
        target.write = originalWrite;
        target.end = originalEnd;
      };
      const answered = (chunk: unknown): unknown => {
        if (typeof chunk !== 'string' || !chunk.startsWith('HTTP/1.1 ')) return chunk;
        const status = Number(chunk.slice(9, 12));
        if (enabled && status === 101) {
          line(request, notes, { status, kind: 'ws' }, 'websocket opened');
          // What the close line needs, and not the request: an open WebSocket
          // holds only this small record (the request and its headers go).
          target[LIVE] = {
            id: notes.id,
            address: options.addressOf(request),
            started: notes.started,
            before: 'bytesWritten' in socket ? (socket.bytesWritten as number) : 0,
          };
          onSocketClose(socket, liveClosed);
        } else if (enabled) {
          // A refused handshake is a finished request.
          const durationMs = msSince(notes.started);
          line(request, notes, { status, kind: 'ws', durationMs }, 'request');
        }
        const endOfLine = chunk.indexOf('\r\n');
        return endOfLine < 0 ? chunk : `${chunk.slice(0, endOfLine + 2)}${REQUEST_ID_HEADER}: ${notes.id}\r\n${chunk.slice(endOfLine + 2)}`;
      };
      target.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
        restore();
        return (originalWrite as (...args: unknown[]) => boolean).call(this, answered(chunk), ...rest);
      } as Duplex['write'];
      target.end = function (this: Duplex, chunk?: unknown, ...rest: unknown[]) {
        restore();
        return (originalEnd as (...args: unknown[]) => Duplex).call(this, answered(chunk), ...rest);
      } as Duplex['end'];
    },
  };
}
