// Runs the `newswire` command as a real process, as a desk or a script would.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killAll, type TestServer } from '../support/server.ts';
import { until } from '../support/wait.ts';

export const CLI = fileURLToPath(new URL('../../bin/newswire.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** NEWSWIRE_URL and NEWSWIRE_KEY for `server`, as a desk sets them. */
export function cliEnv(server: Pick<TestServer, 'url' | 'token'>): Record<string, string> {
  return { NEWSWIRE_URL: server.url, NEWSWIRE_KEY: server.token };
}

/** Starts the command with its output collected; `stdin` is written and closed, or null for none. */
function start(args: string[], env: Record<string, string>, stdin: string | null) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  if (stdin !== null) child.stdin?.end(stdin);
  const closed = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output, closed };
}

/** Runs one command to its end; stdin is the given text, or closed. */
export async function run(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const { output, closed } = start(args, env, stdin);
  const code = await closed;
  return { code, ...output };
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
  const { child, output, closed } = start(args, env, null);
  return {
    process: child,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    lines: () => output.stdout.split('\n').filter(Boolean),
    waitFor: (check, what, timeoutMs = 15_000) =>
      until(check, what, timeoutMs).catch((error: Error) => {
        throw new Error(`${error.message}\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`);
      }),
    async interrupt() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return closed;
    },
  };
}

/** Ends every command still running (a failed test must not leave one behind). */
export async function stopAll(): Promise<void> {
  await killAll(running);
}
