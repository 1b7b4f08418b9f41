// Redis store: the log as a stream keyed by seq, item state in hashes and
// per-topic sorted sets. Every write is one Lua script (see redis-scripts.ts)
// that decides, appends, changes state and publishes the event.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { newEpoch } from '../domain/cursor.ts';
import type { NewsEvent } from '../domain/event.ts';
import type { Item, ItemContent, RetractedItem, ScheduledItem } from '../domain/item.ts';
import { HEAD, RENEW, SCHEDULED, SNAPSHOT, TRIM, WRITE } from './redis-scripts.ts';
import {
  type Appended,
  type LogHead,
  type Retention,
  type Snapshot,
  type Store,
  type StoredItem,
  StoreUnavailableError,
  type WriteResult,
} from './store.ts';

const TRIM_BATCH = 5_000;
const COMMAND_TIMEOUT_MS = 2_000;
/**
 * A write must run within this long after it was sent, by Redis's clock, or
 * it does nothing. The rest of the command timeout is left for the reply, so
 * a 503 after a stall means the write did not happen.
 */
const WRITE_BUDGET_MS = 1_500;

/** Errors that mean "Redis cannot serve right now" rather than "this request is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|NOREPLICAS|MISCONF|OOM|TRYAGAIN|CLUSTERDOWN|NOSCRIPT)\b/;

export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const e = error as { name?: string; message?: string };
  // A reply error that is not transient is a bug in a script or command: let it be a 500.
  if (e?.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message ?? '')) return error;
  return new StoreUnavailableError(`redis: ${e?.message ?? String(error)}`, { cause: error });
}

/**
 * Options for the command connection: a command fails at once while Redis is
 * unreachable, and is never sent again after a reconnect (a write that may
 * have run is answered 503 and retried by the newsroom, idempotently).
 */
export function commandConnectionOptions(name: string): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    // Back at once after a dropped connection, then back off to twice a second.
    retryStrategy: (times) => Math.min(10 * times * times, 500),
    connectionName: name,
  };
}

/** Resolves once the client is ready; rejects after `timeoutMs`. */
export function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'wait') client.connect().catch(() => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new StoreUnavailableError(`redis: not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: Redis, args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, 0, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.lua, 0, ...args);
    }
  }
}

const scripts = {
  write: new Script(WRITE),
  head: new Script(HEAD),
  renew: new Script(RENEW),
  snapshot: new Script(SNAPSHOT),
  scheduled: new Script(SCHEDULED),
  trim: new Script(TRIM),
};

export interface RedisStoreOptions {
  url: string;
  prefix: string;
  retention: Retention;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  readonly prefix: string;
  /** Where each write publishes its event. */
  readonly channel: string;
  private readonly retention: Retention;
  /** Redis's clock minus ours (ms), for write deadlines; refreshed on every connect and head(). */
  private clockOffset = 0;

  constructor(options: RedisStoreOptions) {
    this.client = new Redis(options.url, commandConnectionOptions('newswire-store'));
    // Connection trouble shows as 503s and in /readyz; the error events themselves carry nothing more.
    this.client.on('error', () => {});
    this.client.on('ready', () => void this.head().catch(() => {}));
    this.prefix = options.prefix;
    this.channel = `${options.prefix}:events`;
    this.retention = options.retention;
  }

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  /** Runs a Redis call; connection trouble becomes StoreUnavailableError. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async head(): Promise<LogHead> {
    const sent = Date.now();
    const [epoch, seq, floor, redisNow] = (await this.call(() =>
      scripts.head.run(this.client, [this.prefix, newEpoch()]),
    )) as [string, number, number, number];
    const received = Date.now();
    this.clockOffset = Number(redisNow) - (sent + received) / 2;
    return { epoch, seq: Number(seq), floor: Number(floor) };
  }

  /**
   * The log is `epoch` but its head is below `delivered`: it lost its tail.
   * Gives it a new epoch (once, whichever process sees it first); returns the epoch in force.
   */
  async renewEpochIfBehind(epoch: string, delivered: number): Promise<string> {
    return (await this.call(() =>
      scripts.renew.run(this.client, [this.prefix, epoch, delivered, newEpoch()]),
    )) as string;
  }

  private async write(
    op: 'publish' | 'update' | 'retract' | 'release',
    id: string,
    fields: { hash?: string; content?: ItemContent; changeNote?: string; reason?: string; now?: number },
  ): Promise<WriteResult> {
    const { content } = fields;
    const args = [
      this.prefix,
      newEpoch(),
      op,
      id,
      fields.hash ?? '',
      content ? JSON.stringify(content) : JSON.stringify(id),
      content ? JSON.stringify(content.topics) : '',
      content?.expiresAt ? String(Date.parse(content.expiresAt)) : '',
      fields.changeNote ? JSON.stringify(fields.changeNote) : '',
      fields.reason !== undefined ? JSON.stringify(fields.reason) : '',
      Math.round(Date.now() + this.clockOffset + WRITE_BUDGET_MS),
      content?.embargoUntil ? String(Date.parse(content.embargoUntil)) : '',
      fields.now !== undefined ? String(Math.floor(fields.now)) : '',
      ...(content?.topics ?? []),
    ];
    const reply = (await this.call(() => scripts.write.run(this.client, args))) as [string, ...unknown[]];
    switch (reply[0]) {
      case 'expired':
        throw new StoreUnavailableError('redis: the write reached Redis too late and was not applied');
      case 'appended':
        return { outcome: 'appended', epoch: reply[1] as string, event: JSON.parse(reply[2] as string) as NewsEvent };
      case 'unchanged':
        return {
          outcome: 'unchanged',
          epoch: reply[1] as string,
          seq: Number(reply[2]),
          item: JSON.parse(reply[3] as string) as StoredItem,
        };
      case 'conflict':
        return { outcome: 'conflict', item: JSON.parse(reply[1] as string) as StoredItem };
      case 'gone':
        return { outcome: 'gone', item: JSON.parse(reply[1] as string) as RetractedItem };
      case 'scheduled':
        return { outcome: 'scheduled', item: JSON.parse(reply[1] as string) as ScheduledItem };
      case 'cancelled':
        return {
          outcome: 'cancelled',
          epoch: reply[1] as string,
          seq: Number(reply[2]),
          item: JSON.parse(reply[3] as string),
        };
      case 'not-found':
        return { outcome: 'not-found' };
      default:
        throw new Error(`redis write script answered ${String(reply[0])}`);
    }
  }

  publish(content: ItemContent, hash: string): Promise<WriteResult> {
    return this.write('publish', content.id, { content, hash });
  }

  update(content: ItemContent, hash: string, changeNote: string | undefined): Promise<WriteResult> {
    return this.write('update', content.id, { content, hash, changeNote });
  }

  retract(id: string, reason: string): Promise<WriteResult> {
    return this.write('retract', id, { reason });
  }

  async scheduled(limit: number, dueBy?: number): Promise<ScheduledItem[]> {
    const due = dueBy === undefined ? '' : String(Math.floor(dueBy));
    const reply = (await this.call(() => scripts.scheduled.run(this.client, [this.prefix, limit, due]))) as string[];
    return reply.map((data) => JSON.parse(data) as ScheduledItem);
  }

  async release(id: string, now?: number): Promise<Appended | null> {
    const result = await this.write('release', id, { now });
    return result.outcome === 'appended' ? result : null;
  }

  async getItem(id: string): Promise<StoredItem | null> {
    const data = await this.call(() => this.client.hget(this.key(`item:${id}`), 'data'));
    return data ? (JSON.parse(data) as StoredItem) : null;
  }

  async snapshot(topic: string | undefined, limit: number): Promise<Snapshot> {
    const reply = (await this.call(() =>
      scripts.snapshot.run(this.client, [this.prefix, newEpoch(), topic ?? '', limit, Date.now()]),
    )) as [string, number, number, string, string[]];
    const [epoch, headSeq, topicSeq, topicAt, items] = reply;
    return {
      epoch,
      headSeq: Number(headSeq),
      topicSeq: Number(topicSeq),
      topicAt: topicAt || undefined,
      items: items.map((data) => JSON.parse(data) as Item),
    };
  }

  async readAfter(after: number, limit: number): Promise<NewsEvent[]> {
    const entries = await this.call(() =>
      this.client.xrange(this.key('log'), String(after + 1), '+', 'COUNT', limit),
    );
    return entries.map(([, fields]) => {
      const at = fields.indexOf('e');
      return JSON.parse(fields[at + 1] as string) as NewsEvent;
    });
  }

  async trim(now = Date.now()): Promise<number> {
    let dropped = 0;
    for (;;) {
      const [count, more] = (await this.call(() =>
        scripts.trim.run(this.client, [
          this.prefix,
          this.retention.maxEvents,
          now - this.retention.maxAgeMs,
          now - this.retention.itemMaxAgeMs,
          TRIM_BATCH,
        ]),
      )) as [number, number];
      dropped += Number(count);
      if (!Number(more)) return dropped;
    }
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.ping());
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
