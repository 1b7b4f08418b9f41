// Reader counts across processes sharing one Redis. Each process keeps one
// hash, `<prefix>:readers:<process>` (field `t:<topic>` per topic, plus
// `every` and `total`), rewritten every REPORT_MS with an expiry of TTL_MS,
// and is listed in the set `<prefix>:readers`. A process that dies stops
// refreshing: its hash expires within seconds and leaves the sum; the next
// read drops it from the set. No clock but Redis's own expiry is trusted.
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../store/redis-target.ts';
import type { Logger } from '../ops/logger.ts';
import { type LocalCounts, type Presence, type ReaderCounts, sumCounts } from './presence.ts';

export const REPORT_MS = 1_000;
export const TTL_MS = 5_000;

export class RedisPresence implements Presence {
  private readonly id = randomBytes(8).toString('hex');
  private readonly members: string;
  private readonly key: string;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
    private readonly local: () => LocalCounts,
    private readonly logger?: Logger,
  ) {
    this.members = `${prefix}:readers`;
    this.key = `${prefix}:readers:${this.id}`;
  }

  start(): void {
    void this.report();
    this.timer = setInterval(() => void this.report(), REPORT_MS);
    this.timer.unref();
  }

  private async report(): Promise<void> {
    const counts = this.local();
    const fields: (string | number)[] = ['every', counts.everyTopic, 'total', counts.total];
    for (const [topic, count] of Object.entries(counts.topics)) fields.push(`t:${topic}`, count);
    try {
      await this.client.multi().del(this.key).hset(this.key, ...fields).pexpire(this.key, TTL_MS).sadd(this.members, this.id).exec();
      if (this.failing) this.logger?.info('reader counts are reported to Redis again');
      this.failing = false;
    } catch (error) {
      // Counts are advisory: a Redis outage makes them stale, never breaks anything.
      if (!this.failing) this.logger?.warn({ err: error }, 'reader counts cannot be reported to Redis');
      this.failing = true;
    }
  }

  async read(): Promise<ReaderCounts> {
    const ids = await this.client.smembers(this.members);
    if (ids.length === 0) return sumCounts([]);
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(`${this.members}:${id}`);
    const answers = (await pipeline.exec()) ?? [];
    const reports: LocalCounts[] = [];
    const gone: string[] = [];
    answers.forEach(([error, hash], index) => {
      const fields = hash as Record<string, string> | null;
      if (error || !fields || Object.keys(fields).length === 0) {
        if (!error) gone.push(ids[index] as string);
        return;
      }
      reports.push(parseReport(fields));
    });
    if (gone.length) await this.client.srem(this.members, ...gone).catch(() => {});
    return sumCounts(reports);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.client
      .multi()
      .del(this.key)
      .srem(this.members, this.id)
      .exec()
      .catch(() => {});
  }
}

function parseReport(fields: Record<string, string>): LocalCounts {
  const topics: Record<string, number> = {};
  for (const [name, value] of Object.entries(fields)) if (name.startsWith('t:')) topics[name.slice(2)] = Number(value) || 0;
  return { topics, everyTopic: Number(fields.every) || 0, total: Number(fields.total) || 0 };
}
