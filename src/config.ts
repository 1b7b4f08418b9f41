// Environment → validated settings. A bad value stops the process at start
// with a message that names the variable.
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL, e.g. https://news.example.com' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
  PUBLISHER_TOKENS: list
    .pipe(z.array(z.string().min(16, 'each token must be at least 16 characters')))
    .optional(),
  ALLOWED_ORIGINS: list
    .pipe(
      z.array(
        z.union([z.literal('*'), z.url({ message: 'each origin must look like https://news.example.com' })]),
      ),
    )
    .optional(),
  SITE_TITLE: z.string().min(1).max(120).default('Newswire'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RETENTION_EVENTS: int(100, 100_000_000).default(100_000),
  RETENTION_HOURS: int(1, 24 * 365).default(24 * 7),
  ITEM_RETENTION_DAYS: int(1, 3650).default(30),
  FEED_ITEMS: int(1, 500).default(50),
  FEED_MAX_AGE_SECONDS: int(0, 86_400).default(60),
  MAX_BODY_BYTES: int(1_024, 10_485_760).default(512 * 1024),
  PUBLISH_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  WS_MAX_PAYLOAD_BYTES: int(64, 1_048_576).default(4_096),
  WS_MAX_TOPICS: int(1, 1_000).default(64),
  WS_SEND_BUFFER_BYTES: int(1_024, 268_435_456).default(1_048_576),
  WS_HEARTBEAT_SECONDS: int(1, 3_600).default(30),
  WS_MAX_CONNECTIONS: int(1, 10_000_000).default(100_000),
  WS_RATE_PER_10S: int(1, 100_000).default(50),
  SNAPSHOT_ITEMS: int(1, 500).default(50),
  RESUME_MEMORY_EVENTS: int(1, 1_000_000).default(4_096),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'may hold letters, digits and : _ -')
    .default('newswire'),
  SHUTDOWN_GRACE_SECONDS: int(0, 600).default(10),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  publicUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  publisherTokens: string[];
  /** True when the tokens were made up at start for a development run. */
  generatedToken: boolean;
  allowedOrigins: string[] | '*';
  siteTitle: string;
  logLevel: Env['LOG_LEVEL'];
  retention: { maxEvents: number; maxAgeMs: number; itemMaxAgeMs: number };
  feed: { items: number; maxAgeSeconds: number };
  limits: {
    maxBodyBytes: number;
    publishPerMinute: number;
    wsMaxPayload: number;
    wsMaxTopics: number;
    wsSendBuffer: number;
    wsHeartbeatMs: number;
    wsMaxConnections: number;
    wsMessagesPer10s: number;
    snapshotItems: number;
    /** Recent events each process keeps framed in memory to serve resumes. */
    resumeMemoryEvents: number;
  };
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment; throws ConfigError naming each bad variable. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  // An empty variable counts as unset, as shells and compose files tend to produce them.
  const present = Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const env = parsed.data;
  let tokens = env.PUBLISHER_TOKENS ?? [];
  let generatedToken = false;
  if (tokens.length === 0) {
    if (env.NODE_ENV === 'production') {
      throw new ConfigError(['PUBLISHER_TOKENS: is required when NODE_ENV=production (comma-separated bearer tokens)']);
    }
    tokens = [crypto.randomUUID().replaceAll('-', '')];
    generatedToken = true;
  }
  const origins = env.ALLOWED_ORIGINS ?? [];
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir: env.DATA_DIR,
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    publisherTokens: tokens,
    generatedToken,
    allowedOrigins: origins.includes('*') ? '*' : origins.map((o) => new URL(o).origin),
    siteTitle: env.SITE_TITLE,
    logLevel: env.LOG_LEVEL,
    retention: {
      maxEvents: env.RETENTION_EVENTS,
      maxAgeMs: env.RETENTION_HOURS * 3_600_000,
      itemMaxAgeMs: env.ITEM_RETENTION_DAYS * 86_400_000,
    },
    feed: { items: env.FEED_ITEMS, maxAgeSeconds: env.FEED_MAX_AGE_SECONDS },
    limits: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      publishPerMinute: env.PUBLISH_RATE_PER_MINUTE,
      wsMaxPayload: env.WS_MAX_PAYLOAD_BYTES,
      wsMaxTopics: env.WS_MAX_TOPICS,
      wsSendBuffer: env.WS_SEND_BUFFER_BYTES,
      wsHeartbeatMs: env.WS_HEARTBEAT_SECONDS * 1000,
      wsMaxConnections: env.WS_MAX_CONNECTIONS,
      wsMessagesPer10s: env.WS_RATE_PER_10S,
      snapshotItems: env.SNAPSHOT_ITEMS,
      resumeMemoryEvents: env.RESUME_MEMORY_EVENTS,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
  };
}
