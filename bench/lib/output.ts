// What every benchmark run prints while it goes and writes when it is done.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname } from 'node:path';

export const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

/**
 * The result file: the machine, the code measured (set by bench/frozen.sh),
 * the command that reproduces it, then the scenario's own fields.
 */
export function writeReport(script: string, fields: Record<string, unknown>, out: string | undefined): void {
  const { results, ...rest } = fields;
  const report = {
    ...rest,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, kernel: release() },
    tree: process.env.BENCH_TREE ?? null,
    command: `node node_modules/tsx/dist/cli.mjs ${script} ${process.argv.slice(2).join(' ')}`,
    results,
  };
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out}`);
  } else console.log(JSON.stringify(report, null, 2));
}
