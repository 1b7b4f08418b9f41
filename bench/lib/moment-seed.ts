// Fills a store the way a newsroom does: real articles (the seed story of
// test/fixtures, ~4 KB of body) through the public API, several requests in
// flight, each with its own id and 1–3 of ten topics.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { ROOT } from './spawn.ts';
import { now, sleep } from './stats.ts';
import { TOKEN } from './targets.ts';

export const TOPICS = ['world', 'politics', 'business', 'tech', 'science', 'sport', 'culture', 'health', 'climate', 'europe'];

export interface SeedStory {
  id: string;
  headline: string;
  summary: string;
  body: string;
  topics: string[];
  priority: string;
  language: string;
  source: string;
}

/** The article as the fixture has it (its `publish` object). */
export function seedStory(): SeedStory {
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/seed-story.json'), 'utf8')) as { publish: SeedStory };
  return fixture.publish;
}

export const storyId = (i: number) => `story-${i}`;

/** 1–3 distinct topics, spread evenly over the ten. */
export function topicsOf(i: number): string[] {
  const count = 1 + (i % 3);
  const picked = new Set<string>();
  for (let k = 0; k < count; k++) picked.add(TOPICS[(i + k * 3) % TOPICS.length] as string);
  return [...picked];
}

function storyItem(story: SeedStory, i: number): Record<string, unknown> {
  const { headline, summary, body, language, source } = story;
  return { id: storyId(i), headline, summary, body, language, source, topics: topicsOf(i) };
}

// Its own pool, so seeding never shares sockets with the flash-alert publisher.
const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 5_000 });

/** One POST; status 0 when the connection failed before an answer. */
export function postItem(httpUrl: string, item: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify(item);
  return new Promise((resolve) => {
    const req = request(
      `${httpUrl}/api/v1/items`,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Retries what a busy server may answer (a reused socket it closed, 429, 503); a retry is idempotent. */
async function postWithRetry(httpUrl: string, item: Record<string, unknown>): Promise<number> {
  let status = 0;
  for (let attempt = 1; attempt <= 5; attempt++) {
    status = await postItem(httpUrl, item);
    if (status === 200 || status === 201) return status;
    if (status !== 0 && status !== 429 && status !== 503) return status;
    await sleep(100 * attempt);
  }
  return status;
}

export interface SeedResult {
  stories: number;
  seconds: number;
  failed: number;
  statuses: Record<string, number>;
}

/** Publishes `count` stories over the server processes in turn, `inFlight` at a time. */
export async function seedStories(httpUrls: string[], count: number, inFlight: number, story = seedStory()): Promise<SeedResult> {
  const start = now();
  const statuses: Record<string, number> = {};
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const status = await postWithRetry(httpUrls[i % httpUrls.length] as string, storyItem(story, i));
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, Math.max(1, count)) }, lane));
  const failed = count - (statuses['201'] ?? 0) - (statuses['200'] ?? 0);
  return { stories: count, seconds: (now() - start) / 1000, failed, statuses };
}

export function closeSeeder(): void {
  agent.destroy();
}
