// Keeps the benchmark harness working: a tiny run against our server and the
// frame-once baseline, through the same CLI the full runs use.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

describe('benchmark harness', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers every event to every subscriber and reports the figures', { timeout: 90_000 }, async () => {
    const out = join(dir, 'smoke.json');
    const args = [
      join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
      join(ROOT, 'bench/run.ts'),
      ...['--scenarios', 'fanout', '--targets', 'ours,raw-frame', '--subscribers', '200', '--clients', '2'],
      ...['--events', '5', '--quick', '--max-minutes', '1', '--out', out],
    ];
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, args, { cwd: ROOT, timeout: 80_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(),
      ),
    );
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.results.map((r: { target: string }) => r.target)).toEqual(['ours', 'raw-frame']);
    for (const result of report.results) {
      expect(result.error).toBeUndefined();
      expect(result.connect.ok).toBe(200);
      const { fanout } = result;
      expect(fanout.expected).toBe(1_000);
      expect(fanout.received).toBe(1_000);
      expect(fanout.lost).toBe(0);
      expect(fanout.gaps).toBe(0);
      expect(fanout.dups).toBe(0);
      expect(fanout.latencyMs.count).toBe(1_000);
      for (const key of ['p50', 'p95', 'p99', 'max']) expect(fanout.latencyMs[key]).toBeGreaterThan(0);
      expect(fanout.deliveriesPerSec).toBeGreaterThan(0);
      expect(typeof fanout.cpuUsPerDelivery).toBe('number');
      expect(result.memory[0].connections).toBe(200);
      expect(typeof result.memory[0].perConnectionKB).toBe('number');
    }
  });
});
