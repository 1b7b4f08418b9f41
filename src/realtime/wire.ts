// The one place that reaches into `ws`: frames built once as bytes, and the
// TCP socket under a WebSocket, written to directly; and the same for the
// socket under an event stream. Everything else talks to a WireSocket, which
// tests replace with a fake.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import * as ws from 'ws';
import type { Framing } from '../hub/message.ts';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

// ws builds frames with Sender.frame; its type definitions leave Sender out.
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

/** A complete unmasked WebSocket text frame (header + payload). */
export function textFrame(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text), { fin: true, opcode: 0x01, mask: false, readOnly: true, rsv1: false });
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** The payload of a frame built by textFrame (unmasked: a 2-, 4- or 10-byte header). */
export function framePayload(frame: Buffer): Buffer {
  const length = (frame[1] as number) & 0x7f;
  return frame.subarray(length === 127 ? 10 : length === 126 ? 4 : 2);
}

/** What a session needs of its connection. */
export interface WireSocket {
  /** How messages are written on it; WebSocket frames when absent. */
  readonly framing?: Framing;
  readonly open: boolean;
  /** Bytes written but not yet taken by the kernel. */
  readonly buffered: number;
  /** Writes complete frames as they are. */
  write(frames: Buffer): void;
  /** Resolves true once `buffered` is at most `bytes`, false if the socket closed or `deadlineMs` passed first. */
  drainedTo(bytes: number, deadlineMs: number): Promise<boolean>;
  /** A heartbeat ping carrying `payload`, which a live peer echoes in its pong. */
  ping(payload: Buffer): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** Node's symbol for a socket's idle timer, found once on the first socket that has it. */
let idleTimerKey: symbol | null | undefined;

/**
 * Lets go of the idle timer the HTTP server gave the socket. ws turns it off
 * (setTimeout(0)) when it takes the socket, but Node keeps the cleared timer
 * and its bound callback on the socket: about 250 bytes for every open
 * WebSocket, never used again.
 */
function releaseIdleTimer(socket: Socket | undefined): void {
  if (!socket || socket.timeout) return;
  idleTimerKey ??= Object.getOwnPropertySymbols(socket).find((key) => key.description === 'timeout') ?? null;
  if (idleTimerKey) (socket as unknown as Record<symbol, unknown>)[idleTimerKey] = null;
}

export class WsWire implements WireSocket {
  constructor(readonly ws: ws.WebSocket) {
    releaseIdleTimer(this.socket);
  }

  get framing(): Framing {
    return 'ws';
  }

  private get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }

  get open(): boolean {
    return this.ws.readyState === ws.WebSocket.OPEN;
  }

  get buffered(): number {
    return this.socket?.writableLength ?? 0;
  }

  write(frames: Buffer): void {
    // Node's socket gathers writes queued behind a slow peer into one writev.
    if (this.open) this.socket?.write(frames);
  }

  drainedTo(bytes: number, deadlineMs: number): Promise<boolean> {
    const socket = this.socket;
    if (!socket || !this.open) return Promise.resolve(false);
    return socketDrainedTo(socket, bytes, deadlineMs);
  }

  ping(payload: Buffer): void {
    if (this.open) this.ws.ping(payload);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === ws.WebSocket.OPEN) this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Resolves true once the socket holds at most `bytes` unsent, false if it closes or the deadline passes first. */
function socketDrainedTo(socket: Socket, bytes: number, deadlineMs: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(false);
  if (socket.writableLength <= bytes) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      resolve(drained);
    };
    const onDrain = () => {
      if (socket.writableLength <= bytes) finish(true);
    };
    const onClose = () => finish(false);
    const timer = setTimeout(() => finish(false), Math.max(0, deadlineMs - Date.now()));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

const PING = Buffer.from(': ping\n\n');

/**
 * An event stream: the response's headers are sent, and from then on its
 * socket is written to directly (the response is not chunked: the stream
 * ends with the connection), so a write costs what a WebSocket write does.
 */
export class SseWire implements WireSocket {
  /** What the peer had taken at the last heartbeat, and whether bytes were waiting for it then. */
  private takenAtBeat = 0;
  private waitingAtBeat = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly socket: Socket,
  ) {}

  get framing(): Framing {
    return 'sse';
  }

  get open(): boolean {
    return this.socket.writable && !this.response.writableEnded;
  }

  get buffered(): number {
    return this.socket.writableLength;
  }

  write(bytes: Buffer): void {
    if (this.open) this.socket.write(bytes);
  }

  drainedTo(bytes: number, deadlineMs: number): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    return socketDrainedTo(this.socket, bytes, deadlineMs);
  }

  /** A comment line: keeps proxies from timing the stream out, and shows whether the peer still reads. */
  ping(): void {
    const taken = this.taken;
    this.takenAtBeat = taken;
    this.waitingAtBeat = this.socket.writableLength > 0;
    this.write(PING);
  }

  /** True when bytes waited for the peer at the last heartbeat and it has taken none since. */
  get stalled(): boolean {
    return this.waitingAtBeat && this.taken === this.takenAtBeat;
  }

  /** Bytes the kernel has accepted for the peer. */
  private get taken(): number {
    return (this.socket.bytesWritten ?? 0) - this.socket.writableLength;
  }

  /** Ends the stream after what is already written; the client reconnects with Last-Event-ID. */
  close(_code: number, reason: string): void {
    if (!this.open) return;
    this.socket.write(`: ${reason}\n\n`);
    this.response.end();
  }

  terminate(): void {
    this.socket.destroy();
  }
}
