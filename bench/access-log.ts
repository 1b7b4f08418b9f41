// What the access log costs a request: the same server with ACCESS_LOG=on
// and =off, side by side, interleaved over rounds, under autocannon. Two
// requests: a feed's 304 (the cheapest answer a reader gets, through the
// feeds' node:http path) and GET /api/v1/items (through the web app). Server
// CPU per request from /proc; its log goes to a pipe the bench drains, as a
// log shipper would.
//
//   node node_modules/tsx/dist/cli.mjs bench/access-log.ts --out bench/results/access-log.json
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { treeCpuMicros } from './lib/proc.ts';
import { closePublisher, publish } from './lib/publisher.ts';
import { autocannon } from './lib/autocannon.ts';
import { boundRun, stopEverything } from './lib/spawn.ts';
import { median, round } from './lib/stats.ts';
import { startTarget } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});
boundRun(15, 'bench/access-log: over 15 minutes');

/** Requests made, their rate and p99, from one autocannon run. */
async function cannon(url: string, headers: string[]): Promise<{ total: number; requestsPerSec: number; p99: number; non2xx: number }> {
  const raw = await autocannon(url, headers, { connections: values.connections as string, seconds: values.seconds as string });
  return { total: raw.requests.total, requestsPerSec: Math.round(raw.requests.average), p99: raw.latency.p99, non2xx: raw.non2xx };
}

const rows: Record<string, unknown>[] = [];
try {
  for (let r = 1; r <= Number(values.rounds); r++) {
    for (const accessLog of r % 2 ? ['on', 'off'] : ['off', 'on']) {
      // LOG_LEVEL=info: the access log writes at info (the bench's default of warn would silence it).
      const target = await startTarget('ours', { env: { ACCESS_LOG: accessLog, LOG_LEVEL: 'info' } });
      try {
        const base = target.httpUrls[0] as string;
        for (let n = 1; n <= 20; n++) await publish(base, `access-log-${r}`, n);
        const feed = await fetch(`${base}/feeds/all.rss`);
        const etag = feed.headers.get('etag') as string;
        await feed.arrayBuffer();
        for (const [kind, path, headers] of [
          ['feed 304', '/feeds/all.rss', [`if-none-match: ${etag}`]],
          ['items list', '/api/v1/items?limit=20', []],
        ] as const) {
          const cpu0 = treeCpuMicros(target.pids);
          const res = await cannon(`${base}${path}`, [...headers]);
          const cpu = treeCpuMicros(target.pids) - cpu0;
          const row = { round: r, accessLog, kind, ...res, cpuUsPerRequest: round(cpu / Math.max(1, res.total), 2) };
          rows.push(row);
          log(`${kind}, ACCESS_LOG=${accessLog}: ${res.requestsPerSec} req/s, ${row.cpuUsPerRequest} µs CPU/request, p99 ${res.p99} ms`);
        }
      } finally {
        await target.stop();
      }
    }
  }
} finally {
  closePublisher();
  await stopEverything();
}

const summary = ['feed 304', 'items list'].map((kind) => {
  const of = (accessLog: string, field: 'cpuUsPerRequest' | 'requestsPerSec') =>
    median(rows.filter((row) => row.kind === kind && row.accessLog === accessLog).map((row) => row[field] as number));
  const on = { cpu: of('on', 'cpuUsPerRequest'), rps: of('on', 'requestsPerSec') };
  const off = { cpu: of('off', 'cpuUsPerRequest'), rps: of('off', 'requestsPerSec') };
  return { kind, on, off, cpuRatio: round(on.cpu / off.cpu, 2), addedUsPerRequest: round(on.cpu - off.cpu, 2), rpsRatio: round(on.rps / off.rps, 2) };
});
for (const s of summary) log(`${s.kind}: CPU per request on/off ${s.on.cpu}/${s.off.cpu} µs = ${s.cpuRatio}× (+${s.addedUsPerRequest} µs), req/s ${s.rpsRatio}×`);
writeReport('bench/access-log.ts', { params: values, rows, summary }, values.out);
process.exit(0);
