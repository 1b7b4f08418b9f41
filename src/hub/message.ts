// An outbound message is serialised once and framed once per event; every
// subscriber gets the same bytes.
import * as ws from 'ws';

export interface OutboundMessage {
  /** Log position, for ordering and de-duplication; 0 for control frames. */
  readonly seq: number;
  readonly text: string;
  /** The complete unmasked WebSocket text frame (header + payload). */
  readonly frame: Buffer;
}

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

// ws builds frames with Sender.frame; its type definitions leave Sender out.
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

export function prepareMessage(seq: number, text: string): OutboundMessage {
  const parts = Sender.frame(Buffer.from(text), { fin: true, opcode: 0x01, mask: false, readOnly: true, rsv1: false });
  return { seq, text, frame: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts) };
}
