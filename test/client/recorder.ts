// Records what a NewsClient reports, and waits for conditions on it.
import WebSocket from 'ws';
import { type ClientOptions, type ClientState, type EventFrame, NewsClient, type ResetFrame, type StateInfo } from '../../public/client.js';

export class Recorder {
  readonly events: EventFrame[] = [];
  readonly resets: ResetFrame[] = [];
  readonly states: { state: ClientState; info: StateInfo }[] = [];
  readonly errors: { code: string; message: string }[] = [];
  readonly client: NewsClient;

  constructor(url: string, options: ClientOptions = {}) {
    this.client = new NewsClient({
      url,
      WebSocket,
      ...options,
      onEvent: (frame) => this.events.push(frame),
      onReset: (frame) => this.resets.push(frame),
      onState: (state, info) => this.states.push({ state, info }),
      onError: (error) => this.errors.push(error),
    });
  }

  start(): this {
    this.client.start();
    return this;
  }

  /** "event id@version" strings in arrival order. */
  get seen(): string[] {
    return this.events.map((e) => `${e.event} ${e.item.id}@${e.item.version}`);
  }

  async until<T>(check: () => T | undefined | false | null, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; states ${JSON.stringify(this.states.map((s) => s.state))}, events ${JSON.stringify(this.seen)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  live(timeoutMs?: number): Promise<boolean> {
    return this.until(() => this.client.state === 'live', 'live', timeoutMs);
  }

  eventCount(count: number, timeoutMs?: number): Promise<EventFrame[]> {
    return this.until(() => this.events.length >= count && this.events, `${count} events`, timeoutMs);
  }
}
