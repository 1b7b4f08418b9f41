// Live news client: one WebSocket to /ws (or, where WebSockets are blocked,
// an event stream from /sse) that survives restarts and network drops. It
// resumes from the last cursor it saw, so a reconnect loses nothing, and it
// drops anything at or below that cursor, so nothing is seen twice.
// Plain ES module without dependencies: it runs in browsers and in Node 20
// (pass the `ws` package as `WebSocket` there, and an EventSource such as the
// `eventsource` package's for event streams).

/** @typedef {'connecting' | 'live' | 'reconnecting' | 'offline' | 'closed'} ClientState */

/** @typedef {'websocket' | 'sse' | 'auto'} Transport */

/**
 * @typedef {object} ClientOptions
 * @property {string} [url] WebSocket URL of /ws; in a browser it defaults to this page's origin.
 * @property {Transport} [transport] 'websocket' (the default); 'sse': an event stream from /sse;
 *   'auto': WebSocket, and an event stream after `fallbackAfter` WebSocket attempts in a row that never opened.
 * @property {string} [sseUrl] URL of /sse; defaults to `url` with http(s) for ws(s) and /sse for /ws.
 * @property {number} [fallbackAfter] WebSocket attempts that never open before 'auto' tries an event stream (3).
 * @property {string[] | null} [topics] Topics to follow; null or empty follows every topic (unless `items` is given).
 * @property {string[]} [items] Item ids to follow whatever their topics become (a story page); with no
 *   topics, the client follows only these items.
 * @property {'card' | 'full'} [detail] 'card' (the default): items without their body; 'full': whole items.
 * @property {string | null} [cursor] Where to resume from; without one the client starts at "now".
 * @property {any} [WebSocket] A WebSocket constructor (the `ws` package in Node 20).
 * @property {any} [EventSource] An EventSource constructor (in Node 20, the `eventsource` package's).
 * @property {{ getItem(key: string): string | null, setItem(key: string, value: string): void } | null} [storage]
 *   Keeps the cursor per topic set (e.g. sessionStorage), used when no cursor is given.
 * @property {number} [initialDelayMs] First reconnect delay (before jitter).
 * @property {number} [maxDelayMs] Ceiling of the reconnect delay.
 * @property {number} [pongTimeoutMs] How long to wait for a pong before the link counts as dead.
 * @property {() => number} [random] Source of jitter, for tests.
 * @property {(frame: EventFrame) => void} [onEvent] A published/updated/retracted event, in log order.
 * @property {(frame: ResetFrame) => void} [onReset] The server's snapshot replaces everything shown so far.
 * @property {(state: ClientState, info: StateInfo) => void} [onState]
 * @property {(frame: { type: 'welcome', cursor: string, resumed: boolean, topics: string[] }) => void} [onWelcome]
 * @property {(error: { code: string, message: string }) => void} [onError]
 */

/**
 * @typedef {{ type: 'event', cursor: string, event: 'published' | 'updated' | 'retracted', item: any, leftTopics?: string[] }} EventFrame
 * @typedef {{ type: 'reset', cursor: string, reason: string, items: any[] }} ResetFrame
 * @typedef {{ attempt: number, delayMs?: number, code?: number, reason?: string }} StateInfo
 */

const OPEN = 1;

/** WebSocket close codes, and HTTP statuses of a refused event stream, after which retrying the same request cannot help. */
const FATAL = new Set([4400, 1008, 400, 403, 404]);

/** Named events of the stream; its `error` events come with the connection's own. */
const STREAM_EVENTS = ['welcome', 'published', 'updated', 'retracted', 'reset'];

/** Splits "epoch-seq"; null for anything else. */
export function parseCursor(cursor) {
  if (typeof cursor !== 'string') return null;
  const match = /^([A-Za-z0-9]+)-(\d+)$/.exec(cursor);
  return match ? { epoch: match[1], seq: Number(match[2]) } : null;
}

/** Exponential backoff with equal jitter: half fixed, half random, so clients spread out after an outage. */
export function backoffDelay(attempt, initialDelayMs, maxDelayMs, random = Math.random) {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The event stream beside a WebSocket URL: http(s) for ws(s), /sse for /ws. */
export function streamUrl(wsUrl) {
  const url = new URL(wsUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  url.pathname = `${url.pathname.replace(/\/ws\/?$/, '').replace(/\/$/, '')}/sse`;
  url.search = '';
  return url.toString();
}

/** The storage key for a topic set (and items followed), so each view resumes its own position. */
export function cursorKey(topics, items = []) {
  const list = normaliseTopics(topics);
  const followed = [...new Set(items)].sort();
  return `newswire:cursor:${list ? list.join(',') : followed.length ? '' : 'all'}${followed.length ? `:items:${followed.join(',')}` : ''}`;
}

function normaliseTopics(topics) {
  if (!topics || topics.length === 0 || topics.includes('all')) return null;
  return [...new Set(topics)].sort();
}

export class NewsClient {
  /** @param {ClientOptions} options */
  constructor(options = {}) {
    this.options = options;
    /** @type {Transport} */
    this.transport = options.transport ?? 'websocket';
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.EventSource = options.EventSource ?? globalThis.EventSource;
    if (this.transport !== 'sse' && !this.WebSocket) throw new Error('no WebSocket implementation: pass one as options.WebSocket');
    if (this.transport === 'sse' && !this.EventSource) throw new Error('no EventSource implementation: pass one as options.EventSource');
    this.url = options.url ?? (this.transport === 'sse' && options.sseUrl ? null : defaultUrl());
    this.sseUrl = options.sseUrl ?? null;
    /** The transport of the next connection: 'auto' starts with WebSocket. */
    this.using = this.transport === 'sse' ? 'sse' : 'websocket';
    this.fallbackAfter = options.fallbackAfter ?? 3;
    /** WebSocket attempts in a row that never opened. */
    this.misses = 0;
    /** Item ids followed by id; with no topics, only these. */
    this.items = [...new Set(options.items ?? [])];
    /** @type {string[] | null} null: every topic; [] (with items): none. */
    this.topics = this.items.length && !options.topics?.length ? [] : normaliseTopics(options.topics ?? null);
    this.detail = options.detail ?? 'card';
    this.initialDelayMs = options.initialDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.storage = options.storage ?? null;
    /** @type {ClientState} */
    this.state = 'closed';
    this.attempt = 0;
    this.ws = null;
    /** The event stream, when that is the transport. */
    this.es = null;
    /** Whether the current (or last) connection opened. */
    this.opened = false;
    /** Topics before a change an event stream has not confirmed yet: restored if the server refuses it. */
    this.topicsBefore = null;
    this.timer = null;
    this.heartbeat = null;
    this.pongDeadline = null;
    this.stopped = true;
    /** Callers waiting for the answer to a subscribe/unsubscribe, in order. */
    this.waiting = [];
    // The position: the cursor we start from, then the last event seen. A welcome
    // moves it only when it says "resumed"; otherwise the reset that follows does,
    // so a drop between the two cannot skip anything.
    this.epoch = null;
    this.seq = -1;
    const start = options.cursor ?? this.readStored();
    const parsed = parseCursor(start);
    if (parsed) {
      this.epoch = parsed.epoch;
      this.seq = parsed.seq;
    }
    this.onOnline = () => {
      if (!this.stopped && this.state === 'offline') this.reconnectNow();
    };
    this.onOffline = () => {
      // An open socket may still work (a VPN, a LAN): the heartbeat will tell.
      if (this.stopped || (this.ws && this.ws.readyState === OPEN) || (this.es && this.es.readyState === OPEN)) return;
      this.clearTimers();
      this.setState('offline', { attempt: this.attempt, reason: 'the device is offline' });
    };
  }

  /** The last position seen, or null before the first welcome. */
  get cursor() {
    return this.epoch === null ? null : `${this.epoch}-${this.seq}`;
  }

  /** Opens the connection; reconnects by itself until close() is called. */
  start() {
    if (!this.stopped) return this;
    this.stopped = false;
    if (typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this.onOnline);
      globalThis.addEventListener('offline', this.onOffline);
    }
    this.open('connecting');
    return this;
  }

  /** Stops for good: no more reconnects, no more callbacks. */
  close() {
    this.stopped = true;
    this.clearTimers();
    this.settle();
    if (typeof globalThis.removeEventListener === 'function') {
      globalThis.removeEventListener('online', this.onOnline);
      globalThis.removeEventListener('offline', this.onOffline);
    }
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      if (ws.readyState <= OPEN) ws.close(1000, 'client closed');
    }
    this.es?.close();
    this.es = null;
    this.setState('closed', { attempt: 0 });
  }

  /**
   * Follows more topics; kept across reconnects. Resolves once the server has
   * applied it (or at once when not connected: the next connection asks for them).
   */
  subscribe(topics) {
    const add = normaliseTopics(topics);
    if (this.topics === null) return Promise.resolve();
    const before = this.topics;
    this.topics = add === null ? null : normaliseTopics([...this.topics, ...add]);
    return this.request({ type: 'subscribe', topics: add ?? ['all'] }, before);
  }

  /** Stops following some topics; kept across reconnects. */
  unsubscribe(topics) {
    if (this.topics === null) throw new Error('this client follows every topic: create one with a topic list to narrow it');
    const next = this.topics.filter((topic) => !topics.includes(topic));
    if (next.length === 0 && !this.items.length) throw new Error('cannot leave a client with no topic: close it instead');
    const before = this.topics;
    this.topics = next;
    return this.request({ type: 'unsubscribe', topics: [...topics] }, before);
  }

  /** Sends a frame the server answers with "subscribed" (or an error). */
  request(frame, topicsBefore) {
    if (this.es) return this.restream(topicsBefore);
    if (!this.ws || this.ws.readyState !== OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.send(frame);
    });
  }

  settle(error) {
    const waiting = this.waiting;
    this.waiting = [];
    for (const waiter of waiting) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  send(frame) {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(frame));
  }

  /**
   * An event stream cannot be told anything: it is opened again with the
   * new topics, from the cursor. Resolves on the new stream's welcome.
   */
  restream(topicsBefore) {
    this.topicsBefore ??= topicsBefore;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.es?.close();
      this.es = null;
      this.open(this.state);
    });
  }

  open(state) {
    this.setState(state, { attempt: this.attempt });
    this.opened = false;
    if (this.using === 'sse') this.openStream();
    else this.openSocket();
  }

  /** The URL of a connection: what it follows and the cursor to resume from. */
  connectUrl(base) {
    const url = new URL(base);
    if (this.topics?.length) url.searchParams.set('topics', this.topics.join(','));
    else url.searchParams.delete('topics');
    if (this.items.length) url.searchParams.set('items', this.items.join(','));
    else url.searchParams.delete('items');
    if (this.detail !== 'card') url.searchParams.set('detail', this.detail);
    else url.searchParams.delete('detail');
    if (this.cursor) url.searchParams.set('cursor', this.cursor);
    else url.searchParams.delete('cursor');
    return url.toString();
  }

  openSocket() {
    let ws;
    try {
      ws = new this.WebSocket(this.connectUrl(this.url));
    } catch (error) {
      this.fail(undefined, String(error));
      return;
    }
    this.ws = ws;
    this.sentCursor = this.cursor;
    ws.onopen = () => {
      if (this.ws === ws) this.opened = true;
    };
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.fail(event.code, event.reason);
    };
    // Every error is followed by a close; the close decides what happens next.
    ws.onerror = () => {};
  }

  openStream() {
    const url = this.connectUrl(this.sseUrl ?? streamUrl(this.url));
    let es;
    try {
      es = new this.EventSource(url);
    } catch (error) {
      this.fail(undefined, String(error));
      return;
    }
    this.es = es;
    this.sentCursor = this.cursor;
    const receive = (message) => {
      if (this.es === es) this.receive(message.data);
    };
    for (const name of STREAM_EVENTS) es.addEventListener(name, receive);
    es.addEventListener('open', () => {
      if (this.es === es) this.opened = true;
    });
    es.addEventListener('error', (event) => {
      if (this.es !== es) return;
      // The server's `error` events carry data; a broken or refused connection's do not.
      if (typeof event.data === 'string') this.receive(event.data);
      else void this.streamFailed(es, url);
    });
  }

  /**
   * EventSource would reconnect by itself, after a fixed delay, and give up
   * for good on any refusal: the client reconnects instead, with backoff and
   * its own cursor. A stream that never opened is asked about once, since
   * EventSource does not say why.
   */
  async streamFailed(es, url) {
    es.close();
    this.es = null;
    const refusal = this.opened ? null : await refusalOf(url);
    // Closed, or connected again, meanwhile.
    if (this.stopped || this.es || this.ws) return;
    const error = refusal?.error ? { code: refusal.error.code, message: refusal.error.message } : null;
    if (refusal?.status === 400 && this.topicsBefore && error) {
      // The topics just asked for were refused: keep the ones that worked.
      this.topics = this.topicsBefore;
      this.topicsBefore = null;
      this.settle(Object.assign(new Error(error.message), error));
      this.options.onError?.(error);
      this.open(this.state);
      return;
    }
    if (error) this.options.onError?.(error);
    this.fail(refusal?.status, error?.message ?? 'the event stream ended');
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    this.pongDeadline = null;
    switch (frame.type) {
      case 'welcome':
        this.welcome(frame);
        break;
      case 'event':
        this.event(frame);
        break;
      case 'reset':
        this.adopt(frame.cursor, true);
        this.options.onReset?.(frame);
        break;
      case 'pong':
        // Everything up to the pong's cursor has been written before it, so the
        // position may move past events of other topics.
        this.adopt(frame.cursor, false);
        break;
      case 'subscribed': {
        const waiter = this.waiting.shift();
        waiter?.resolve();
        break;
      }
      case 'error': {
        const error = { code: frame.code, message: frame.message };
        // Only a subscription change can fail once a connection is up.
        const waiter = this.waiting.shift();
        if (waiter) waiter.reject(Object.assign(new Error(frame.message), error));
        this.options.onError?.(error);
        break;
      }
      default:
        break;
    }
  }

  welcome(frame) {
    // Resumed, or a fresh start without a cursor: the welcome cursor is our position.
    // Otherwise a reset follows, and only it may move the cursor.
    if (frame.resumed || !this.sentCursor) this.adopt(frame.cursor, true);
    this.attempt = 0;
    this.setState('live', { attempt: 0 });
    if (this.es) {
      // The topics it was opened with are the server's now. A stream takes
      // no pings: a dead link shows when the browser's connection fails.
      this.topicsBefore = null;
      this.settle();
    } else this.startHeartbeat(frame.heartbeatMs);
    this.options.onWelcome?.(frame);
  }

  event(frame) {
    const at = parseCursor(frame.cursor);
    if (!at) return;
    if (at.epoch === this.epoch && at.seq <= this.seq) return; // seen already
    if (!this.follows(frame)) {
      // Sent before an unsubscribe took effect: skip it but keep the position.
      this.adopt(frame.cursor, true);
      return;
    }
    this.adopt(frame.cursor, true);
    this.options.onEvent?.(frame);
  }

  /**
   * Whether an event concerns what this client follows: its item, one of its
   * topics, or a topic a correction just took it out of (`leftTopics`), so
   * that a page of that topic can drop it.
   */
  follows(frame) {
    if (this.topics === null || this.items.includes(frame.item.id)) return true;
    const touches = (topics) => (topics ?? []).some((topic) => this.topics.includes(topic));
    return touches(frame.item.topics) || touches(frame.leftTopics);
  }

  adopt(cursor, force) {
    const at = parseCursor(cursor);
    if (!at) return;
    if (!force && (at.epoch !== this.epoch || at.seq <= this.seq)) return;
    this.epoch = at.epoch;
    this.seq = at.seq;
    try {
      this.storage?.setItem(cursorKey(this.topics, this.items), this.cursor);
    } catch {
      // Storage full or disabled: the in-memory cursor still works for this page.
    }
  }

  readStored() {
    try {
      return this.storage?.getItem(cursorKey(this.topics, this.items)) ?? null;
    } catch {
      return null;
    }
  }

  /** A link can die without a close (sleep, NAT timeout): ping now and then and expect an answer. */
  startHeartbeat(serverHeartbeatMs) {
    clearInterval(this.heartbeat);
    const every = Math.max(5_000, Math.min(serverHeartbeatMs ?? 30_000, 60_000));
    this.heartbeat = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== OPEN) return;
      if (this.pongDeadline !== null && Date.now() > this.pongDeadline) {
        // No frame since the last ping: give up on this socket and start afresh.
        detach(ws);
        this.ws = null;
        try {
          ws.close(4000, 'no pong');
        } catch {
          // closing a dead socket may throw in some implementations
        }
        this.fail(undefined, 'the server stopped answering');
        return;
      }
      this.pongDeadline = Date.now() + this.pongTimeoutMs;
      this.send({ type: 'ping' });
    }, every);
    this.heartbeat.unref?.();
  }

  fail(code, reason) {
    // The next connection asks for the current topics: nothing is left to wait for.
    this.settle();
    clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.pongDeadline = null;
    if (this.stopped) return;
    this.pickTransport();
    if (code !== undefined && FATAL.has(code)) {
      this.setState('offline', { attempt: this.attempt, code, reason: reason || 'the server refused this request' });
      return;
    }
    if (globalThis.navigator?.onLine === false) {
      this.setState('offline', { attempt: this.attempt, code, reason: 'the device is offline' });
      return;
    }
    this.attempt++;
    const delayMs = backoffDelay(this.attempt, this.initialDelayMs, this.maxDelayMs, this.random);
    this.setState('reconnecting', { attempt: this.attempt, delayMs, code, reason }, true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open('reconnecting');
    }, delayMs);
  }

  /**
   * 'auto': WebSocket attempts in a row that never opened (a proxy that
   * blocks them) turn to an event stream, kept once it opens; an event stream
   * that does not open either turns back (the server is away, not blocked).
   */
  pickTransport() {
    if (this.transport !== 'auto' || !this.EventSource) return;
    if (this.opened) this.misses = 0;
    else if (this.using === 'sse') {
      this.using = 'websocket';
      this.misses = 0;
    } else if (++this.misses >= this.fallbackAfter) this.using = 'sse';
  }

  /** Skips the wait (the network came back, or the user asked). */
  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= OPEN) || this.es) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.open('reconnecting');
  }

  clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
    this.pongDeadline = null;
  }

  /** Reports a change; `always` also reports a repeat (each new reconnect delay). */
  setState(state, info, always = false) {
    const changed = state !== this.state;
    this.state = state;
    if (changed || always) this.options.onState?.(state, info);
  }
}

function detach(ws) {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {};
}

function defaultUrl() {
  const location = globalThis.location;
  if (!location) throw new Error('options.url is required outside a browser');
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

/** Why the server refused an event stream: its status and error body, or null when it did not (or cannot say). */
async function refusalOf(url) {
  if (typeof fetch !== 'function') return null;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5_000);
  try {
    const response = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' }, cache: 'no-store' });
    if (response.ok) return null;
    const body = await response.json().catch(() => null);
    return { status: response.status, error: body?.error ?? null };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    // A stream that did open this time is not wanted: only its status was.
    abort.abort();
  }
}

/** Creates and starts a client. */
export function connect(options) {
  return new NewsClient(options).start();
}
