// Live news client: one WebSocket to /ws that survives restarts and network
// drops. It resumes from the last cursor it saw, so a reconnect loses nothing,
// and it drops anything at or below that cursor, so nothing is seen twice.
// Plain ES module without dependencies: it runs in browsers and in Node 20
// (pass the `ws` package as `WebSocket` there).

/** @typedef {'connecting' | 'live' | 'reconnecting' | 'offline' | 'closed'} ClientState */

/**
 * @typedef {object} ClientOptions
 * @property {string} [url] WebSocket URL of /ws; in a browser it defaults to this page's origin.
 * @property {string[] | null} [topics] Topics to follow; null or empty follows every topic (unless `items` is given).
 * @property {string[]} [items] Item ids to follow whatever their topics become (a story page); with no
 *   topics, the client follows only these items.
 * @property {'card' | 'full'} [detail] 'card' (the default): items without their body; 'full': whole items.
 * @property {string | null} [cursor] Where to resume from; without one the client starts at "now".
 * @property {any} [WebSocket] A WebSocket constructor (the `ws` package in Node 20).
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

/** Close codes after which retrying the same request cannot help. */
const FATAL_CLOSE = new Set([4400, 1008]);

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
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this.WebSocket) throw new Error('no WebSocket implementation: pass one as options.WebSocket');
    this.url = options.url ?? defaultUrl();
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
      if (this.stopped || (this.ws && this.ws.readyState === OPEN)) return;
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
    this.setState('closed', { attempt: 0 });
  }

  /**
   * Follows more topics; kept across reconnects. Resolves once the server has
   * applied it (or at once when not connected: the next connection asks for them).
   */
  subscribe(topics) {
    const add = normaliseTopics(topics);
    if (this.topics === null) return Promise.resolve();
    this.topics = add === null ? null : normaliseTopics([...this.topics, ...add]);
    return this.request({ type: 'subscribe', topics: add ?? ['all'] });
  }

  /** Stops following some topics; kept across reconnects. */
  unsubscribe(topics) {
    if (this.topics === null) throw new Error('this client follows every topic: create one with a topic list to narrow it');
    const next = this.topics.filter((topic) => !topics.includes(topic));
    if (next.length === 0 && !this.items.length) throw new Error('cannot leave a client with no topic: close it instead');
    this.topics = next;
    return this.request({ type: 'unsubscribe', topics: [...topics] });
  }

  /** Sends a frame the server answers with "subscribed" (or an error). */
  request(frame) {
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

  open(state) {
    this.setState(state, { attempt: this.attempt });
    const url = new URL(this.url);
    if (this.topics?.length) url.searchParams.set('topics', this.topics.join(','));
    else url.searchParams.delete('topics');
    if (this.items.length) url.searchParams.set('items', this.items.join(','));
    else url.searchParams.delete('items');
    if (this.detail !== 'card') url.searchParams.set('detail', this.detail);
    else url.searchParams.delete('detail');
    if (this.cursor) url.searchParams.set('cursor', this.cursor);
    else url.searchParams.delete('cursor');
    let ws;
    try {
      ws = new this.WebSocket(url.toString());
    } catch (error) {
      this.fail(undefined, String(error));
      return;
    }
    this.ws = ws;
    this.sentCursor = this.cursor;
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.fail(event.code, event.reason);
    };
    // Every error is followed by a close; the close decides what happens next.
    ws.onerror = () => {};
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
    this.startHeartbeat(frame.heartbeatMs);
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
    if (code !== undefined && FATAL_CLOSE.has(code)) {
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

  /** Skips the wait (the network came back, or the user asked). */
  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= OPEN)) return;
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
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {};
}

function defaultUrl() {
  const location = globalThis.location;
  if (!location) throw new Error('options.url is required outside a browser');
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

/** Creates and starts a client. */
export function connect(options) {
  return new NewsClient(options).start();
}
