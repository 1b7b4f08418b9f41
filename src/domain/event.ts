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
}

/** Topics an event is routed to: the item's, and those it just left. */
export function eventTopics(event: NewsEvent): readonly string[] {
  return event.formerTopics ? [...event.item.topics, ...event.formerTopics] : event.item.topics;
}
