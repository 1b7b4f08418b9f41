// Starts real server processes on free ports, each with its own data folder,
// and cleans up after them.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const TOKEN = 'test-publisher-token-0123456789';

export interface TestServer {
  url: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  token: string;
  process: ChildProcess;
  /** Everything the process wrote, for assertions and for debugging a failure. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** A new process on the same data folder and, if possible, the same port. */
  restart(extraEnv?: Record<string, string>): Promise<TestServer>;
}

const running = new Set<ChildProcess>();
const folders = new Set<string>();

export function tempDir(prefix = 'newswire-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.add(dir);
  return dir;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
  port?: number;
  /** Keep the data folder after stop (the caller removes it). */
  keepData?: boolean;
  /** How long to wait for "listening" (several workers start slower). */
  startTimeoutMs?: number;
  /** Another entry point than src/main.ts under tsx (the production build): node's arguments and folder. */
  command?: { args: string[]; cwd: string };
}

/**
 * TEST_BACKEND=redis: the shared redis-server's settings for a server on
 * `dataDir` (see backend.ts), unless `env` names a Redis of its own.
 */
export async function testBackendEnv(dataDir: string, env: Record<string, string> = {}): Promise<Record<string, string>> {
  if (process.env.TEST_BACKEND !== 'redis' || env.REDIS_URL || env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES) return {};
  return (await import('./backend.ts')).redisBackendEnv(dataDir);
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DATA_DIR: dataDir,
    PUBLISHER_TOKENS: TOKEN,
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_SECONDS: '3',
    ...(await testBackendEnv(dataDir, options.env)),
    ...options.env,
  };
  // tsx as a loader in this one process (as the Docker image runs it), not its CLI:
  // the CLI forks a second node, and a SIGKILL would leave that one running.
  const guard = join(ROOT, 'test/support/orphan-guard.js');
  const command = options.command ?? { args: ['--import', 'tsx', '--import', guard, join(ROOT, 'src/main.ts')], cwd: ROOT };
  const child = spawn(process.execPath, command.args, {
    cwd: command.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output}`)), options.startTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+).*"msg":"listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    dataDir,
    token: env.PUBLISHER_TOKENS?.split(',')[0] ?? TOKEN,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async restart(extraEnv = {}) {
      await server.stop();
      return startServer({ ...options, env: { ...options.env, ...extraEnv }, dataDir, port });
    },
  };
  return server;
}

/** SIGKILLs every process given and waits for each to exit (one already gone counts as exited). */
export async function killAll(children: Iterable<ChildProcess>): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Stops every server and removes every temp folder this worker made. */
export async function cleanup(): Promise<void> {
  await killAll(running);
  // Backend switch (TEST_BACKEND=redis): the shared redis-server goes too.
  if (process.env.TEST_BACKEND === 'redis') await (await import('./backend.ts')).stopRedisBackend();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  folders.clear();
}

/**
 * The JSON lines a server (and its workers) logged, parsed; with `msg`, only
 * those with that message. A line still being written is left out.
 */
export function logLines(server: Pick<TestServer, 'output'>, msg?: string): Record<string, any>[] {
  const lines: Record<string, any>[] = [];
  for (const line of server.output().split('\n').slice(0, -1)) {
    if (!line.startsWith('{') || (msg !== undefined && !line.includes(`"msg":${JSON.stringify(msg)}`))) continue;
    const parsed = JSON.parse(line) as Record<string, any>;
    if (msg === undefined || parsed.msg === msg) lines.push(parsed);
  }
  return lines;
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the newsroom API with the server's token (unless `token` is given). */
export async function api<T = Record<string, any>>(
  server: Pick<TestServer, 'url' | 'token'>,
  method: string,
  path: string,
  body?: unknown,
  init: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? server.token : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

let counter = 0;
/** A valid item with a fresh id; fields override. */
export function newItem(fields: Record<string, unknown> = {}): Record<string, any> {
  counter++;
  return {
    id: `test-${process.pid}-${Date.now().toString(36)}-${counter}`,
    headline: `Test headline ${counter}`,
    topics: ['world'],
    ...fields,
  };
}

/** Publishes a new item (fields override) and expects 201; returns the created item and its cursor. */
export async function publishOk(
  server: Pick<TestServer, 'url' | 'token'>,
  fields: Record<string, unknown> = {},
): Promise<{ item: Record<string, any>; cursor: string }> {
  const res = await api(server, 'POST', '/api/v1/items', newItem(fields));
  expect(res.status).toBe(201);
  return res.body as { item: Record<string, any>; cursor: string };
}
