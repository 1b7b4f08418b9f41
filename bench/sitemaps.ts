// Sitemaps at archive size: seeds N stories through the API, then measures
// the first build of /sitemap.xml and /sitemap-news.xml, serving them with no
// change in between (autocannon; the build counter must not move), and one
// rebuild after a publish. On Redis (the default: seeding through the API
// is quicker there than with SQLite's fsync per write) it starts its own
// redis-server without persistence on a free port.
//
//   node node_modules/tsx/dist/cli.mjs bench/sitemaps.ts --stories 20000 --seconds 5 [--backend sqlite]
//
// --seed direct (embedded store only) writes the stories into the data folder
// before the server starts, through the store itself: minutes quicker at
// 20,000 stories on a busy machine, and the same rows.
import { parseArgs } from 'node:util';
import { autocannon } from './lib/autocannon.ts';
import { openBenchStore, seedStore, sitemapStory } from './lib/sitemap-stories.ts';
import { freePort, startBinary, startTs, stopEverything, tempDir } from './lib/spawn.ts';
import { TOKEN } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    stories: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    backend: { type: 'string', default: 'redis' },
    seed: { type: 'string', default: 'api' },
  },
});
const STORIES = Number(values.stories);

const dataDir = tempDir('newswire-sitemaps-');
const env: Record<string, string> = {
  NODE_ENV: 'test',
  PORT: '0',
  DATA_DIR: dataDir,
  PUBLIC_URL: 'https://news.example.org',
  PUBLISHER_TOKENS: TOKEN,
  LOG_LEVEL: 'info',
  PUBLISH_RATE_PER_MINUTE: '100000000',
  HTTP_RATE_PER_10S: '100000000',
  CONNECTIONS_PER_SECOND_PER_ADDRESS: '10000000',
  MAX_CONNECTIONS_PER_ADDRESS: '10000',
};

const direct = values.seed === 'direct';
if (direct) {
  if (values.backend === 'redis') throw new Error('--seed direct needs --backend sqlite');
  const store = openBenchStore(dataDir);
  const seconds = await seedStore(store, STORIES);
  await store.close();
  console.log(`seeded ${STORIES} stories into the store in ${seconds.toFixed(1)} s`);
}

if (values.backend === 'redis') {
  // Without persistence: what is measured is the sitemap, not Redis's disk.
  const redisPort = await freePort();
  await startBinary(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir],
    /Ready to accept connections/,
    redisPort,
  );
  env.REDIS_URL = `redis://127.0.0.1:${redisPort}`;
}
const server = await startTs('src/main.ts', env);
process.on('exit', () => void stopEverything());
const base = `http://127.0.0.1:${server.port}`;

async function run(path: string, headers: string[]) {
  const raw = await autocannon(`${base}${path}`, headers, { connections: values.connections as string, seconds: values.seconds as string });
  return {
    p50: raw.latency.p50,
    p99: raw.latency.p99,
    rps: Math.round(raw.requests.average),
    bytesPerResponse: Math.round(raw.throughput.total / Math.max(1, raw.requests.total)),
    non2xx: raw.non2xx,
    statuses: raw.statusCodeStats,
  };
}

async function builds(kind: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`newswire_sitemap_builds_total{sitemap="${kind}"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function publish(n: number): Promise<void> {
  const res = await fetch(`${base}/api/v1/items`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(sitemapStory(n)),
  });
  if (res.status !== 201) throw new Error(`publish ${n}: ${res.status} ${await res.text()}`);
}

if (!direct) {
  const seeding = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < STORIES) await publish(next++);
    }),
  );
  console.log(`seeded ${STORIES} stories through the API in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
}

/** Time to the whole body; the body's size as sent (identity here). */
async function timed(path: string): Promise<{ ms: number; bytes: number; status: number; etag: string | null }> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { headers: { 'accept-encoding': 'identity' } });
  const body = await res.arrayBuffer();
  return { ms: Math.round(performance.now() - started), bytes: body.byteLength, status: res.status, etag: res.headers.get('etag') };
}

console.log('first /sitemap.xml (cold build):', JSON.stringify(await timed('/sitemap.xml')));
const warm = await timed('/sitemap.xml');
console.log('second /sitemap.xml (no change):', JSON.stringify(warm));
console.log('first /sitemap-news.xml (cold build):', JSON.stringify(await timed('/sitemap-news.xml')));
const before = { all: await builds('all'), news: await builds('news') };

// The largest answers last: a run that saturates the client must not slow the next.
const runs: [string, string[]][] = [
  ['/sitemap.xml', ['accept-encoding: gzip', `if-none-match: ${(warm.etag as string).slice(0, -1)}-gzip"`]],
  ['/feeds/all.rss', ['accept-encoding: gzip']],
  ['/sitemap-news.xml', ['accept-encoding: gzip']],
  ['/sitemap.xml', ['accept-encoding: br']],
  ['/sitemap.xml', ['accept-encoding: gzip']],
  ['/sitemap.xml', ['accept-encoding: identity']],
];
for (const [path, headers] of runs) {
  const result = await run(path, headers);
  console.log(`${path} [${headers.join('; ')}] ${values.seconds} s, no change:`, JSON.stringify(result));
}
const after = { all: await builds('all'), news: await builds('news') };
console.log(`builds during the runs: all ${after.all - before.all}, news ${after.news - before.news}`);

await publish(STORIES);
console.log('after one publish, /sitemap.xml (one rebuild):', JSON.stringify(await timed('/sitemap.xml')));
console.log('after one publish, /sitemap-news.xml (one rebuild):', JSON.stringify(await timed('/sitemap-news.xml')));
console.log(`builds: all ${(await builds('all')) - after.all}, news ${(await builds('news')) - after.news}`);
await stopEverything();
process.exit(0);
