// The outbox in Redis, every step one Lua script: planning and the cursor
// move together, and a claim hands a delivery to one process only.
//
// Keys, all under `${prefix}:out:${channel}:`
//   subs      hash id → subscription JSON
//   ver       counter, bumped by every change of the subscriptions
//   cursor    last seq planned
//   next      counter of delivery ids
//   d         hash delivery id → delivery JSON
//   due       zset delivery id by the time it is due (a lease moves it later)
//   notes     hash key → {value, expiresMs}
// and `${prefix}:out:setting:${name}` for settings (keys made once).
import { redisCall, Script } from '../store/redis.ts';
import type { RedisClient } from '../store/redis-target.ts';
import type { Channel, Delivery, Note, Outbox, PlannedDelivery, Settlement, Subscription } from './outbox.ts';

const PRELUDE = `
local P = ARGV[1] .. ':out:' .. ARGV[2] .. ':'
local function k(name) return P .. name end
`;

/** ARGV: prefix, channel, id, subscription JSON, max. */
const SUBSCRIBE = `${PRELUDE}
if redis.call('HEXISTS', k('subs'), ARGV[3]) == 0 and redis.call('HLEN', k('subs')) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', k('subs'), ARGV[3], ARGV[4])
redis.call('INCR', k('ver'))
return 1
`;

/** ARGV: prefix, channel, id. */
const UNSUBSCRIBE = `${PRELUDE}
local removed = redis.call('HDEL', k('subs'), ARGV[3])
if removed > 0 then redis.call('INCR', k('ver')) end
return removed
`;

/** ARGV: prefix, channel. Returns version, then each subscription JSON. */
const SUBSCRIPTIONS = `${PRELUDE}
local out = {redis.call('GET', k('ver')) or '0'}
for _, json in ipairs(redis.call('HVALS', k('subs'))) do out[#out + 1] = json end
return out
`;

/** ARGV: prefix, channel, now. Drops ended leases and notes; returns subscriptions dropped. */
const EXPIRE = `${PRELUDE}
local now = tonumber(ARGV[3])
local dropped = 0
local subs = redis.call('HGETALL', k('subs'))
for i = 1, #subs, 2 do
  local expires = cjson.decode(subs[i + 1]).expiresMs
  if expires and expires < now then
    redis.call('HDEL', k('subs'), subs[i])
    dropped = dropped + 1
  end
end
if dropped > 0 then redis.call('INCR', k('ver')) end
local notes = redis.call('HGETALL', k('notes'))
for i = 1, #notes, 2 do
  if cjson.decode(notes[i + 1]).expiresMs <= now then redis.call('HDEL', k('notes'), notes[i]) end
end
return dropped
`;

/** ARGV: prefix, channel, start seq. */
const CURSOR = `${PRELUDE}
redis.call('SET', k('cursor'), ARGV[3], 'NX')
return redis.call('GET', k('cursor'))
`;

/**
 * ARGV: prefix, channel, from, to, now, delivery count, each delivery JSON,
 * then (key, value, ttl ms) per note. 0 when the cursor was not at from.
 */
const PLAN = `${PRELUDE}
if tonumber(redis.call('GET', k('cursor')) or '-1') ~= tonumber(ARGV[3]) then return 0 end
local now = tonumber(ARGV[5])
local count = tonumber(ARGV[6])
for i = 7, 6 + count do
  -- Padded, so the ids of deliveries due together sort as numbers.
  local id = string.format('%012d', redis.call('INCR', k('next')))
  redis.call('HSET', k('d'), id, ARGV[i])
  redis.call('ZADD', k('due'), now, id)
end
for i = 7 + count, #ARGV, 3 do
  redis.call('HSET', k('notes'), ARGV[i], cjson.encode({value = ARGV[i + 1], expiresMs = now + tonumber(ARGV[i + 2])}))
end
redis.call('SET', k('cursor'), ARGV[4])
return 1
`;

/** ARGV: prefix, channel, now, lease ms, limit. Returns (id, delivery JSON) pairs. */
const CLAIM = `${PRELUDE}
local now, lease = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', k('due'), '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))) do
  local json = redis.call('HGET', k('d'), id)
  if json then
    local delivery = cjson.decode(json)
    delivery.attempts = delivery.attempts + 1
    json = cjson.encode(delivery)
    redis.call('HSET', k('d'), id, json)
    redis.call('ZADD', k('due'), now + lease, id)
    out[#out + 1] = id
    out[#out + 1] = json
  else
    redis.call('ZREM', k('due'), id)
  end
end
return out
`;

/** ARGV: prefix, channel, then (delivery id, outcome, retry at ms, subscription id) per settlement. */
const SETTLE = `${PRELUDE}
for i = 3, #ARGV, 4 do
  local id, outcome = ARGV[i], ARGV[i + 1]
  if outcome == 'retry' then
    if redis.call('HEXISTS', k('d'), id) == 1 then redis.call('ZADD', k('due'), tonumber(ARGV[i + 2]), id) end
  else
    redis.call('ZREM', k('due'), id)
    redis.call('HDEL', k('d'), id)
    if outcome == 'gone' and redis.call('HDEL', k('subs'), ARGV[i + 3]) > 0 then redis.call('INCR', k('ver')) end
  end
end
return 1
`;

const scripts = {
  subscribe: new Script(SUBSCRIBE),
  unsubscribe: new Script(UNSUBSCRIBE),
  subscriptions: new Script(SUBSCRIPTIONS),
  expire: new Script(EXPIRE),
  cursor: new Script(CURSOR),
  plan: new Script(PLAN),
  claim: new Script(CLAIM),
  settle: new Script(SETTLE),
};

/** A delivery as kept in `d`: its id is the hash field. */
type StoredDelivery = Omit<Delivery, 'id'>;

export class RedisOutbox implements Outbox {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(channel: Channel, name: string): string {
    return `${this.prefix}:out:${channel}:${name}`;
  }

  /** Runs a script; connection trouble becomes StoreUnavailableError. */
  private run(script: Script, args: (string | number)[]): Promise<unknown> {
    return redisCall(() => script.run(this.client, args));
  }

  async setting(name: string, make: () => string): Promise<string> {
    const key = `${this.prefix}:out:setting:${name}`;
    await redisCall(() => this.client.set(key, make(), 'NX'));
    return (await redisCall(() => this.client.get(key))) as string;
  }

  async subscribe(channel: Channel, subscription: Subscription, max: number): Promise<boolean> {
    // No expiresMs: no lease end (the scripts read an absent one as none).
    return Number(await this.run(scripts.subscribe, [this.prefix, channel, subscription.id, JSON.stringify(subscription), max])) === 1;
  }

  async unsubscribe(channel: Channel, id: string): Promise<boolean> {
    return Number(await this.run(scripts.unsubscribe, [this.prefix, channel, id])) > 0;
  }

  async version(channel: Channel): Promise<string> {
    return (await redisCall(() => this.client.get(this.key(channel, 'ver')))) ?? '0';
  }

  async subscriptions(channel: Channel): Promise<{ version: string; list: Subscription[] }> {
    const [version, ...rows] = (await this.run(scripts.subscriptions, [this.prefix, channel])) as string[];
    const list = rows.map((row) => JSON.parse(row) as Subscription).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { version: String(version), list };
  }

  async expire(channel: Channel, nowMs: number): Promise<number> {
    return Number(await this.run(scripts.expire, [this.prefix, channel, Math.floor(nowMs)]));
  }

  async cursor(channel: Channel, startSeq: number): Promise<number> {
    return Number(await this.run(scripts.cursor, [this.prefix, channel, startSeq]));
  }

  async plan(
    channel: Channel,
    from: number,
    to: number,
    deliveries: (PlannedDelivery & { seq: number })[],
    notes: Note[],
    nowMs: number,
  ): Promise<boolean> {
    const now = Math.floor(nowMs);
    const args: (string | number)[] = [this.prefix, channel, from, to, now, deliveries.length];
    for (const { seq, subscriptionId, payload, coalesce } of deliveries) {
      // An undefined coalesce is left out of the JSON.
      const stored: StoredDelivery = { seq, subscriptionId, payload, coalesce, attempts: 0, plannedMs: now };
      args.push(JSON.stringify(stored));
    }
    for (const note of notes) args.push(note.key, note.value, Math.floor(note.ttlMs));
    return Number(await this.run(scripts.plan, args)) === 1;
  }

  async note(channel: Channel, key: string, nowMs: number): Promise<string | null> {
    const json = await redisCall(() => this.client.hget(this.key(channel, 'notes'), key));
    if (!json) return null;
    const note = JSON.parse(json) as { value: string; expiresMs: number };
    return note.expiresMs > nowMs ? note.value : null;
  }

  async restart(channel: Channel, seq: number): Promise<void> {
    await redisCall(() => this.client.set(this.key(channel, 'cursor'), String(seq)));
  }

  async claim(channel: Channel, nowMs: number, leaseMs: number, limit: number): Promise<Delivery[]> {
    const reply = (await this.run(scripts.claim, [this.prefix, channel, Math.floor(nowMs), Math.floor(leaseMs), limit])) as string[];
    const out: Delivery[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      // Built field by field: Lua re-encodes the JSON in no set order, and callers see the same shape from both outboxes.
      const { seq, subscriptionId, payload, coalesce, attempts, plannedMs } = JSON.parse(reply[i + 1] as string) as StoredDelivery;
      const delivery: Delivery = { id: reply[i] as string, seq, subscriptionId, payload, attempts, plannedMs };
      if (coalesce !== undefined) delivery.coalesce = coalesce;
      out.push(delivery);
    }
    return out;
  }

  async settle(channel: Channel, settled: { delivery: Delivery; settlement: Settlement }[]): Promise<void> {
    if (!settled.length) return;
    const args: (string | number)[] = [this.prefix, channel];
    for (const { delivery, settlement } of settled) {
      args.push(delivery.id, settlement.outcome, settlement.outcome === 'retry' ? Math.floor(settlement.atMs) : 0, delivery.subscriptionId);
    }
    await this.run(scripts.settle, args);
  }

  async backlog(channel: Channel): Promise<number> {
    return redisCall(() => this.client.zcard(this.key(channel, 'due')));
  }

  /** The connection is the store's: it closes it. */
  async close(): Promise<void> {}
}
