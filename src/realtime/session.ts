// One live connection's delivery state: which events it follows, where it is
// in the log, and the live events held back while a replay or a reset is
// built. Kept small: idle connections are the scale limit. How a session
// catches up (resume, reset) is recovery.ts; this is what it stands on.
import type { Detail } from '../domain/item.ts';
import type { Batch, Subscriber } from '../hub/hub.ts';
import { controlMessage, type Framing, messageBytes, type OutboundMessage } from '../hub/message.ts';
import type { WireSocket } from './wire.ts';

export interface SessionLimits {
  /** Bytes a live connection may have waiting in its send buffer before it is cut (4008). */
  sendBuffer: number;
  messagesPer10s: number;
  /** Longest a replay waits for the socket to take what was written. */
  drainTimeoutMs: number;
}

export interface SessionHooks {
  /** The connection cannot keep up: close it (4008); it comes back with its cursor. */
  onSlowConsumer(session: Session): void;
}

export class Session implements Subscriber {
  topics: Set<string> | null;
  /** Seq of the last event written; older or equal offers are dropped. */
  lastSeq = 0;
  /** Bumped by every reset: a replay or reset begun before it gives way. */
  generation = 0;
  /** Answered the last heartbeat ping (with its payload). */
  alive = true;
  pass = 0;
  /** Live events held back while a replay or reset is built; null once live. */
  private pending: OutboundMessage[] | null = [];
  private pendingBytes = 0;
  private frames = 0;
  private windowStart = 0;

  constructor(
    readonly wire: WireSocket,
    topics: Set<string> | null,
    readonly detail: Detail,
    private readonly limits: SessionLimits,
    private readonly hooks: SessionHooks,
  ) {
    this.topics = topics;
  }

  get open(): boolean {
    return this.wire.open;
  }

  /** WebSocket frames or Server-Sent Events; either is built once per event and batch, for every reader alike. */
  get framing(): Framing {
    return this.wire.framing ?? 'ws';
  }

  /** True while live events are held back (a replay or reset is being built). */
  get holding(): boolean {
    return this.pending !== null;
  }

  wants(keys: readonly string[]): boolean {
    if (this.topics === null) return true;
    for (const key of keys) if (this.topics.has(key)) return true;
    return false;
  }

  /** Holds live events from now on, until goLive(). */
  hold(): void {
    this.pending ??= [];
  }

  offer(message: OutboundMessage): void {
    if (message.seq <= this.lastSeq) return;
    if (this.pending) {
      const tail = this.pending[this.pending.length - 1];
      if (tail && tail.seq >= message.seq) return;
      this.pending.push(message);
      this.pendingBytes += message.frame.length;
      // Held events are bounded by bytes at every moment, not only after a drain.
      if (this.pendingBytes > this.limits.sendBuffer) this.hooks.onSlowConsumer(this);
      return;
    }
    this.write(message);
  }

  offerBatch(batch: Batch): void {
    const { messages } = batch;
    const first = messages[0];
    const last = messages[messages.length - 1];
    if (!first || !last) return;
    if (this.pending || first.seq <= this.lastSeq) {
      for (const message of messages) this.offer(message);
      return;
    }
    this.writeFrames(batch.bytes(this.framing), last.seq);
  }

  /** Ends the hold: sends what arrived meanwhile and is past lastSeq, and goes live. */
  goLive(): void {
    const held = this.pending ?? [];
    this.pending = null;
    this.pendingBytes = 0;
    for (const message of held) if (message.seq > this.lastSeq) this.write(message);
  }

  write(message: OutboundMessage): void {
    this.writeFrames(messageBytes(message, this.framing), message.seq);
  }

  /** Writes complete frames built once for every subscriber, as they are; `seq` is the last of them. */
  writeFrames(frames: Buffer, seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
    if (!this.wire.open) return;
    this.wire.write(frames);
    // While holding, the replay waits for the socket instead (see drained()).
    if (this.pending === null && this.wire.buffered > this.limits.sendBuffer) this.hooks.onSlowConsumer(this);
  }

  /**
   * Replay flow control: true once the send buffer is below half its bound;
   * false when the socket closed or did not drain in time.
   */
  drained(): Promise<boolean> {
    return this.wire.drainedTo(this.limits.sendBuffer / 2, Date.now() + this.limits.drainTimeoutMs);
  }

  sendJson(value: { type: string; [field: string]: unknown }): void {
    this.sendControl(value.type, JSON.stringify(value));
  }

  /**
   * A control frame (no seq): written now, even while events are held. `id`
   * is the position it puts the reader at (an event stream remembers it).
   */
  sendControl(type: string, text: string, id?: string): void {
    this.write(controlMessage(type, text, id));
  }

  sendError(code: string, message: string, details?: unknown): void {
    this.sendJson(details === undefined ? { type: 'error', code, message } : { type: 'error', code, message, details });
  }

  /** Counts a client frame; false once the client sends faster than allowed. */
  allowFrame(now: number): boolean {
    if (now - this.windowStart > 10_000) {
      this.windowStart = now;
      this.frames = 0;
    }
    return ++this.frames <= this.limits.messagesPer10s;
  }

  /**
   * Closes with a code. The close frame waits behind whatever is buffered, so
   * a peer that does not read never sees it: it is cut off after a grace
   * period, and sees an abnormal closure (1006) instead.
   */
  close(code: number, reason: string, graceMs = 5_000): void {
    this.pending = null;
    this.pendingBytes = 0;
    this.wire.close(code, reason);
    setTimeout(() => this.wire.terminate(), graceMs).unref();
  }
}
