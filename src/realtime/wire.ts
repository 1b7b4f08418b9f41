// The one place that reaches into `ws`: frames built once as bytes, and the
// TCP socket under a WebSocket, written to directly. Everything else talks
// to a WireSocket, which tests replace with a fake.
import type { Socket } from 'node:net';
import * as ws from 'ws';

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

/** What a session needs of its connection. */
export interface WireSocket {
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

export class WsWire implements WireSocket {
  constructor(readonly ws: ws.WebSocket) {}

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
    if (!socket || socket.destroyed || !this.open) return Promise.resolve(false);
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
