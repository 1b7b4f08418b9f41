// Environment → validated settings. A bad value stops the process at start
// with a message that names the variable and says what it must be.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { type RedisSettings, redisSettings } from './config-redis.ts';
import { proxyEntryProblem } from './edge/address.ts';
import { type NinjsSettings, ninjsSettings } from './ninjs/config.ts';

const int = (min: number, max: number) => {
  const rule = `must be a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, rule)
    .transform(Number)
    .pipe(z.number().int().min(min, rule).max(max, rule));
};
const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );
const MB = 1024 * 1024;

const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { message: 'must be development, production or test' })
    .default('development'),
  PORT: int(0, 65_535).default(3000),
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL, e.g. https://news.example.com' })
    .optional(),
  DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
  PUBLISHER_TOKENS: list
    .pipe(z.array(z.string().min(16, 'each token must be at least 16 characters')))
    .optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ALLOWED_ORIGINS: list
    .pipe(
      z.array(
        z.union([z.literal('*'), z.url({ message: 'each origin must look like https://news.example.com' })], {
          message: 'each origin must look like https://news.example.com, or be *',
        }),
      ),
    )
    .optional(),
  TRUST_PROXY: list
    .pipe(
      z.array(z.string()).superRefine((entries, ctx) => {
        for (const entry of entries) {
          const problem = proxyEntryProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }
      }),
    )
    .optional(),
  SITE_TITLE: z.string().min(1, 'must not be empty').max(120, 'must be at most 120 characters').default('Newswire'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  ACCESS_LOG: z.enum(['on', 'off'], { message: 'must be "on" or "off"' }).default('on'),
  RETENTION_EVENTS: int(100, 100_000_000).default(100_000),
  RETENTION_HOURS: int(1, 24 * 365).default(24 * 7),
  ITEM_RETENTION_DAYS: int(1, 3650).default(30),
  FEED_ITEMS: int(1, 500).default(50),
  // Decimals allowed (0.5 is half an hour); 0: a retracted item just leaves its feeds.
  FEED_WITHDRAWN_HOURS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of hours from 0 to 720, e.g. 48 or 0.5')
    .transform(Number)
    .pipe(z.number().max(720, 'must be a number of hours from 0 to 720, e.g. 48 or 0.5'))
    .default(48),
  FEED_MAX_AGE_SECONDS: int(0, 86_400).default(60),
  MAX_BODY_BYTES: int(1_024, 10_485_760).default(512 * 1024),
  PUBLISH_RATE_PER_MINUTE: int(1, 100_000_000).default(600),
  AUTH_FAILURES_PER_MINUTE: int(1, 1_000_000).default(10),
  WS_MAX_PAYLOAD_BYTES: int(64, 1_048_576).default(4_096),
  WS_MAX_TOPICS: int(1, 1_000).default(64),
  WS_MAX_ITEMS: int(1, 1_000).default(16),
  PAGE_MAX_TOPICS: int(1, 100).default(8),
  WS_SEND_BUFFER_BYTES: int(1_024, 268_435_456).default(1_048_576),
  WS_HEARTBEAT_SECONDS: int(1, 3_600).default(30),
  WS_MAX_CONNECTIONS: int(1, 10_000_000).optional(),
  WS_RATE_PER_10S: int(1, 100_000).default(50),
  MAX_CONNECTIONS_PER_ADDRESS: int(1, 10_000_000).default(256),
  CONNECTIONS_PER_SECOND_PER_ADDRESS: int(1, 10_000_000).default(20),
  HTTP_RATE_PER_10S: int(1, 100_000_000).default(1_000),
  HEADERS_TIMEOUT_SECONDS: int(1, 600).default(10),
  REQUEST_TIMEOUT_SECONDS: int(1, 3_600).default(30),
  KEEP_ALIVE_SECONDS: int(1, 3_600).default(5),
  SNAPSHOT_ITEMS: int(1, 500).default(50),
  RESUME_MEMORY_EVENTS: int(1, 1_000_000).default(4_096),
  RESUME_MEMORY_BYTES: int(1_048_576, 17_179_869_184).default(64 * MB),
  VIEW_CACHE_BYTES: int(1_048_576, 17_179_869_184).default(64 * MB),
  FEED_CACHE_BYTES: int(1_048_576, 17_179_869_184).default(64 * MB),
  REDIS_CONNECT_TIMEOUT_SECONDS: int(1, 600).default(30),
  // A write is acknowledged once this many replicas hold it (WAIT), waiting at most REDIS_WAIT_MS; see config-redis.ts.
  REDIS_MIN_REPLICAS: int(0, 16).default(0),
  REDIS_WAIT_MS: int(1, 10_000).optional(),
  VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, 'must be a base64url VAPID public key (npx web-push generate-vapid-keys)').optional(),
  VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{40,50}$/, 'must be a base64url VAPID private key').optional(),
  VAPID_SUBJECT: z.string().regex(/^(mailto:.+@.+|https:\/\/.+)$/, 'must be a mailto: address or an https URL').optional(),
  PUSH_MAX_SUBSCRIPTIONS: int(1, 100_000_000).default(100_000),
  WEBSUB_LEASE_SECONDS: int(60, 31_536_000).default(864_000),
  WEBSUB_MAX_LEASE_SECONDS: int(1, 31_536_000).default(2_592_000),
  WEBSUB_MAX_SUBSCRIPTIONS: int(1, 10_000_000).default(10_000),
  OUTBOUND_ALLOW_HOSTS: list.optional(),
  OUTBOUND_CONCURRENCY: int(1, 10_000).default(32),
  OUTBOUND_TIMEOUT_SECONDS: int(1, 300).default(10),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'may hold letters, digits and : _ - (at most 64)')
    .default('newswire'),
  SHUTDOWN_GRACE_SECONDS: int(0, 600).default(10),
  // Server processes behind one port (node:cluster); 'auto': one per core.
  WORKERS: z
    .string()
    .trim()
    .regex(/^(auto|\d+)$/, 'must be auto or a whole number from 1 to 256')
    .transform((value) => (value === 'auto' ? availableParallelism() : Number(value)))
    .pipe(z.number().int().min(1, 'must be auto or a whole number from 1 to 256').max(256, 'must be auto or a whole number from 1 to 256'))
    .default(1),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  publicUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  /** Where Redis is (one URL, Sentinel or Cluster) and how many replicas confirm a write. */
  redis: RedisSettings;
  redisKeyPrefix: string;
  /** How long a starting process waits for Redis before it gives up. */
  redisConnectTimeoutMs: number;
  outbound: {
    vapid: { publicKey?: string; privateKey?: string; subject?: string };
    pushMaxSubscriptions: number;
    webSubLeaseSeconds: { default: number; max: number };
    webSubMaxSubscriptions: number;
    /** Hosts outbound requests may reach though they are not public (tests, internal subscribers). */
    allowHosts: string[];
    concurrency: number;
    timeoutMs: number;
  };
  publisherTokens: string[];
  /** True when the tokens were made up at start for a development run. */
  generatedToken: boolean;
  /** Bearer token for /metrics; without one only loopback clients may read it. */
  metricsToken: string | undefined;
  allowedOrigins: string[] | '*';
  /** Reverse proxies whose X-Forwarded-* headers are believed. */
  trustProxy: string[];
  siteTitle: string;
  logLevel: Env['LOG_LEVEL'];
  /** One JSON line per request (and per live connection) in the log. */
  accessLog: boolean;
  retention: { maxEvents: number; maxAgeMs: number; itemMaxAgeMs: number };
  /** withdrawnMs: how long a withdrawal notice stays in feeds in place of a retracted item. */
  feed: { items: number; maxAgeSeconds: number; withdrawnMs: number };
  limits: {
    maxBodyBytes: number;
    publishPerMinute: number;
    authFailuresPerMinute: number;
    wsMaxPayload: number;
    wsMaxTopics: number;
    wsMaxItems: number;
    pageMaxTopics: number;
    wsSendBuffer: number;
    wsHeartbeatMs: number;
    /** Undefined: derived from the open-files limit at start. */
    wsMaxConnections: number | undefined;
    wsMessagesPer10s: number;
    connectionsPerAddress: number;
    newConnectionsPerSecond: number;
    requestsPer10s: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveMs: number;
    snapshotItems: number;
    /** Recent events each process keeps framed in memory to serve resumes. */
    resumeMemoryEvents: number;
    resumeMemoryBytes: number;
    viewCacheBytes: number;
    feedCacheBytes: number;
  };
  shutdownGraceMs: number;
  /** ninjs in and out, Superdesk HTTP Push, uploaded media. */
  ninjs: NinjsSettings;
  /** Server processes on this machine; 1: this process serves (no cluster). */
  workers: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Configuration that parses but cannot work here: a taken port, a data
 * folder that cannot be written, a Redis that cannot be reached. One line
 * for the operator, exit code 78 like a configuration error.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Values never echoed back in an error message. */
const SECRET = new Set(['PUBLISHER_TOKENS', 'METRICS_TOKEN', 'REDIS_URL', 'VAPID_PRIVATE_KEY', 'SUPERDESK_SECRET', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD']);

/** Reads the environment; throws ConfigError naming each bad variable. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  // An empty variable counts as unset, as shells and compose files tend to produce them.
  const present = Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = present[name];
        const shown = value !== undefined && !SECRET.has(name) && value.length <= 80 ? ` (it is "${value}")` : '';
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const env = parsed.data;
  let tokens = env.PUBLISHER_TOKENS ?? [];
  let generatedToken = false;
  const problems: string[] = [];
  if (tokens.length === 0) {
    if (env.NODE_ENV === 'production') {
      problems.push('PUBLISHER_TOKENS: is required when NODE_ENV=production (comma-separated bearer tokens)');
    }
    tokens = [crypto.randomUUID().replaceAll('-', '')];
    generatedToken = true;
  }
  if (env.NODE_ENV === 'production' && !env.PUBLIC_URL) {
    problems.push(
      'PUBLIC_URL: is required when NODE_ENV=production (the address readers use, e.g. https://news.example.com): feeds carry absolute links and the server never takes them from a request',
    );
  }
  if (Boolean(env.VAPID_PUBLIC_KEY) !== Boolean(env.VAPID_PRIVATE_KEY)) {
    problems.push('VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither (without them a key pair is made once and kept in the store)');
  }
  const ninjs = ninjsSettings(present, problems);
  const redis = redisSettings(
    present as Record<string, string>,
    { redisUrl: env.REDIS_URL, minReplicas: env.REDIS_MIN_REPLICAS, waitMs: env.REDIS_WAIT_MS },
    problems,
  );
  if (problems.length) throw new ConfigError(problems);
  const origins = env.ALLOWED_ORIGINS ?? [];
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir: env.DATA_DIR,
    redisUrl: env.REDIS_URL,
    redis,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    redisConnectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_SECONDS * 1000,
    outbound: {
      vapid: { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject: env.VAPID_SUBJECT },
      pushMaxSubscriptions: env.PUSH_MAX_SUBSCRIPTIONS,
      webSubLeaseSeconds: { default: Math.min(env.WEBSUB_LEASE_SECONDS, env.WEBSUB_MAX_LEASE_SECONDS), max: env.WEBSUB_MAX_LEASE_SECONDS },
      webSubMaxSubscriptions: env.WEBSUB_MAX_SUBSCRIPTIONS,
      allowHosts: (env.OUTBOUND_ALLOW_HOSTS ?? []).map((host) => host.toLowerCase()),
      concurrency: env.OUTBOUND_CONCURRENCY,
      timeoutMs: env.OUTBOUND_TIMEOUT_SECONDS * 1000,
    },
    publisherTokens: tokens,
    generatedToken,
    metricsToken: env.METRICS_TOKEN,
    allowedOrigins: origins.includes('*') ? '*' : origins.map((o) => new URL(o).origin),
    trustProxy: env.TRUST_PROXY ?? [],
    siteTitle: env.SITE_TITLE,
    logLevel: env.LOG_LEVEL,
    accessLog: env.ACCESS_LOG === 'on',
    retention: {
      maxEvents: env.RETENTION_EVENTS,
      maxAgeMs: env.RETENTION_HOURS * 3_600_000,
      itemMaxAgeMs: env.ITEM_RETENTION_DAYS * 86_400_000,
    },
    feed: {
      items: env.FEED_ITEMS,
      maxAgeSeconds: env.FEED_MAX_AGE_SECONDS,
      withdrawnMs: Math.round(env.FEED_WITHDRAWN_HOURS * 3_600_000),
    },
    limits: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      publishPerMinute: env.PUBLISH_RATE_PER_MINUTE,
      authFailuresPerMinute: env.AUTH_FAILURES_PER_MINUTE,
      wsMaxPayload: env.WS_MAX_PAYLOAD_BYTES,
      wsMaxTopics: env.WS_MAX_TOPICS,
      wsMaxItems: env.WS_MAX_ITEMS,
      pageMaxTopics: env.PAGE_MAX_TOPICS,
      wsSendBuffer: env.WS_SEND_BUFFER_BYTES,
      wsHeartbeatMs: env.WS_HEARTBEAT_SECONDS * 1000,
      wsMaxConnections: env.WS_MAX_CONNECTIONS,
      wsMessagesPer10s: env.WS_RATE_PER_10S,
      connectionsPerAddress: env.MAX_CONNECTIONS_PER_ADDRESS,
      newConnectionsPerSecond: env.CONNECTIONS_PER_SECOND_PER_ADDRESS,
      requestsPer10s: env.HTTP_RATE_PER_10S,
      headersTimeoutMs: env.HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: env.REQUEST_TIMEOUT_SECONDS * 1000,
      keepAliveMs: env.KEEP_ALIVE_SECONDS * 1000,
      snapshotItems: env.SNAPSHOT_ITEMS,
      resumeMemoryEvents: env.RESUME_MEMORY_EVENTS,
      resumeMemoryBytes: env.RESUME_MEMORY_BYTES,
      viewCacheBytes: env.VIEW_CACHE_BYTES,
      feedCacheBytes: env.FEED_CACHE_BYTES,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
    ninjs,
    workers: env.WORKERS,
  };
}
