// Deliveries to recipients outside our pages (browser push services, WebSub
// subscribers), driven by the log. For each channel the outbox keeps:
//   - the recipients (subscriptions), with a version that changes with them;
//   - a cursor: the last seq whose deliveries were planned. Planning an
//     event and moving the cursor past it are one atomic step that only one
//     process can win, so each (event, recipient) is planned once, across
//     processes and restarts;
//   - the deliveries themselves, due at a time, leased while one process
//     sends them, settled when sent, retried later, or dropped.
// Two implementations behind this interface: outbox-sqlite.ts, outbox-redis.ts.

export type Channel = 'push' | 'websub';

export interface Subscription {
  /** Stable for the same recipient: subscribing again replaces the choices. */
  id: string;
  /** Where deliveries go (a push endpoint, a WebSub callback). */
  target: string;
  /** The channel's own data: keys and choices, topic, secret. */
  data: Record<string, unknown>;
  /** Leases end (ms); undefined: until removed. */
  expiresMs?: number;
}

export interface PlannedDelivery {
  subscriptionId: string;
  /** What to send, made at planning time (small: a push payload, or a feed name). */
  payload: string;
  /** Deliveries with the same coalesce key that are due together are sent once. */
  coalesce?: string;
}

export interface Delivery {
  id: string;
  seq: number;
  subscriptionId: string;
  payload: string;
  coalesce?: string;
  /** Attempts so far, this one included. */
  attempts: number;
  /** When it was planned (ms), to bound retries in time. */
  plannedMs: number;
}

export interface Note {
  key: string;
  value: string;
  ttlMs: number;
}

export type Settlement =
  /** Sent: it is done. */
  | { outcome: 'sent' }
  /** Try again then (ms). */
  | { outcome: 'retry'; atMs: number }
  /** Give up on this delivery (failed for good, or retried long enough). */
  | { outcome: 'dropped' }
  /** The recipient is gone (404/410): drop the delivery and the subscription. */
  | { outcome: 'gone' };

export interface Outbox {
  /** A value made once per store and kept (keys): the existing one, or `make()`'s. */
  setting(name: string, make: () => string): Promise<string>;

  /** Adds or replaces a subscription; `max` bounds how many the channel holds. False when full. */
  subscribe(channel: Channel, subscription: Subscription, max: number): Promise<boolean>;
  unsubscribe(channel: Channel, id: string): Promise<boolean>;
  /** A value that changes whenever the channel's subscriptions do. */
  version(channel: Channel): Promise<string>;
  /** Every subscription of the channel, and a version that changes whenever they do. */
  subscriptions(channel: Channel): Promise<{ version: string; list: Subscription[] }>;
  /** Drops subscriptions whose lease ended before `nowMs`; returns how many. */
  expire(channel: Channel, nowMs: number): Promise<number>;

  /** The last seq planned; set to `startSeq` the first time it is asked for. */
  cursor(channel: Channel, startSeq: number): Promise<number>;
  /**
   * Plans the deliveries of the events (from, to] and moves the cursor to
   * `to`, only if it is still at `from`; notes written with them (who was
   * told of an item, so a kill reaches the same people) are kept for their
   * time. False when another process got there first: nothing is written.
   */
  plan(channel: Channel, from: number, to: number, deliveries: (PlannedDelivery & { seq: number })[], notes: Note[], nowMs: number): Promise<boolean>;
  /** A note written by a plan, while it lasts. */
  note(channel: Channel, key: string, nowMs: number): Promise<string | null>;
  /** Moves the cursor to `seq` whatever it was (a new log began). */
  restart(channel: Channel, seq: number): Promise<void>;

  /** Leases up to `limit` due deliveries until nowMs + leaseMs, counting an attempt for each. */
  claim(channel: Channel, nowMs: number, leaseMs: number, limit: number): Promise<Delivery[]>;
  /** Records what became of claimed deliveries, all in one step. */
  settle(channel: Channel, settled: { delivery: Delivery; settlement: Settlement }[]): Promise<void>;
  /** Deliveries planned and not yet settled. */
  backlog(channel: Channel): Promise<number>;
  close(): Promise<void>;
}
