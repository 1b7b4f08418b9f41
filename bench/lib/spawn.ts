// Starts a TypeScript process the way the project starts its server (tsx),
// waits for its "listening" line, and stops it (and its children) on demand.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leafPid, processTree } from './proc.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

export interface Started {
  port: number;
  /** The launcher's pid; the work happens in its tree. */
  pid: number;
  /** The process doing the work. */
  workerPid: number;
  output(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Ready when it logs "listening" with its port, or, given `port`, when GET /healthz answers. */
export async function startTs(script: string, env: Record<string, string>, port?: number): Promise<Started> {
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") reaches the server's node through tsx.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [TSX, ...nodeArgs, join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (port === undefined) return attach(child, script, /"port":(\d+)[^\n]*"msg":"listening"|"msg":"listening","port":(\d+)/);
  const started = await attach(child, script, healthy(port));
  return { ...started, port, workerPid: leafPid(started.pid) };
}

function healthy(port: number): () => Promise<number | null> {
  return async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.ok ? port : null;
    } catch {
      return null;
    }
  };
}

export async function startBinary(command: string, args: string[], ready: RegExp, port: number): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const started = await attach(child, command, ready);
  return { ...started, port };
}

async function attach(child: ChildProcess, name: string, ready: RegExp | (() => Promise<number | null>)): Promise<Started> {
  live.add(child);
  let output = '';
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    // BENCH_START_SECONDS: a loaded machine starts servers (and several workers) slowly.
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${output}`)), Number(process.env.BENCH_START_SECONDS ?? 30) * 1000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 100_000) output = output.slice(-50_000);
      const match = typeof ready === 'function' ? null : ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1] ?? match[2] ?? 0));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    if (typeof ready === 'function') {
      const poll = async () => {
        if (child.exitCode !== null) return;
        const port = await ready();
        if (port !== null) {
          clearTimeout(timer);
          resolve(port);
        } else setTimeout(poll, 100);
      };
      void poll();
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready:\n${output}`));
    });
  });
  const pid = child.pid as number;
  return {
    port,
    pid,
    workerPid: leafPid(pid),
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const tree = processTree(pid);
      child.kill('SIGTERM');
      const timer = setTimeout(() => killTree(tree), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Bounds a run: past `minutes`, logs "<label>, stopping everything", stops
 * everything started and exits 2. With `onSigint`, Ctrl-C stops everything
 * too (exit 130).
 */
export function boundRun(minutes: number, label: string, options: { onSigint?: boolean } = {}): void {
  setTimeout(async () => {
    console.error(`${label}, stopping everything`);
    await stopEverything();
    process.exit(2);
  }, minutes * 60_000).unref();
  if (options.onSigint) {
    process.on('SIGINT', async () => {
      await stopEverything();
      process.exit(130);
    });
  }
}

/** Kills whatever is still running and removes temp folders: the last step of every run. */
export async function stopEverything(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          killTree(processTree(child.pid as number));
        }),
    ),
  );
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** SIGKILL to a launcher and its children, which a launcher's death would orphan. */
function killTree(pids: number[]): void {
  for (const pid of pids.reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
