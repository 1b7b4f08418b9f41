// An outbound message is serialised once and framed once per event; every
// subscriber that wants it gets the same bytes. A message can be written as a
// WebSocket frame or as a Server-Sent Event: the SSE bytes are made from the
// frame's own JSON, only when an event stream asks for them, and joined once
// per batch like the frames.
import type { NewsEvent } from '../domain/event.ts';
import { type Detail, type Item, toCard } from '../domain/item.ts';
import { formatCursor } from '../domain/cursor.ts';
import { framePayload, textFrame } from '../realtime/wire.ts';

/** How messages are written on a connection: WebSocket frames, or Server-Sent Events. */
export type Framing = 'ws' | 'sse';

export interface OutboundMessage {
  /** Log position, for ordering and de-duplication; 0 for control frames. */
  readonly seq: number;
  /** The complete unmasked WebSocket text frame. */
  readonly frame: Buffer;
  /** The SSE fields before its data ("id: …\nevent: …\n"); the data is the frame's JSON. */
  readonly sseFields: string;
}

export function prepareMessage(seq: number, text: string, sseFields = ''): OutboundMessage {
  return { seq, frame: textFrame(text), sseFields };
}

/**
 * A frame that is not an event (welcome, reset, error, …). `id` is the
 * position the reader is at once it has it, for transports that remember one.
 */
export function controlMessage(type: string, text: string, id?: string): OutboundMessage {
  return prepareMessage(0, text, sseFieldsFor(type, id));
}

/**
 * The `event` frame of the public contract. Cards leave the body out; a
 * correction that took the item out of topics names them in `leftTopics`.
 */
function eventFrameText(event: NewsEvent, epoch: string, detail: Detail, cursor = formatCursor(epoch, event.seq)): string {
  const item = detail === 'card' && event.item.status === 'published' ? toCard(event.item as Item) : event.item;
  const left = event.formerTopics?.length ? `,"leftTopics":${JSON.stringify(event.formerTopics)}` : '';
  return `{"type":"event","cursor":"${cursor}","event":"${event.type}","item":${JSON.stringify(item)}${left}}`;
}

export function eventMessage(event: NewsEvent, epoch: string, detail: Detail): OutboundMessage {
  const cursor = formatCursor(epoch, event.seq);
  return prepareMessage(event.seq, eventFrameText(event, epoch, detail, cursor), sseFieldsFor(event.type, cursor));
}

/** True when the whole item differs from its card: it has a body. */
export function hasBody(event: NewsEvent): boolean {
  return event.item.status === 'published' && (event.item as Item).body !== undefined;
}

function sseFieldsFor(name: string, id: string | undefined): string {
  return id === undefined ? `event: ${name}\n` : `id: ${id}\nevent: ${name}\n`;
}

/** The bytes of one message, for one write. */
export function messageBytes(message: OutboundMessage, framing: Framing): Buffer {
  return framing === 'ws' ? message.frame : sseEvents([message]);
}

/** The bytes of several messages, in order, for one write. */
export function joinMessages(messages: readonly OutboundMessage[], framing: Framing): Buffer {
  if (framing === 'sse') return sseEvents(messages);
  return messages.length === 1 ? (messages[0] as OutboundMessage).frame : Buffer.concat(messages.map((m) => m.frame));
}

const DATA = Buffer.from('data: ');
const END = Buffer.from('\n\n');

/**
 * Server-Sent Events, one allocation for all of them. The JSON of a frame
 * holds no raw line break (JSON escapes them), so it is a single data line.
 */
function sseEvents(messages: readonly OutboundMessage[]): Buffer {
  let length = 0;
  for (const message of messages) {
    length += message.sseFields.length + DATA.length + framePayload(message.frame).length + END.length;
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const message of messages) {
    // Field names, cursors and event names are ASCII.
    at += out.write(message.sseFields, at, 'latin1');
    at += DATA.copy(out, at);
    at += framePayload(message.frame).copy(out, at);
    at += END.copy(out, at);
  }
  return out;
}

/** Messages joined once per framing, and only for a framing some connection asks for. */
export interface Joined {
  readonly messages: readonly OutboundMessage[];
  bytes(framing: Framing): Buffer;
}

export function joinedLazily(messages: readonly OutboundMessage[]): Joined {
  let ws: Buffer | undefined;
  let sse: Buffer | undefined;
  return {
    messages,
    bytes(framing) {
      if (framing === 'ws') {
        ws ??= joinMessages(messages, 'ws');
        return ws;
      }
      sse ??= joinMessages(messages, 'sse');
      return sse;
    },
  };
}
