// Feeds under autocannon: our server's cached 200 and its 304 revalidation,
// against a bare node:http server sending the same bytes and headers; and
// our cached 200 compressed (gzip, br) beside the uncompressed one: bytes on
// the wire and server CPU per request, side by side.
//
//   node node_modules/tsx/dist/cli.mjs bench/feeds.ts --out bench/results/feeds.json
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { log, writeReport } from './lib/output.ts';
import { treeCpuMicros } from './lib/proc.ts';
import { closePublisher, publish } from './lib/publisher.ts';
import { autocannon } from './lib/autocannon.ts';
import { boundRun, type Started, startTs, stopEverything, tempDir } from './lib/spawn.ts';
import { median, round } from './lib/stats.ts';
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
boundRun(10, 'bench/feeds: over 10 minutes');

// Headers a server adds per response; everything else is copied as it is.
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** What feed readers send: nothing (identity), gzip only, or what browsers and libcurl send. */
const CODINGS = [
  { name: 'identity', accept: undefined },
  { name: 'gzip', accept: 'gzip' },
  { name: 'br', accept: 'gzip, deflate, br' },
] as const;

/** The response as sent, body undecoded (fetch would decode it). */
function capture(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const kept: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) if (!PER_RESPONSE.has(key)) kept[key] = String(value);
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

interface Cannon {
  requestsPerSec: number;
  /** Everything read per response, headers included. */
  wireBytesPerResponse: number;
  latencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  statusOk: boolean;
}

async function cannon(url: string, headers: string[]): Promise<Cannon & { raw: Record<string, unknown> }> {
  const raw = await autocannon(url, headers, { connections: values.connections as string, seconds: values.seconds as string });
  return {
    requestsPerSec: Math.round(raw.requests.average),
    wireBytesPerResponse: Math.round(raw.throughput.total / Math.max(1, raw.requests.total)),
    latencyMs: { p50: raw.latency.p50, p99: raw.latency.p99, max: raw.latency.max },
    non2xx: raw.non2xx,
    errors: raw.errors,
    statusOk: raw.errors === 0,
    raw: { statusCodeStats: raw.statusCodeStats, total: raw.requests.total },
  };
}

function decode(body: Buffer, coding: string | undefined): Buffer {
  if (coding === 'br') return brotliDecompressSync(body);
  return coding === 'gzip' ? gunzipSync(body) : body;
}


/** The cached 200 per coding, against the uncompressed one: medians over the rounds. */
function compare(rows: Record<string, unknown>[], variants: { body: Buffer }[]) {
  const served = ['ours', 'ours-gzip', 'ours-br'];
  const of = (server: string, field: 'cpuUsPerRequest' | 'wireBytesPerResponse' | 'requestsPerSec') =>
    median(rows.filter((row) => row.kind === '200' && row.server === server).map((row) => row[field] as number));
  const base = { cpu: of('ours', 'cpuUsPerRequest'), wire: of('ours', 'wireBytesPerResponse') };
  const table = served.map((server, i) => {
    const cpu = of(server, 'cpuUsPerRequest');
    const wire = of(server, 'wireBytesPerResponse');
    return {
      coding: CODINGS[i]?.name,
      bodyBytes: variants[i]?.body.length,
      wireBytesPerResponse: round(wire, 0),
      cpuUsPerRequest: round(cpu),
      requestsPerSec: round(of(server, 'requestsPerSec'), 0),
      bytesVsIdentity: round(wire / Math.max(1, base.wire), 3),
      cpuVsIdentity: round(cpu / Math.max(0.001, base.cpu), 3),
    };
  });
  const lines = [
    'cached 200 by coding (medians): coding | body B | wire B/response | × bytes | CPU µs/request | × CPU | req/s',
    ...table.map((row) => `  ${row.coding} | ${row.bodyBytes} | ${row.wireBytesPerResponse} | ${row.bytesVsIdentity}× | ${row.cpuUsPerRequest} | ${row.cpuVsIdentity}× | ${row.requestsPerSec}`),
  ];
  return { table, lines };
}

const results: Record<string, unknown>[] = [];
try {
  const ours = await startTarget('ours', { env: { FEED_ITEMS: '50' } });
  const oursUrl = `${ours.httpUrls[0]}${values.path}`;
  for (let n = 1; n <= 50; n++) await publish(ours.httpUrls[0] as string, 'feed', n);
  const full = await capture(oursUrl);
  const etag = full.headers.etag as string;
  const notModified = await capture(oursUrl, { 'if-none-match': etag });
  const variants = await Promise.all(CODINGS.map((coding) => capture(oursUrl, coding.accept ? { 'accept-encoding': coding.accept } : {})));
  for (const [i, variant] of variants.entries()) {
    const decoded = decode(variant.body, variant.headers['content-encoding']);
    if (!decoded.equals(full.body)) throw new Error(`the ${CODINGS[i]?.name} variant does not decode to the feed`);
  }
  log(`feed ${values.path}: ${full.body.length} bytes, etag ${etag}, revalidation ${notModified.status}`);
  const file = join(tempDir('bench-feed-'), 'feed.json');
  writeFileSync(file, JSON.stringify({ etag, headers200: full.headers, headers304: notModified.headers, body: full.body.toString('base64') }));
  const raw: Started = await startTs('bench/peers/feed-http.ts', { FEED_FILE: file });
  const rawUrl = `http://127.0.0.1:${raw.port}${values.path}`;
  const check = await capture(rawUrl);
  if (!check.body.equals(full.body)) throw new Error('the node:http peer does not send the same bytes');

  // "ours" is the uncompressed answer (what the node:http peer sends); ours-gzip and ours-br the compressed ones.
  const brTag = variants[2]?.headers.etag as string;
  const servers = [
    { name: 'ours', url: oursUrl, pids: ours.pids, headers: [], revalidate: `If-None-Match=${etag}` },
    { name: 'node-http', url: rawUrl, pids: [raw.pid], headers: [], revalidate: `If-None-Match=${etag}` },
    { name: 'ours-gzip', url: oursUrl, pids: ours.pids, headers: ['Accept-Encoding=gzip'], revalidate: undefined },
    { name: 'ours-br', url: oursUrl, pids: ours.pids, headers: ['Accept-Encoding=gzip, deflate, br'], revalidate: `If-None-Match=${brTag}` },
  ];
  for (let r = 1; r <= Number(values.rounds); r++) {
    for (const kind of ['200', '304'] as const) {
      for (const server of servers) {
        if (kind === '304' && !server.revalidate) continue;
        const cpu0 = treeCpuMicros(server.pids);
        const res = await cannon(server.url, kind === '304' ? [...server.headers, server.revalidate as string] : server.headers);
        const cpu = treeCpuMicros(server.pids) - cpu0;
        const total = res.raw.total as number;
        const row = { round: r, kind, server: server.name, ...res, cpuUsPerRequest: round(cpu / Math.max(1, total)) };
        results.push(row);
        log(`${kind} ${server.name}: ${res.requestsPerSec} req/s p99 ${res.latencyMs.p99} ms, ${row.cpuUsPerRequest} µs CPU/request, ${res.wireBytesPerResponse} B/response ${JSON.stringify(res.raw.statusCodeStats)}`);
      }
    }
  }
  const compression = compare(results, variants);
  for (const line of compression.lines) log(line);
  results.push({
    bodyBytes: full.body.length,
    headers200: full.headers,
    headers304: notModified.headers,
    variants: Object.fromEntries(variants.map((variant, i) => [CODINGS[i]?.name, { bodyBytes: variant.body.length, headers: variant.headers }])),
    compression: compression.table,
  });
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
