// An outbound message is serialised once and framed once per event; every
// subscriber that wants it gets the same bytes.
import type { NewsEvent } from '../domain/event.ts';
import { type Detail, type Item, toCard } from '../domain/item.ts';
import { formatCursor } from '../domain/cursor.ts';
import { textFrame } from '../realtime/wire.ts';

export interface OutboundMessage {
  /** Log position, for ordering and de-duplication; 0 for control frames. */
  readonly seq: number;
  /** The complete unmasked WebSocket text frame. */
  readonly frame: Buffer;
}

export function prepareMessage(seq: number, text: string): OutboundMessage {
  return { seq, frame: textFrame(text) };
}

/**
 * The `event` frame of the public contract. Cards leave the body out; a
 * correction that took the item out of topics names them in `leftTopics`.
 */
export function eventFrameText(event: NewsEvent, epoch: string, detail: Detail): string {
  const item = detail === 'card' && event.item.status === 'published' ? toCard(event.item as Item) : event.item;
  const left = event.formerTopics?.length ? `,"leftTopics":${JSON.stringify(event.formerTopics)}` : '';
  return `{"type":"event","cursor":"${formatCursor(epoch, event.seq)}","event":"${event.type}","item":${JSON.stringify(item)}${left}}`;
}

export function eventMessage(event: NewsEvent, epoch: string, detail: Detail): OutboundMessage {
  return prepareMessage(event.seq, eventFrameText(event, epoch, detail));
}

/** True when the whole item differs from its card: it has a body. */
export function hasBody(event: NewsEvent): boolean {
  return event.item.status === 'published' && (event.item as Item).body !== undefined;
}
