// One WebSocket connection. Kept small: idle connections are the scale limit.
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Batch, Subscriber } from '../hub/hub.ts';
import { type OutboundMessage, prepareMessage } from '../hub/message.ts';
import { CLOSE } from './protocol.ts';

const MAX_PENDING = 10_000;

export interface SessionLimits {
  sendBuffer: number;
  messagesPer10s: number;
}

export interface SessionHooks {
  onSlowConsumer(session: Session): void;
}

export class Session implements Subscriber {
  topics: Set<string> | null;
  /** Seq of the last event written; older or equal offers are dropped. */
  lastSeq = 0;
  /** Live events held back while a resume replays the log; null once live. */
  pending: OutboundMessage[] | null = [];
  alive = true;
  pass = 0;
  private frames = 0;
  private windowStart = 0;

  constructor(
    readonly ws: WebSocket,
    topics: Set<string> | null,
    private readonly limits: SessionLimits,
    private readonly hooks: SessionHooks,
  ) {
    this.topics = topics;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  wants(topics: readonly string[]): boolean {
    if (this.topics === null) return true;
    for (const topic of topics) if (this.topics.has(topic)) return true;
    return false;
  }

  offer(message: OutboundMessage): void {
    if (message.seq <= this.lastSeq) return;
    if (this.pending) {
      const tail = this.pending[this.pending.length - 1];
      if (!tail || tail.seq < message.seq) this.pending.push(message);
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
    this.writeFrames(batch.frames, last.seq);
  }

  /** Ends the replay: sends what arrived meanwhile and goes live. */
  goLive(): void {
    const held = this.pending ?? [];
    this.pending = null;
    for (const message of held) if (message.seq > this.lastSeq) this.write(message);
  }

  write(message: OutboundMessage): void {
    this.writeFrames(message.frame, message.seq);
  }

  /** Writes complete frames built once for every subscriber, as they are; `seq` is the last of them. */
  writeFrames(frames: Buffer, seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    // Node's socket gathers writes queued behind a slow peer into one writev.
    const socket = rawSocket(this.ws);
    socket.write(frames);
    // While replaying, the replay waits for the socket instead (see drained()).
    if (this.pending === null && socket.writableLength > this.limits.sendBuffer) this.hooks.onSlowConsumer(this);
  }

  /** Replay flow control: resolves once the send buffer is below half its bound. */
  drained(): Promise<void> | undefined {
    const socket = rawSocket(this.ws);
    if (!socket || socket.writableLength <= this.limits.sendBuffer / 2) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** Live events held during a replay are bounded too: a client that far behind starts over by cursor. */
  get pendingOverflow(): boolean {
    return (this.pending?.length ?? 0) > MAX_PENDING;
  }

  sendJson(value: unknown): void {
    this.write(prepareMessage(0, JSON.stringify(value)));
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

  /** Closes with a code; a peer that does not answer is cut off after a grace period. */
  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), code === CLOSE.slowConsumer ? 2_000 : 5_000).unref();
  }
}

function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}
