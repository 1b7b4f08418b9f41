// Redis store: the log as a stream keyed by seq, item state in hashes and
// per-topic sorted sets. Every write is one Lua script (see redis-scripts.ts)
// that decides, appends, changes state and publishes the event.
import { createHash } from 'node:crypto';
import type { Cluster, RedisOptions } from 'ioredis';
import { newEpoch } from '../domain/cursor.ts';
import type { NewsEvent } from '../domain/event.ts';
import type { ItemContent, RetractedItem, ScheduledItem } from '../domain/item.ts';
import { HEAD, KILLED, LISTS, LIVE_CARDS, RENEW, SCHEDULED, TRIM, WRITE } from './redis-scripts.ts';
import {
  type Actor,
  type Appended,
  actorJson,
  type Detail,
  HISTORY_LIMIT,
  type HistoryEntry,
  type ListEntry,
  type Lists,
  type LiveList,
  type LogHead,
  type Retention,
  type Store,
  type StoredItem,
  StoreUnavailableError,
  WriteOutcomeUnknownError,
  WriteNotReplicatedError,
  type WriteResult,
} from './store.ts';
import { connectRedis, effectivePrefix, type RedisClient, type RedisTarget } from './redis-target.ts';

const TRIM_BATCH = 5_000;
const COMMAND_TIMEOUT_MS = 2_000;
/**
 * A write must run within this long after it was sent, by Redis's clock, or
 * it does nothing: a write queued behind a stall is not applied after the
 * API has given up on it. The rest of the command timeout is left for the
 * reply; a reply lost after the write ran is answered as such
 * (WriteOutcomeUnknownError).
 */
const WRITE_BUDGET_MS = 1_500;

/** Errors that mean "Redis cannot serve right now" rather than "this request is wrong". */
// MOVED, ASK: a cluster slot changed hands; the command did not run on the node that answered.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|NOREPLICAS|MISCONF|OOM|TRYAGAIN|CLUSTERDOWN|NOSCRIPT|MOVED|ASK)\b/;

export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const e = error as { name?: string; message?: string };
  // A reply error that is not transient is a bug in a script or command: let it be a 500.
  if (e?.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message ?? '')) return error;
  return new StoreUnavailableError(`redis: ${e?.message ?? String(error)}`, { cause: error });
}

/** Failures that show a command was never sent (no connection to send it on). */
const NOT_SENT = /Stream isn't writeable|enableOfflineQueue/;

/**
 * A write's failure in the API's terms: refused before it ran (a reply error,
 * or never sent: nothing saved), or sent and its answer lost (a dropped
 * connection, a timeout: it may have run, WriteOutcomeUnknownError).
 */
export function toWriteError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const mapped = toStoreError(error);
  if (!(mapped instanceof StoreUnavailableError)) return mapped;
  const e = error as { name?: string; message?: string };
  if (e?.name === 'ReplyError' || NOT_SENT.test(e?.message ?? '')) return mapped;
  return new WriteOutcomeUnknownError(`redis: the write was sent but its answer was lost (${e?.message ?? String(error)})`, { cause: error });
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
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
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

/**
 * A Lua script run by its SHA1, sent whole only when Redis does not have it yet.
 * Every script's first argument is the key prefix; it is also declared as the
 * script's one key, so a cluster runs the script on the node that owns the
 * prefix's slot (and every key under it: the prefix is a hash tag there).
 */
export class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: RedisClient, args: (string | number)[]): Promise<unknown> {
    const key = String(args[0]);
    try {
      return await client.evalsha(this.sha, 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.lua, 1, key, ...args);
    }
  }

  /**
   * Runs the script, then, on the same connection and right behind it, a
   * write to `syncKey` and `WAIT replicas timeoutMs`: WAIT counts the
   * replicas that hold everything this connection wrote, and the small write
   * makes that "everything up to now", also when the script itself changed
   * nothing (a retry of a write that is already there). Resolves to the
   * script's reply and the replicas counted (or why WAIT gave no count).
   */
  async runAndWait(
    client: RedisClient,
    args: (string | number)[],
    syncKey: string,
    replicas: number,
    timeoutMs: number,
  ): Promise<{ reply: unknown; replicated: number | Error }> {
    const key = String(args[0]);
    const send = (first: 'evalsha' | 'eval') => {
      const pipeline = client.pipeline();
      if (first === 'evalsha') pipeline.evalsha(this.sha, 1, key, ...args);
      else pipeline.eval(this.lua, 1, key, ...args);
      return pipeline.incr(syncKey).wait(replicas, timeoutMs).exec();
    };
    let results = await send('evalsha');
    if (isNoScript(results?.[0]?.[0])) results = await send('eval');
    if (!results) throw new StoreUnavailableError('redis: the write was not sent');
    const [[scriptError, reply] = [], , [waitError, counted] = []] = results;
    if (scriptError) throw scriptError;
    return { reply, replicated: waitError ?? Number(counted) };
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

const scripts = {
  write: new Script(WRITE),
  head: new Script(HEAD),
  renew: new Script(RENEW),
  lists: new Script(LISTS),
  killed: new Script(KILLED),
  scheduled: new Script(SCHEDULED),
  trim: new Script(TRIM),
  liveCards: new Script(LIVE_CARDS),
};

export interface RedisStoreOptions {
  /** A single Redis (the same as `target: {mode: 'single', url}`). */
  url?: string;
  target?: RedisTarget;
  prefix: string;
  retention: Retention;
  /** A write is acknowledged only once this many replicas hold it (WAIT). */
  minReplicas?: number;
  /** How long WAIT may take before the write is answered "not replicated". */
  waitMs?: number;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: RedisClient;
  readonly target: RedisTarget;
  readonly prefix: string;
  /** Where each write publishes its event (a shard channel in a cluster). */
  readonly channel: string;
  private readonly retention: Retention;
  private readonly minReplicas: number;
  private readonly waitMs: number;
  private readonly writeScript: Script;
  /** Redis's clock minus ours (ms), for write deadlines; refreshed on every connect and head(). */
  private clockOffset = 0;

  constructor(options: RedisStoreOptions) {
    const target = options.target ?? { mode: 'single', url: options.url ?? '' };
    this.target = target;
    this.minReplicas = options.minReplicas ?? 0;
    this.waitMs = options.waitMs ?? 500;
    const connection = commandConnectionOptions('newswire-store');
    // WAIT goes out with the write: its reply may come up to waitMs later.
    if (this.minReplicas > 0) connection.commandTimeout = COMMAND_TIMEOUT_MS + this.waitMs;
    this.client = connectRedis(target, connection);
    // Connection trouble shows as 503s and in /readyz; the error events themselves carry nothing more.
    this.client.on('error', () => {});
    this.client.on('ready', () => void this.head().catch(() => {}));
    this.prefix = effectivePrefix(target, options.prefix);
    this.channel = `${this.prefix}:events`;
    this.retention = options.retention;
    // Sharded pub/sub in a cluster: the channel lives on the node of its slot, whatever the cluster's size.
    this.writeScript = target.mode === 'cluster' ? new Script(WRITE.replace("redis.call('PUBLISH'", "redis.call('SPUBLISH'")) : scripts.write;
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
    fields: { hash?: string; content?: ItemContent; changeNote?: string; reason?: string; now?: number; notify?: boolean; actor?: Actor },
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
      actorJson(fields.actor),
      fields.actor?.topics ? JSON.stringify(fields.actor.topics) : '',
      ...(content?.topics ?? []),
    ];
    let reply: [string, ...unknown[]];
    try {
      reply = (await this.runWrite(args)) as [string, ...unknown[]];
    } catch (error) {
      throw toWriteError(error);
    }
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
      case 'forbidden-topic':
        return { outcome: 'forbidden-topic', topics: reply.slice(1) as string[] };
      default:
        throw new Error(`redis write script answered ${String(reply[0])}`);
    }
  }

  /** The write script; with minReplicas, not answered until that many replicas hold it. */
  private async runWrite(args: (string | number)[]): Promise<unknown> {
    if (this.minReplicas === 0) return this.writeScript.run(this.client, args);
    const { reply, replicated } = await this.writeScript.runAndWait(
      this.client,
      args,
      this.key('sync'),
      this.minReplicas,
      this.waitMs,
    );
    if (typeof replicated === 'number' && replicated >= this.minReplicas) return reply;
    const why = typeof replicated === 'number' ? `${replicated} of ${this.minReplicas} replicas confirmed it within ${this.waitMs} ms` : replicated.message;
    throw new WriteNotReplicatedError(`redis: the write reached the primary but not enough replicas (${why})`);
  }

  /**
   * Replicas connected to the primary now, when minReplicas asks for more
   * (every write would be answered 503); null when there are enough, or in a
   * cluster (INFO would go to any node).
   */
  async missingReplicas(): Promise<{ connected: number; required: number } | null> {
    if (this.minReplicas === 0 || this.target.mode === 'cluster') return null;
    const info = await this.call(() => (this.client as Exclude<RedisClient, Cluster>).info('replication'));
    const connected = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
    return connected < this.minReplicas ? { connected, required: this.minReplicas } : null;
  }

  publish(content: ItemContent, hash: string, actor?: Actor): Promise<WriteResult> {
    return this.write('publish', content.id, { content, hash, actor });
  }

  update(content: ItemContent, hash: string, changeNote: string | undefined, notify = false, actor?: Actor): Promise<WriteResult> {
    return this.write('update', content.id, { content, hash, changeNote, notify, actor });
  }

  retract(id: string, reason: string, actor?: Actor): Promise<WriteResult> {
    return this.write('retract', id, { reason, actor });
  }

  async history(id: string, limit = HISTORY_LIMIT): Promise<HistoryEntry[]> {
    const entries = await this.call(() => this.client.lrange(this.key(`history:${id}`), -limit, -1));
    return entries.map((entry) => JSON.parse(entry) as HistoryEntry);
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

  async liveCards(beforeOrder: number, limit: number): Promise<ListEntry[]> {
    const reply = (await this.call(() => scripts.liveCards.run(this.client, [this.prefix, beforeOrder, limit, Date.now()]))) as [string, number, string, string][];
    return reply.map(([id, order, expires, json]) => ({ id, order: Number(order), json, expiresMs: expires === '' ? undefined : Number(expires) }));
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
