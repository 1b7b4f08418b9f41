// A WebSocket test client that records every frame and waits for conditions.
import WebSocket from 'ws';

export interface Frame {
  type: string;
  cursor?: string;
  event?: 'published' | 'updated' | 'retracted';
  item?: Record<string, any>;
  items?: Record<string, any>[];
  [key: string]: unknown;
}

export class TestClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private waiters: (() => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(
    readonly ws: WebSocket,
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.notify();
        resolve(code);
      }),
    );
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.notify();
    });
    ws.on('error', () => {});
  }

  static async connect(url: string, options: { topics?: string[]; cursor?: string; origin?: string } = {}) {
    const target = new URL(url);
    if (options.topics) target.searchParams.set('topics', options.topics.join(','));
    if (options.cursor) target.searchParams.set('cursor', options.cursor);
    const client = new TestClient(new WebSocket(target, options.origin ? { origin: options.origin } : {}));
    await client.opened;
    return client;
  }

  get events(): Frame[] {
    return this.frames.filter((f) => f.type === 'event');
  }

  /** Cursor of the last frame that carried one. */
  get cursor(): string | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const cursor = this.frames[i]?.cursor;
      if (cursor) return cursor;
    }
    return undefined;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `check` holds for the frames received so far. */
  async until<T>(check: (client: TestClient) => T | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = check(this);
      if (result) return result;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.map((f) => [f.type, f.event, f.cursor, f.item?.id, f.code]))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForEvents(count: number, timeoutMs = 5_000): Promise<Frame[]> {
    return this.until((c) => c.events.length >= count && c.events, timeoutMs, `${count} events`);
  }

  waitForType(type: string, timeoutMs = 5_000): Promise<Frame> {
    return this.until((c) => c.frames.find((f) => f.type === type), timeoutMs, `a "${type}" frame`);
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  close(): Promise<number> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

/** The seq part of a cursor, for order assertions. */
export function seqOf(cursor: string | undefined): number {
  return Number(cursor?.split('-')[1]);
}
