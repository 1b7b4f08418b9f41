// Fan-out across processes through Redis pub/sub. Pub/sub is at-most-once, so
// a Sequencer turns it into "every event once, in seq order": a gap in the
// messages, a re-subscribe and a periodic look at the log's head all make it
// read what is missing from the log first.
//
// The subscriber follows the primary as the store's connection does: through
// Sentinel it asks the sentinels on every reconnect; in a cluster it holds a
// sharded subscription (SSUBSCRIBE) on the node that owns the channel's slot,
// found again in the cluster's slot table on every reconnect.
import { Cluster, type Redis } from 'ioredis';
import type { NewsEvent } from '../domain/event.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import { commandConnectionOptions, type RedisStore, whenReady } from '../store/redis.ts';
import { connectRedis, connectShardSubscriber } from '../store/redis-target.ts';
import type { LogHead } from '../store/store.ts';
import type { Bus, BusSink } from './bus.ts';
import { Sequencer } from './sequencer.ts';

export interface RedisBusOptions {
  store: RedisStore;
  logger: Logger;
  metrics: Metrics;
  /** How often the log's head is compared with what was delivered. */
  checkMs?: number;
  /** How often the subscriber connection must answer a PING. */
  probeMs?: number;
  connectTimeoutMs?: number;
}

export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly sub: Redis;
  private readonly store: RedisStore;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly checkMs: number;
  private readonly probeMs: number;
  private sequencer: Sequencer | null = null;
  /** Messages that came before the sequencer knew where to start. */
  private early: { event: NewsEvent; epoch: string }[] | null = [];
  private subscribed = false;
  private lastPong = 0;
  private checking = false;
  private recheck = false;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** Sharded pub/sub (a cluster): SSUBSCRIBE rather than SUBSCRIBE. */
  private readonly sharded: boolean;

  constructor(private readonly options: RedisBusOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.checkMs = options.checkMs ?? 1_000;
    this.probeMs = options.probeMs ?? 1_000;
    const connection = {
      ...commandConnectionOptions('newswire-bus'),
      // Subscribing again is ours to do, so the gap is filled only once it is live.
      autoResubscribe: false,
      commandTimeout: this.probeMs,
    };
    const client = this.store.client;
    const target = this.store.target;
    this.sharded = client instanceof Cluster;
    this.sub =
      client instanceof Cluster && target.mode === 'cluster'
        ? connectShardSubscriber(client, this.store.channel, connection, target.nodes[0] as { host: string; port: number })
        : (connectRedis(target, connection) as Redis);
    this.sub.on('error', () => {});
    const onMessage = (channel: string, message: string) => {
      if (channel === this.store.channel) this.onMessage(message);
    };
    this.sub.on('message', onMessage);
    this.sub.on('smessage', onMessage);
    // A cluster unsubscribes us when the slot changes hands (a failover with the old primary alive, a resharding): subscribe again on its owner.
    this.sub.on('moved', () => {
      if (this.closed || !this.subscribed) return;
      this.logger.info('the events channel moved to another cluster node; subscribing there');
      this.sub.stream?.destroy();
    });
    this.sub.on('close', () => {
      if (this.subscribed) this.logger.warn('redis subscriber connection lost; fan-out waits for it');
      this.subscribed = false;
    });
  }

  async start(sink: BusSink): Promise<{ epoch: string; seq: number }> {
    await whenReady(this.sub, this.options.connectTimeoutMs ?? 30_000);
    this.sub.on('ready', () => void this.resubscribe());
    await this.subscribe();
    this.markSubscribed();
    // Subscribed before reading the head: nothing can fall between the two.
    const log = { head: () => this.head(), readAfter: (after: number, limit: number) => this.store.readAfter(after, limit) };
    const sequencer = new Sequencer(log, sink, {
      onGap: () => this.metrics.gaps.inc(),
      onBackfill: (count) => this.metrics.backfilledEvents.inc(count),
      onError: (error) => this.logger.debug({ err: error }, 'gap fill failed; the next head check retries'),
    });
    await sequencer.init();
    this.sequencer = sequencer;
    for (const { event, epoch } of this.early ?? []) sequencer.offer(event, epoch);
    this.early = null;
    this.timers.push(
      setInterval(() => void this.check(), this.checkMs),
      setInterval(() => void this.probe(), this.probeMs),
    );
    for (const timer of this.timers) timer.unref();
    return { epoch: sequencer.epoch, seq: sequencer.last };
  }

  /** The log's head as the sequencer sees it: a log that went backwards counts as a new one. */
  private async head(): Promise<LogHead> {
    const head = await this.store.head();
    const sequencer = this.sequencer;
    if (!sequencer || head.epoch !== sequencer.epoch || head.seq >= sequencer.last) return head;
    // Usually a race: the event came over the subscriber connection before this
    // reply. The script decides against the log as it is now.
    const epoch = await this.store.renewEpochIfBehind(head.epoch, sequencer.last);
    if (epoch === head.epoch) return this.store.head();
    this.logger.error(
      { epoch: head.epoch, head: head.seq, delivered: sequencer.last, newEpoch: epoch },
      'the Redis log went back behind what was already delivered (lost writes): it starts a new epoch',
    );
    return this.store.head();
  }

  published(event: NewsEvent, epoch: string): void {
    // The writer's own event need not wait for the round trip; the sequencer drops the echo.
    this.sequencer?.offer(event, epoch);
  }

  isLive(): boolean {
    return (
      this.sequencer !== null &&
      this.subscribed &&
      this.sub.status === 'ready' &&
      Date.now() - this.lastPong < this.probeMs * 2.5
    );
  }

  private onMessage(message: string): void {
    const bar = message.indexOf('|');
    if (bar < 0) return;
    let event: NewsEvent;
    try {
      event = JSON.parse(message.slice(bar + 1)) as NewsEvent;
    } catch {
      this.logger.warn('ignoring a malformed message on the events channel');
      return;
    }
    const epoch = message.slice(0, bar);
    if (this.sequencer) this.sequencer.offer(event, epoch);
    else this.early?.push({ event, epoch });
  }

  private async subscribe(): Promise<void> {
    if (this.sharded) await this.sub.ssubscribe(this.store.channel);
    else await this.sub.subscribe(this.store.channel);
  }

  private markSubscribed(): void {
    this.subscribed = true;
    this.lastPong = Date.now();
  }

  /** After a reconnect: subscribe, then read whatever was published meanwhile. */
  private async resubscribe(): Promise<void> {
    if (this.closed) return;
    try {
      await this.subscribe();
    } catch (error) {
      this.logger.warn({ err: error }, 'redis subscribe failed; reconnecting');
      this.sub.stream?.destroy();
      return;
    }
    this.markSubscribed();
    this.metrics.busResubscribes.inc();
    this.logger.info('redis subscriber connection is back; filling the gap from the log');
    await this.check();
  }

  /** Head check: fills a gap, or resets every client if the log was replaced. */
  private async check(): Promise<void> {
    if (!this.sequencer || this.closed) return;
    if (this.checking) {
      // The running check may have read the head too early: run once more after it.
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.recheck = false;
        await this.sequencer?.check();
      } while (this.recheck && !this.closed);
    } catch (error) {
      this.logger.debug({ err: error }, 'head check failed; the next one retries');
    } finally {
      this.checking = false;
    }
  }

  /** A subscriber that stops answering is dropped and made again. */
  private async probe(): Promise<void> {
    if (this.closed || !this.subscribed || this.sub.status !== 'ready') return;
    try {
      await this.sub.ping();
      this.lastPong = Date.now();
    } catch (error) {
      if (this.closed) return;
      this.logger.warn({ err: error }, 'redis subscriber did not answer; reconnecting');
      this.subscribed = false;
      this.sub.stream?.destroy();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.sequencer = null;
    await this.sub.quit().catch(() => this.sub.disconnect());
  }
}
