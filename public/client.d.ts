// Types for client.js, for TypeScript callers (and the tests).

export type ClientState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'closed';

export interface NewsItem {
  id: string;
  topics: string[];
  version: number;
  publishedAt: string;
  updatedAt: string;
  status: 'published' | 'retracted';
  headline?: string;
  priority?: 'flash' | 'bulletin' | 'urgent' | 'routine';
  changeNote?: string;
  reason?: string;
  [field: string]: unknown;
}

export interface EventFrame {
  type: 'event';
  cursor: string;
  event: 'published' | 'updated' | 'retracted';
  item: NewsItem;
  /** Topics a correction took the item out of: their pages drop it. */
  leftTopics?: string[];
}

export interface ResetFrame {
  type: 'reset';
  cursor: string;
  reason: string;
  items: NewsItem[];
}

export interface WelcomeFrame {
  type: 'welcome';
  cursor: string;
  resumed: boolean;
  topics: string[];
  /** Item ids followed by id, when any. */
  items?: string[];
  detail?: 'card' | 'full';
  heartbeatMs?: number;
}

export interface StateInfo {
  attempt: number;
  delayMs?: number;
  code?: number;
  reason?: string;
}

export interface CursorStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** 'websocket' (default); 'sse': an event stream from /sse; 'auto': WebSocket, falling back to an event stream. */
export type Transport = 'websocket' | 'sse' | 'auto';

export interface ClientOptions {
  /** WebSocket URL of /ws; in a browser, this page's origin by default. */
  url?: string;
  transport?: Transport;
  /** URL of /sse; by default `url` with http(s) for ws(s) and /sse for /ws. */
  sseUrl?: string;
  /** WebSocket attempts in a row that never open before 'auto' tries an event stream (default 3). */
  fallbackAfter?: number;
  topics?: string[] | null;
  /** Item ids followed whatever their topics become; with no topics, only these. */
  items?: string[];
  /** 'card' (default): items without their body; 'full': whole items. */
  detail?: 'card' | 'full';
  cursor?: string | null;
  WebSocket?: unknown;
  /** An EventSource constructor: the browser's, or in Node 20 the `eventsource` package's. */
  EventSource?: unknown;
  storage?: CursorStorage | null;
  initialDelayMs?: number;
  maxDelayMs?: number;
  pongTimeoutMs?: number;
  random?: () => number;
  onEvent?(frame: EventFrame): void;
  onReset?(frame: ResetFrame): void;
  onState?(state: ClientState, info: StateInfo): void;
  onWelcome?(frame: WelcomeFrame): void;
  onError?(error: { code: string; message: string }): void;
}

export class NewsClient {
  constructor(options?: ClientOptions);
  readonly state: ClientState;
  readonly transport: Transport;
  /** The transport of the current (or next) connection. */
  readonly using: 'websocket' | 'sse';
  readonly cursor: string | null;
  readonly topics: string[] | null;
  readonly items: string[];
  readonly attempt: number;
  start(): this;
  close(): void;
  /** Resolves once the server applied it; rejects with the server's error. */
  subscribe(topics: string[]): Promise<void>;
  unsubscribe(topics: string[]): Promise<void>;
  reconnectNow(): void;
}

export function connect(options?: ClientOptions): NewsClient;
export function parseCursor(cursor: unknown): { epoch: string; seq: number } | null;
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random?: () => number): number;
export function cursorKey(topics: string[] | null, items?: string[]): string;
export function streamUrl(wsUrl: string): string;
