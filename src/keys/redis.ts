// Publisher keys in Redis, under the store's prefix:
//   keys          hash id → key JSON (with the hash of its token)
//   keys:ver      counter bumped by every change
//   keys:changed  pub/sub channel told of every change, so other processes
//                 re-read at once (the version check catches a lost message)
// Each change is one script through the store's script runner: the write, the
// version bump and the message go together.
import { connectRedis, type RedisClient, type RedisTarget } from '../store/redis-target.ts';
import { redisCall, Script } from '../store/redis.ts';
import type { StoredKey } from './keys.ts';
import type { KeyStore } from './store.ts';

const PRELUDE = `
local P = ARGV[1] .. ':'
local function k(name) return P .. name end
`;

/** ARGV: prefix, id, key JSON, max. Returns 1, or 0 when full. */
const CREATE = new Script(`${PRELUDE}
if redis.call('HLEN', k('keys')) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', k('keys'), ARGV[2], ARGV[3])
redis.call('INCR', k('keys:ver'))
redis.call('PUBLISH', k('keys:changed'), ARGV[2])
return 1
`);

/** ARGV: prefix, id, time. Returns the key JSON after the change, or false when unknown. */
const REVOKE = new Script(`${PRELUDE}
local json = redis.call('HGET', k('keys'), ARGV[2])
if not json then return false end
local key = cjson.decode(json)
if key.revokedAt then return json end
-- Appended as text so the key order stays the one the server wrote.
json = string.sub(json, 1, -2) .. ',"revokedAt":' .. cjson.encode(ARGV[3]) .. '}'
redis.call('HSET', k('keys'), ARGV[2], json)
redis.call('INCR', k('keys:ver'))
redis.call('PUBLISH', k('keys:changed'), ARGV[2])
return json
`);

export class RedisKeyStore implements KeyStore {
  private readonly sub: RedisClient;
  private readonly listeners: (() => void)[] = [];
  private closed = false;

  /** `client`: the store's command connection; the subscriber connects to the same target (single, sentinel or cluster). */
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    target: RedisTarget,
  ) {
    this.sub = connectRedis(target, { connectionName: 'newswire-keys', autoResubscribe: false, lazyConnect: true });
    this.sub.on('error', () => {});
    this.sub.on('message', () => this.changed());
    // After every (re)connect: subscribe again, and re-read what a lost message may have carried.
    this.sub.on('ready', () => {
      this.sub.subscribe(this.key('keys:changed')).then(
        () => this.changed(),
        () => {},
      );
    });
    this.sub.connect().catch(() => {});
  }

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  async create(key: StoredKey, max: number): Promise<boolean> {
    const { hash, ...shown } = key;
    const json = JSON.stringify({ ...shown, hash });
    const done = await redisCall(() => CREATE.run(this.client, [this.prefix, key.id, json, max]));
    return Number(done) === 1;
  }

  async revoke(id: string, at: string): Promise<StoredKey | null> {
    const json = await redisCall(() => REVOKE.run(this.client, [this.prefix, id, at]));
    return typeof json === 'string' ? (JSON.parse(json) as StoredKey) : null;
  }

  async list(): Promise<StoredKey[]> {
    const all = await redisCall(() => this.client.hvals(this.key('keys')));
    return all
      .map((json) => JSON.parse(json) as StoredKey)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  }

  async version(): Promise<string> {
    return (await redisCall(() => this.client.get(this.key('keys:ver')))) ?? '0';
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    if (this.closed) return;
    for (const listener of this.listeners) listener();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sub.quit().catch(() => this.sub.disconnect());
  }
}
