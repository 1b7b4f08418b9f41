// Events are the only way state changes; the log orders them by seq.
import type { Item, RetractedItem } from './item.ts';

export type EventType = 'published' | 'updated' | 'retracted';

export interface NewsEvent {
  /** Position in the log: strictly increasing, assigned atomically with the write. */
  seq: number;
  type: EventType;
  /** ISO time the log accepted the event. */
  at: string;
  /** The whole item for published/updated; the removal notice for retracted. */
  item: Item | RetractedItem;
  /** Topics a correction took the item out of: their readers must drop it. */
  formerTopics?: string[];
  /** A correction the editor asked to alert readers of again (push notifications). */
  notify?: true;
}

/** The list of every item: feeds and pages of topic "all", sessions without topics. */
export const ALL_ITEMS = '*';

/** One item followed by id (a story page): "item:" cannot occur in a topic slug. */
export function itemKey(id: string): string {
  return `item:${id}`;
}

export function itemIdOf(key: string): string | undefined {
  return key.startsWith('item:') ? key.slice(5) : undefined;
}

/** Topics an event is routed to: the item's, and those it just left. */
export function eventTopics(event: NewsEvent): readonly string[] {
  return event.formerTopics ? [...event.item.topics, ...event.formerTopics] : event.item.topics;
}

/** Every routing key an event reaches: its topics, the ones it left, and its item. */
export function eventKeys(event: NewsEvent): string[] {
  return [...eventTopics(event), itemKey(event.item.id)];
}
