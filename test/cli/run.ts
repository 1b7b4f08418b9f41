// Runs the `newswire` command as a real process, as a desk or a script would.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from '../support/wait.ts';

export const CLI = fileURLToPath(new URL('../../bin/newswire.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

function environment(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env };
}

/** Runs one command to its end; stdin is the given text, or closed. */
export function run(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: environment(env), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(stdin);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A command that keeps running (tail): its output so far, and a way to stop it. */
export interface Follower {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  lines(): string[];
  waitFor<T>(check: () => T | undefined | false | null, what: string, timeoutMs?: number): Promise<T>;
  /** SIGINT (Ctrl-C) and wait for the exit code. */
  interrupt(): Promise<number | null>;
}

export function follow(args: string[], env: Record<string, string>): Follower {
  const child = spawn(process.execPath, [CLI, ...args], { env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.split('\n').filter(Boolean),
    waitFor: (check, what, timeoutMs = 15_000) =>
      until(check, what, timeoutMs).catch((error: Error) => {
        throw new Error(`${error.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      }),
    async interrupt() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

/** Ends every command still running (a failed test must not leave one behind). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
