// Redis store: the log as a stream keyed by seq, item state in hashes and
// per-topic sorted sets. Every write is one Lua script (see redis-scripts.ts)
// that decides, appends, changes state and publishes the event.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { newEpoch } from '../domain/cursor.ts';
import type { NewsEvent } from '../domain/event.ts';
import type { ItemContent, RetractedItem, ScheduledItem } from '../domain/item.ts';
import { HEAD, KILLED, LISTS, RENEW, SCHEDULED, TRIM, WRITE } from './redis-scripts.ts';
import {
  type Appended,
  type Detail,
  type Lists,
  type LiveList,
  type LogHead,
  type Retention,
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

/** Runs a Redis call; connection trouble becomes StoreUnavailableError. */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toStoreError(error);
  }
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

/** Errors that no reconnect can fix: the credentials are wrong. */
const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|invalid username|AUTH .*without any password/i;

/**
 * Resolves once the client is ready; rejects after `timeoutMs`, or at once
 * when Redis refuses the credentials (waiting would not help).
 */
export function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'wait') client.connect().catch(() => {});
  return new Promise((resolve, reject) => {
    let lastError: unknown;
    const done = (error?: unknown) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      done(new StoreUnavailableError(`redis: not reachable within ${timeoutMs} ms${cause}`, { cause: lastError }));
    }, timeoutMs);
    const onReady = () => done();
    const onError = (error: unknown) => {
      lastError = error;
      if (error instanceof Error && AUTH_FAILURE.test(error.message)) {
        done(new StoreUnavailableError(`redis: authentication failed: ${error.message}`, { cause: error }));
      }
    };
    client.once('ready', onReady);
    client.on('error', onError);
  });
}

/**
 * What is wrong with the store, in an operator's words (for /readyz and
 * start-up messages), from whatever the client library threw.
 */
export function describeStoreProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (AUTH_FAILURE.test(message)) return 'Redis refused the credentials in REDIS_URL (wrong or missing password)';
  if (/ECONNREFUSED/.test(message)) return 'Redis refuses connections: is it running on that host and port?';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'the Redis host name does not resolve';
  if (/not reachable within/.test(message)) return `Redis did not answer in time${message.includes('last error') ? `: ${message.replace(/^.*last error: /, '').replace(/\)$/, '')}` : ''}`;
  if (/timed out|ETIMEDOUT/i.test(message)) return 'Redis does not answer in time (overloaded, stopped or unreachable)';
  if (/Stream isn't writeable|Connection is closed|ECONNRESET|EPIPE|enableOfflineQueue/i.test(message)) {
    return 'the connection to Redis is down; reconnecting';
  }
  if (/^(redis: )?LOADING/.test(message)) return 'Redis is loading its data set after a restart';
  if (/READONLY|MASTERDOWN/.test(message)) return 'Redis is a read-only replica or has lost its primary';
  if (/OOM/.test(message)) return 'Redis is out of memory (maxmemory reached) and refuses writes';
  if (/MISCONF/.test(message)) return 'Redis cannot persist to disk and refuses writes';
  if (/SQLITE_BUSY|database is locked/i.test(message)) return 'the database file is locked by another writer';
  if (/SQLITE_|database|disk I\/O/i.test(message)) return `the database file cannot be used: ${message}`;
  return message.replace(/^redis: /, 'Redis: ');
}

/** A Lua script run by its SHA1, sent whole only when Redis does not have it yet. */
export class Script {
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
  lists: new Script(LISTS),
  killed: new Script(KILLED),
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

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return redisCall(fn);
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
    fields: { hash?: string; content?: ItemContent; changeNote?: string; reason?: string; now?: number; notify?: boolean },
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
      content ? JSON.stringify({ ...content, body: undefined }) : '',
      fields.notify ? '1' : '',
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

  update(content: ItemContent, hash: string, changeNote: string | undefined, notify = false): Promise<WriteResult> {
    return this.write('update', content.id, { content, hash, changeNote, notify });
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

  async lists(keys: readonly string[], limit: number, detail: Detail): Promise<Lists> {
    const field = detail === 'card' ? 'card' : 'data';
    const reply = (await this.call(() =>
      scripts.lists.run(this.client, [this.prefix, newEpoch(), limit, Date.now(), field, ...keys]),
    )) as [string, number, ...[number, string, [string, number, string, string][]][]];
    const [epoch, headSeq, ...parts] = reply;
    const lists = new Map<string, LiveList>();
    keys.forEach((key, index) => {
      const [seq, at, entries] = parts[index] ?? [0, '', []];
      lists.set(key, {
        entries: entries.map(([id, order, expires, json]) => ({
          id,
          order: Number(order),
          json,
          expiresMs: expires === '' ? undefined : Number(expires),
        })),
        seq: Number(seq),
        at: at || undefined,
      });
    });
    return { epoch, headSeq: Number(headSeq), lists };
  }

  async withdrawn(sinceMs: number, limit: number): Promise<RetractedItem[]> {
    const reply = (await this.call(() => scripts.killed.run(this.client, [this.prefix, Math.floor(sinceMs), limit]))) as string[];
    return reply.map((data) => JSON.parse(data) as RetractedItem);
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
