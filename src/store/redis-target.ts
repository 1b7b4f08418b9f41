// Where Redis is: one address (REDIS_URL), a primary found through Sentinel
// (REDIS_SENTINELS), or a Redis Cluster (REDIS_CLUSTER_NODES). Everything
// else sees one client that follows the primary across failovers.
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface HostPort {
  host: string;
  port: number;
}

export type RedisTarget =
  | { mode: 'single'; url: string }
  | {
      mode: 'sentinel';
      sentinels: HostPort[];
      /** The master group name the sentinels monitor. */
      name: string;
      username?: string;
      password?: string;
      sentinelPassword?: string;
    }
  | { mode: 'cluster'; nodes: HostPort[]; username?: string; password?: string };

/** What the store and the bus talk to; a Cluster routes each command to the node that owns its key. */
export type RedisClient = Redis | Cluster;

/** `host:port,host:port` → addresses, or the reason it is not one. */
export function parseHostPorts(value: string): HostPort[] | string {
  const parts = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (!parts.length) return 'must list at least one host:port';
  const out: HostPort[] = [];
  for (const part of parts) {
    // [v6]:port, or name:port
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(part);
    const port = match ? Number(match[3]) : 0;
    if (!match || port < 1 || port > 65_535) return `each entry must be host:port, e.g. 10.0.0.5:26379 ("${part}" is not)`;
    out.push({ host: (match[1] ?? match[2]) as string, port });
  }
  return out;
}

/**
 * In a cluster every key of one deployment must hash to one slot, so that
 * each write script can touch all of them: the prefix becomes a hash tag.
 */
export function effectivePrefix(target: RedisTarget, prefix: string): string {
  if (target.mode !== 'cluster' || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}

/** The target in an operator's words, without passwords. */
export function describeTarget(target: RedisTarget): string {
  const list = (nodes: HostPort[]) => nodes.map(({ host, port }) => `${host}:${port}`).join(',');
  switch (target.mode) {
    case 'single': {
      const parsed = new URL(target.url);
      if (parsed.password) parsed.password = '***';
      return parsed.toString();
    }
    case 'sentinel':
      return `master "${target.name}" via sentinels ${list(target.sentinels)}`;
    case 'cluster':
      return `cluster ${list(target.nodes)}`;
  }
}

/** The variable an operator would fix when this target does not work. */
export function targetVariable(target: RedisTarget): string {
  return target.mode === 'single' ? 'REDIS_URL' : target.mode === 'sentinel' ? 'REDIS_SENTINELS' : 'REDIS_CLUSTER_NODES';
}

/**
 * A connection to the primary. `options` are those of one connection
 * (timeouts, retries, offline queue): in sentinel mode every reconnect asks
 * the sentinels where the primary is now, and a connection to a node that
 * was demoted is dropped at once.
 */
export function connectRedis(target: RedisTarget, options: RedisOptions): RedisClient {
  switch (target.mode) {
    case 'single':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.name,
        username: target.username,
        password: target.password,
        sentinelPassword: target.sentinelPassword,
        // Told by the sentinels of a switch, rather than finding out by a failed write.
        failoverDetector: true,
        // Asking the sentinels again at the same pace as reconnecting to Redis.
        sentinelRetryStrategy: options.retryStrategy as RedisOptions['sentinelRetryStrategy'],
        sentinelCommandTimeout: 1_000,
        reconnectOnError: demotedPrimary,
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        lazyConnect: options.lazyConnect,
        enableOfflineQueue: options.enableOfflineQueue,
        enableReadyCheck: true,
        scaleReads: 'master',
        // Slots move on a failover: learn the new owner soon, not only on a MOVED.
        slotsRefreshInterval: 1_000,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        clusterRetryStrategy: (times) => Math.min(10 * times * times, 500),
        redisOptions: { ...options, username: target.username, password: target.password, lazyConnect: false },
      });
  }
}

/** A write to a node that became a replica: reconnect (to the primary), never resend. */
function demotedPrimary(error: Error): 1 | false {
  return /^READONLY\b/.test(error.message) ? 1 : false;
}

/**
 * A connection for sharded pub/sub in a cluster: to the primary that owns
 * `channel`'s slot, looked up again in `cluster`'s slot table before every
 * reconnect, so a subscriber follows the slot through a failover.
 */
export function connectShardSubscriber(cluster: Cluster, channel: string, options: RedisOptions, fallback: HostPort): Redis {
  const owner = () => {
    const node = cluster.slots[slotOf(channel)]?.[0];
    if (!node) return null;
    const at = node.lastIndexOf(':');
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  };
  const first = owner() ?? fallback;
  const retry = options.retryStrategy ?? (() => 100);
  const sub: Redis = new Redis({
    ...options,
    host: first.host,
    port: first.port,
    username: cluster.options.redisOptions?.username,
    password: cluster.options.redisOptions?.password,
    retryStrategy: (times) => {
      // The next connect reads host and port from these options.
      cluster.refreshSlotsCache();
      const next = owner();
      if (next) Object.assign(sub.options, next);
      return retry(times);
    },
  });
  return sub;
}

/** The cluster slot of a key (CRC16 of its hash tag, or of the whole key), as ioredis routes it. */
export function slotOf(key: string): number {
  return calculateSlot(key);
}
