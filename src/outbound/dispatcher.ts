// Runs outbound deliveries beside fan-out, never in its way. Each process:
//   - plans: after the events of a turn (and every second, for events planned
//     by no one yet), reads the log after the channel's cursor and asks the
//     channel which recipients each event needs; the outbox lets one
//     process win each stretch of the log;
//   - sends: claims due deliveries (leased, so no two processes send the
//     same one), sends a bounded number at once, and settles each: sent,
//     retried later with backoff, dropped, or the recipient gone.
// A process that dies mid-send leaves its lease to run out; the delivery is
// then sent again by another, so a crash can repeat one send, never lose it.
import type { NewsEvent } from '../domain/event.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';
import type { Channel, Delivery, Note, Outbox, PlannedDelivery, Settlement, Subscription } from './outbox.ts';

/** Events read from the log per planning step. */
const PAGE = 128;
const LEASE_MS = 30_000;

export type SendResult =
  | { outcome: 'sent' }
  | { outcome: 'gone' }
  | { outcome: 'retry'; afterMs?: number }
  | { outcome: 'failed'; reason: string };

export interface ChannelDriver {
  readonly channel: Channel;
  /** Attempts and age past which a delivery is given up. */
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  /** What the event needs sent, to whom; notes to keep for later events. */
  plan(event: NewsEvent, subscriptions: readonly Subscription[], notes: (key: string) => Promise<string | null>): Promise<{ deliveries: PlannedDelivery[]; notes: Note[] }>;
  /** Sends one delivery (for a coalesced group, the latest in the log) to its recipient. */
  send(delivery: Delivery, subscription: Subscription): Promise<SendResult>;
}

export interface DispatcherOptions {
  store: Pick<Store, 'readAfter'>;
  outbox: Outbox;
  drivers: ChannelDriver[];
  metrics: Metrics;
  logger: Logger;
  /** Sends in flight per channel in this process. */
  concurrency: number;
  /** The seq this process has fanned out (what `reached` waits for). */
  deliveredSeq: () => number;
}

interface Lane {
  driver: ChannelDriver;
  /** Settlements written together once per turn: one store write for many sends. */
  settling: { delivery: Delivery; settlement: Settlement }[];
  planning: Promise<void> | null;
  replan: boolean;
  inFlight: number;
  claiming: boolean;
  /** The channel's cursor as this process last planned it; null: read it from the outbox. */
  cursor: number | null;
  /** byId is made when a claim first needs it after the subscriptions changed. */
  subscriptions: { version: string; list: Subscription[]; byId?: Map<string, Subscription> } | null;
}

interface Waiter {
  seq: number;
  done(reached: boolean): void;
}

export class Dispatcher {
  private readonly lanes: Lane[];
  private timers: NodeJS.Timeout[] = [];
  private stopped = true;
  private sends = new Set<Promise<void>>();
  /** Planning after this turn's events is already asked for. */
  private planSoon = false;
  /** Sends waiting for this process to fan out their event. */
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly options: DispatcherOptions) {
    this.lanes = options.drivers.map((driver) => ({
      driver,
      settling: [],
      planning: null,
      replan: false,
      inFlight: 0,
      claiming: false,
      cursor: null,
      subscriptions: null,
    }));
  }

  /** Starts at the log's head: recipients hear of what happens from now on. */
  async start(headSeq: number): Promise<void> {
    this.stopped = false;
    for (const lane of this.lanes) lane.cursor = await this.options.outbox.cursor(lane.driver.channel, headSeq);
    const tick = setInterval(() => this.tick(), 1_000);
    const expire = setInterval(() => void this.expire(), 60_000);
    tick.unref();
    expire.unref();
    this.timers = [tick, expire];
    this.tick();
  }

  /**
   * An event was delivered here: plan it after this turn's fan-out, never
   * before, once for all the turn's events. Sends waiting for it go on.
   */
  event(_event: NewsEvent): void {
    this.wake();
    if (this.stopped || this.planSoon) return;
    this.planSoon = true;
    setImmediate(() => {
      this.planSoon = false;
      if (this.stopped) return;
      for (const lane of this.lanes) void this.plan(lane);
    });
  }

  /**
   * True once this process has fanned out `seq`, false when it has not
   * within `withinMs`: a feed rendered here then reflects the log up to it.
   */
  reached(seq: number, withinMs: number): Promise<boolean> {
    if (this.options.deliveredSeq() >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        seq,
        done: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.done(false), withinMs);
      this.waiters.add(waiter);
    });
  }

  private wake(): void {
    if (!this.waiters.size) return;
    const delivered = this.options.deliveredSeq();
    for (const waiter of this.waiters) if (delivered >= waiter.seq) waiter.done(true);
  }

  /** A new log began at `seq`: the cursors follow it. */
  async restart(seq: number): Promise<void> {
    this.wake();
    for (const lane of this.lanes) {
      lane.cursor = null;
      await this.options.outbox.restart(lane.driver.channel, seq).catch(() => {});
      // A plan that was under way may have kept the old log's cursor meanwhile.
      lane.cursor = null;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.lanes.map((lane) => lane.planning), ...this.sends]);
    for (const lane of this.lanes) await this.flushSettled(lane);
  }

  /** Current subscriptions of a channel, read again only when they changed. */
  private async subscriptions(lane: Lane): Promise<NonNullable<Lane['subscriptions']>> {
    const channel = lane.driver.channel;
    const version = await this.options.outbox.version(channel);
    if (lane.subscriptions?.version !== version) lane.subscriptions = await this.options.outbox.subscriptions(channel);
    return lane.subscriptions;
  }

  private tick(): void {
    if (this.stopped) return;
    for (const lane of this.lanes) {
      void this.plan(lane);
      void this.claim(lane);
    }
    void this.measure();
  }

  private plan(lane: Lane): Promise<void> {
    if (lane.planning) {
      lane.replan = true;
      return lane.planning;
    }
    lane.planning = (async () => {
      try {
        do {
          lane.replan = false;
          while (!this.stopped && (await this.planPage(lane))) {
            // A full page: there may be more.
          }
        } while (lane.replan && !this.stopped);
      } catch (error) {
        // A plan may have been written before the error: read the cursor again.
        lane.cursor = null;
        this.options.logger.debug({ err: error, channel: lane.driver.channel }, 'planning outbound deliveries failed; the next tick retries');
      } finally {
        lane.planning = null;
      }
    })();
    return lane.planning;
  }

  /** Plans the next page of the log; true when there may be more to plan. */
  private async planPage(lane: Lane): Promise<boolean> {
    const { outbox, store } = this.options;
    const channel = lane.driver.channel;
    lane.cursor ??= await outbox.cursor(channel, 0);
    const from = lane.cursor;
    const events = await store.readAfter(from, PAGE);
    if (!events.length) return false;
    const now = Date.now();
    // A lease that ended counts as gone at once; the minute's sweep removes it later.
    const subscriptions = (await this.subscriptions(lane)).list.filter((s) => s.expiresMs === undefined || s.expiresMs > now);
    const deliveries: (PlannedDelivery & { seq: number })[] = [];
    const notes: Note[] = [];
    const noted = new Map<string, string>();
    const readNote = async (key: string) => noted.get(key) ?? (await outbox.note(channel, key, Date.now()));
    for (const event of events) {
      const planned = await lane.driver.plan(event, subscriptions, readNote);
      for (const delivery of planned.deliveries) deliveries.push({ ...delivery, seq: event.seq });
      for (const note of planned.notes) {
        notes.push(note);
        noted.set(note.key, note.value);
      }
    }
    const to = (events[events.length - 1] as NewsEvent).seq;
    const won = await outbox.plan(channel, from, to, deliveries, notes, Date.now());
    // Lost the race (another process planned this stretch, or the log began
    // again): read the cursor again.
    lane.cursor = won ? to : null;
    if (won && deliveries.length) {
      this.options.metrics.outbound.planned.inc({ channel }, deliveries.length);
      void this.claim(lane);
    }
    return !won || events.length === PAGE;
  }

  private async claim(lane: Lane): Promise<void> {
    const free = this.options.concurrency - lane.inFlight;
    if (this.stopped || lane.claiming || free <= 0) return;
    lane.claiming = true;
    const channel = lane.driver.channel;
    try {
      const claimed = await this.options.outbox.claim(channel, Date.now(), LEASE_MS, free);
      if (!claimed.length) return;
      const current = await this.subscriptions(lane);
      current.byId ??= new Map(current.list.map((s) => [s.id, s]));
      const byId = current.byId;
      for (const { carrier, group } of coalesced(claimed)) {
        lane.inFlight++;
        const send = this.send(lane, group, carrier, byId.get(carrier.subscriptionId)).finally(() => {
          lane.inFlight--;
          this.sends.delete(send);
          // A slot is free: there may be more waiting.
          if (lane.inFlight === 0 || lane.inFlight < this.options.concurrency / 2) void this.claim(lane);
        });
        this.sends.add(send);
      }
    } catch (error) {
      this.options.logger.debug({ err: error, channel }, 'claiming outbound deliveries failed; the next tick retries');
    } finally {
      lane.claiming = false;
    }
  }

  private async send(lane: Lane, group: Delivery[], delivery: Delivery, subscription: Subscription | undefined): Promise<void> {
    const { driver } = lane;
    const { metrics, logger } = this.options;
    const channel = driver.channel;
    let result: SendResult;
    if (!subscription) {
      result = { outcome: 'failed', reason: 'no such subscription any more' };
    } else {
      const timer = metrics.outbound.latency.startTimer({ channel });
      try {
        result = await driver.send(delivery, subscription);
      } catch (error) {
        result = { outcome: 'retry' };
        logger.debug({ err: error, channel, target: subscription.target }, 'outbound delivery failed');
      }
      timer();
    }
    const tooOld = Date.now() - delivery.plannedMs > driver.maxAgeMs || delivery.attempts >= driver.maxAttempts;
    const settlement =
      result.outcome === 'sent'
        ? ({ outcome: 'sent' } as const)
        : result.outcome === 'gone'
          ? ({ outcome: 'gone' } as const)
          : result.outcome === 'failed' || tooOld
            ? ({ outcome: 'dropped' } as const)
            : ({ outcome: 'retry', atMs: Date.now() + backoff(delivery.attempts, result.afterMs) } as const);
    metrics.outbound.settled.inc({ channel, outcome: settlement.outcome });
    if (settlement.outcome === 'dropped' && subscription) {
      logger.warn({ channel, target: subscription.target, attempts: delivery.attempts, reason: result.outcome === 'failed' ? result.reason : 'retried too long' }, 'outbound delivery given up');
    }
    // The others of a coalesced group were carried by this one: done with it, or gone with it.
    for (const member of group) {
      lane.settling.push({ delivery: member, settlement: member === delivery || settlement.outcome !== 'retry' ? settlement : { outcome: 'sent' } });
    }
    if (lane.settling.length === group.length) setImmediate(() => void this.flushSettled(lane));
  }

  private async flushSettled(lane: Lane): Promise<void> {
    const settled = lane.settling;
    if (!settled.length) return;
    lane.settling = [];
    await this.options.outbox.settle(lane.driver.channel, settled).catch((error: unknown) =>
      this.options.logger.debug({ err: error, channel: lane.driver.channel }, 'settling outbound deliveries failed; their leases run out and they are sent again'),
    );
  }

  private async expire(): Promise<void> {
    for (const lane of this.lanes) await this.options.outbox.expire(lane.driver.channel, Date.now()).catch(() => {});
  }

  private async measure(): Promise<void> {
    const { outbound } = this.options.metrics;
    for (const lane of this.lanes) {
      const channel = lane.driver.channel;
      try {
        outbound.backlog.set({ channel }, await this.options.outbox.backlog(channel));
        outbound.subscriptions.set({ channel }, (await this.subscriptions(lane)).list.length);
      } catch {
        // The store is away: the figures wait for it.
      }
    }
  }
}

/**
 * Deliveries to one recipient that say the same thing (coalesce key) go once:
 * the latest in the log stands for all. Claims come in due order, and a
 * retried delivery can be due after a newer one: the carrier is picked by
 * seq, or a feed sent for an older event would settle a newer one unsent.
 */
export function coalesced(deliveries: readonly Delivery[]): { carrier: Delivery; group: Delivery[] }[] {
  const groups = new Map<string, { carrier: Delivery; group: Delivery[] }>();
  for (const delivery of deliveries) {
    const key = delivery.coalesce === undefined ? delivery.id : `${delivery.subscriptionId}\n${delivery.coalesce}`;
    const found = groups.get(key);
    if (!found) groups.set(key, { carrier: delivery, group: [delivery] });
    else {
      found.group.push(delivery);
      if (delivery.seq > found.carrier.seq) found.carrier = delivery;
    }
  }
  return [...groups.values()];
}

/** 2 s, 4 s, 8 s … up to 10 min, with jitter; a service's Retry-After wins when longer. */
function backoff(attempts: number, afterMs?: number): number {
  const base = Math.min(600_000, 1_000 * 2 ** attempts);
  const jittered = base / 2 + Math.random() * (base / 2);
  return Math.max(jittered, afterMs ?? 0);
}
