// Redis settings beyond REDIS_URL: a primary found through Sentinel, a Redis
// Cluster, and how many replicas must hold a write before it is acknowledged.
// Each problem names its variable, as in config.ts.
import { type HostPort, parseHostPorts, type RedisTarget } from './store/redis-target.ts';

export interface RedisSettings {
  /** Undefined: the embedded store. */
  target: RedisTarget | undefined;
  /** REDIS_MIN_REPLICAS: replicas that must confirm a write (WAIT) before it is acknowledged. */
  minReplicas: number;
  /** REDIS_WAIT_MS: how long that confirmation may take. */
  waitMs: number;
}

const NAME = /^[A-Za-z0-9._-]{1,128}$/;

function addresses(env: Record<string, string>, name: string, problems: string[]): HostPort[] | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const parsed = parseHostPorts(value);
  if (typeof parsed === 'string') {
    problems.push(`${name}: ${parsed}`);
    return undefined;
  }
  return parsed;
}

/** What the configuration's schema has already read: the URL and the numbers (checked there like every other). */
export interface RedisBasics {
  redisUrl: string | undefined;
  minReplicas: number;
  /** Unset: the default. */
  waitMs: number | undefined;
}

const DEFAULT_WAIT_MS = 500;

/** Reads the Redis variables of `env` (unset ones absent); pushes what is wrong onto `problems`. */
export function redisSettings(env: Record<string, string>, { redisUrl, minReplicas, waitMs = DEFAULT_WAIT_MS }: RedisBasics, problems: string[]): RedisSettings {
  const sentinels = addresses(env, 'REDIS_SENTINELS', problems);
  const clusterNodes = addresses(env, 'REDIS_CLUSTER_NODES', problems);
  const given = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].filter((name) => env[name] !== undefined);
  if (given.length > 1) problems.push(`${given.join(', ')}: set only one of them (one Redis, Sentinel, or a cluster)`);
  const name = env.REDIS_SENTINEL_NAME;
  if (env.REDIS_SENTINELS !== undefined && name === undefined) {
    problems.push('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name the sentinels monitor, e.g. mymaster)');
  }
  if (name !== undefined && !NAME.test(name)) problems.push('REDIS_SENTINEL_NAME: may hold letters, digits and . _ - (at most 128)');
  if (name !== undefined && env.REDIS_SENTINELS === undefined) problems.push('REDIS_SENTINEL_NAME: is used only with REDIS_SENTINELS');
  if (env.REDIS_SENTINEL_PASSWORD !== undefined && env.REDIS_SENTINELS === undefined) {
    problems.push('REDIS_SENTINEL_PASSWORD: is used only with REDIS_SENTINELS');
  }
  for (const secret of ['REDIS_USERNAME', 'REDIS_PASSWORD']) {
    if (env[secret] !== undefined && env.REDIS_SENTINELS === undefined && env.REDIS_CLUSTER_NODES === undefined) {
      problems.push(`${secret}: is used with REDIS_SENTINELS or REDIS_CLUSTER_NODES (REDIS_URL carries its own credentials)`);
    }
  }
  if (minReplicas > 0 && given.length === 0) problems.push('REDIS_MIN_REPLICAS: needs Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  if (env.REDIS_WAIT_MS !== undefined && minReplicas === 0) problems.push('REDIS_WAIT_MS: is used only with REDIS_MIN_REPLICAS above 0');

  const credentials = { username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD };
  let target: RedisTarget | undefined;
  if (redisUrl) target = { mode: 'single', url: redisUrl };
  else if (sentinels && name) {
    target = { mode: 'sentinel', sentinels, name, ...credentials, sentinelPassword: env.REDIS_SENTINEL_PASSWORD };
  } else if (clusterNodes) target = { mode: 'cluster', nodes: clusterNodes, ...credentials };
  return { target, minReplicas, waitMs };
}
