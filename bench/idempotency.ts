// What an Idempotency-Key costs a publish: the same server answers publishes
// without a key, with a new key each, and replays of a kept answer, in
// interleaved blocks, one request at a time (a newsroom tool's pattern).
// Latency per request and server CPU per request from /proc, on the embedded
// store and on Redis.
//
//   node node_modules/tsx/dist/cli.mjs bench/idempotency.ts --out bench/results/idempotency.json
import { parseArgs } from 'node:util';
import { log, writeReport } from './lib/output.ts';
import { treeCpuMicros } from './lib/proc.ts';
import { boundRun, stopEverything } from './lib/spawn.ts';
import { round, summarise } from './lib/stats.ts';
import { startTarget, TOKEN } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '600' },
    block: { type: 'string', default: '50' },
    out: { type: 'string' },
  },
});
boundRun(10, 'bench/idempotency: over 10 minutes');

type Mode = 'no key' | 'new key' | 'replay';
const MODES: Mode[] = ['no key', 'new key', 'replay'];
const perMode = Number(values.requests);
const block = Number(values.block);

async function post(base: string, body: unknown, key?: string): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  if (key) headers['idempotency-key'] = key;
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/items`, { method: 'POST', headers, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
  return performance.now() - started;
}

const results: Record<string, unknown>[] = [];
try {
  for (const target of ['ours', 'ours-redis'] as const) {
    const server = await startTarget(target, { env: { PUBLISH_RATE_PER_MINUTE: '1000000' } });
    const base = server.httpUrls[0] as string;
    const latency: Record<Mode, number[]> = { 'no key': [], 'new key': [], replay: [] };
    const cpu: Record<Mode, number> = { 'no key': 0, 'new key': 0, replay: 0 };
    // Answers to replay: published under keys beforehand (not timed).
    const kept: { key: string; body: unknown }[] = [];
    for (let i = 0; i < perMode; i++) {
      const body = { headline: `Kept answer ${i}`, topics: ['bench'] };
      await post(base, body, `kept-${i}`);
      kept.push({ key: `kept-${i}`, body });
    }
    let n = 0;
    for (let start = 0; start < perMode; start += block) {
      // Each block in a rotated order, so no mode always runs first.
      const order = MODES.map((_, i) => MODES[(i + start / block) % MODES.length] as Mode);
      for (const mode of order) {
        const cpu0 = treeCpuMicros(server.pids);
        for (let i = start; i < Math.min(perMode, start + block); i++) {
          n++;
          if (mode === 'replay') latency[mode].push(await post(base, kept[i]?.body, kept[i]?.key));
          else latency[mode].push(await post(base, { headline: `Timed publish ${n}`, topics: ['bench'] }, mode === 'new key' ? `timed-${n}` : undefined));
        }
        cpu[mode] += treeCpuMicros(server.pids) - cpu0;
      }
    }
    await server.stop();
    const row: Record<string, unknown> = { target };
    for (const mode of MODES) {
      const l = summarise(latency[mode]);
      row[mode] = { p50Ms: round(l.p50, 2), p99Ms: round(l.p99, 2), cpuUsPerRequest: round(cpu[mode] / perMode, 1) };
    }
    const of = (mode: Mode) => row[mode] as { p50Ms: number; cpuUsPerRequest: number };
    row.ratios = {
      newKeyP50: round(of('new key').p50Ms / of('no key').p50Ms, 2),
      newKeyCpu: round(of('new key').cpuUsPerRequest / of('no key').cpuUsPerRequest, 2),
      replayP50: round(of('replay').p50Ms / of('no key').p50Ms, 2),
      replayCpu: round(of('replay').cpuUsPerRequest / of('no key').cpuUsPerRequest, 2),
    };
    results.push(row);
    for (const mode of MODES) {
      const m = row[mode] as { p50Ms: number; p99Ms: number; cpuUsPerRequest: number };
      log(`${target}, ${mode}: p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, ${m.cpuUsPerRequest} µs CPU/request`);
    }
    log(`${target}: ratios ${JSON.stringify(row.ratios)}`);
  }
} finally {
  await stopEverything();
}
writeReport('bench/idempotency.ts', { params: values, results }, values.out);
process.exit(0);
