// Feeds under autocannon: our server's cached 200 and its 304 revalidation,
// against a bare node:http server sending the same bytes and headers.
//
//   node node_modules/tsx/dist/cli.mjs bench/feeds.ts --out bench/results/feeds.json
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { treeCpuMicros } from './lib/proc.ts';
import { closePublisher, publish } from './lib/publisher.ts';
import { ROOT, type Started, startTs, stopEverything, tempDir } from './lib/spawn.ts';
import { round } from './lib/stats.ts';
import { startTarget } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: '/feeds/all.rss' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
setTimeout(async () => {
  console.error('bench/feeds: over 10 minutes, stopping everything');
  await stopEverything();
  process.exit(2);
}, 600_000).unref();

// Headers a server adds per response; everything else is copied as it is.
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

async function capture(url: string, etag?: string) {
  const res = await fetch(url, { headers: etag ? { 'if-none-match': etag } : {} });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    if (!PER_RESPONSE.has(key)) headers[key] = value;
  });
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

interface Cannon {
  requestsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  statusOk: boolean;
}

function autocannon(url: string, headers: string[]): Promise<Cannon & { raw: Record<string, any> }> {
  const args = [join(ROOT, 'node_modules/autocannon/autocannon.js'), '-j', '-c', values.connections as string, '-d', values.seconds as string];
  for (const header of headers) args.push('-H', header);
  args.push(url);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 10_000_000, timeout: 120_000 }, (error, stdout) => {
      if (error) return reject(error);
      const raw = JSON.parse(stdout);
      resolve({
        requestsPerSec: Math.round(raw.requests.average),
        latencyMs: { p50: raw.latency.p50, p99: raw.latency.p99, max: raw.latency.max },
        non2xx: raw.non2xx,
        errors: raw.errors,
        statusOk: raw.errors === 0,
        raw: { statusCodeStats: raw.statusCodeStats, total: raw.requests.total },
      });
    }),
  );
}

const results: Record<string, unknown>[] = [];
try {
  const ours = await startTarget('ours', { env: { FEED_ITEMS: '50' } });
  const oursUrl = `${ours.httpUrls[0]}${values.path}`;
  for (let n = 1; n <= 50; n++) await publish(ours.httpUrls[0] as string, 'feed', n);
  const full = await capture(oursUrl);
  const etag = full.headers.etag as string;
  const notModified = await capture(oursUrl, etag);
  log(`feed ${values.path}: ${full.body.length} bytes, etag ${etag}, revalidation ${notModified.status}`);
  const file = join(tempDir('bench-feed-'), 'feed.json');
  writeFileSync(file, JSON.stringify({ etag, headers200: full.headers, headers304: notModified.headers, body: full.body.toString('base64') }));
  const raw: Started = await startTs('bench/peers/feed-http.ts', { FEED_FILE: file });
  const rawUrl = `http://127.0.0.1:${raw.port}${values.path}`;
  const check = await capture(rawUrl);
  if (!check.body.equals(full.body)) throw new Error('the node:http peer does not send the same bytes');

  const servers = [
    { name: 'ours', url: oursUrl, pids: ours.pids },
    { name: 'node-http', url: rawUrl, pids: [raw.pid] },
  ];
  for (let r = 1; r <= Number(values.rounds); r++) {
    for (const kind of ['200', '304'] as const) {
      for (const server of servers) {
        const cpu0 = treeCpuMicros(server.pids);
        const res = await autocannon(server.url, kind === '304' ? [`If-None-Match=${etag}`] : []);
        const cpu = treeCpuMicros(server.pids) - cpu0;
        const total = res.raw.total as number;
        const row = { round: r, kind, server: server.name, ...res, cpuUsPerRequest: round(cpu / Math.max(1, total)) };
        results.push(row);
        log(`${kind} ${server.name}: ${res.requestsPerSec} req/s p99 ${res.latencyMs.p99} ms, ${row.cpuUsPerRequest} µs CPU/request ${JSON.stringify(res.raw.statusCodeStats)}`);
      }
    }
  }
  results.push({ bodyBytes: full.body.length, headers200: full.headers, headers304: notModified.headers });
} finally {
  closePublisher();
  await stopEverything();
}

writeReport('bench/feeds.ts', {
  scenario: 'feeds',
  params: values,
  results,
}, values.out);
process.exit(0);
