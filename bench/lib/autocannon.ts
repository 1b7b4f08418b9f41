// autocannon as a child process (its JSON report), so its load does not share
// the bench's event loop.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './spawn.ts';

/** autocannon's JSON report (the fields the benches read). */
export interface CannonReport {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  throughput: { total: number };
  non2xx: number;
  errors: number;
  statusCodeStats: Record<string, unknown>;
}

/** Runs `connections` connections against `url` for `seconds`, with extra headers ("name: value"). */
export function autocannon(url: string, headers: readonly string[], options: { connections: number | string; seconds: number | string }): Promise<CannonReport> {
  const args = [join(ROOT, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(options.connections), '-d', String(options.seconds)];
  for (const header of headers) args.push('-H', header);
  args.push(url);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 10_000_000, timeout: 120_000 }, (error, stdout) => {
      if (error) return reject(error);
      resolve(JSON.parse(stdout) as CannonReport);
    }),
  );
}
