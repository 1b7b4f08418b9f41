// A real server in the test's own process, on a free loopback port and a
// fresh data folder: for suites that send tens of thousands of requests.
// Like startServer, it runs on the shared redis-server with TEST_BACKEND=redis.
import { afterAll, beforeAll } from 'vitest';
import { createRuntime, type Runtime } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { cleanup, TOKEN, tempDir, testBackendEnv } from './server.ts';

export async function startInProcess(env: Record<string, string>): Promise<{ runtime: Runtime; port: number }> {
  const dataDir = env.DATA_DIR ?? tempDir();
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    PUBLISHER_TOKENS: TOKEN,
    ...(await testBackendEnv(dataDir, env)),
    ...env,
  });
  const runtime = await createRuntime(config, createLogger('silent'));
  const address = await runtime.start();
  return { runtime, port: address.port };
}

/** The size and seed of a fuzz run: FUZZ_RUNS, and FUZZ_SEED to replay one (random when unset). */
export const FUZZ = {
  runs: Number(process.env.FUZZ_RUNS ?? 10_000),
  seed: Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31)),
  /** fast-check's parameters for one property. */
  params: () => ({ numRuns: FUZZ.runs, seed: FUZZ.seed, endOnFailure: true }),
};

/**
 * The in-process server of a fuzz file: before its tests, logs the seed
 * ("fuzz seed S (FUZZ_SEED=S replays it), N <what>") and starts it; after
 * them, stops it and cleans up. Read `runtime` and `port` in the tests.
 */
export function useFuzzServer(env: Record<string, string>, what: string): { readonly runtime: Runtime; readonly port: number } {
  let started: { runtime: Runtime; port: number } | undefined;
  beforeAll(async () => {
    console.log(`fuzz seed ${FUZZ.seed} (FUZZ_SEED=${FUZZ.seed} replays it), ${FUZZ.runs} ${what}`);
    started = await startInProcess(env);
  });
  afterAll(async () => {
    await started?.runtime.stop();
    await cleanup();
  });
  const get = () => {
    if (!started) throw new Error('the fuzz server starts in beforeAll');
    return started;
  };
  return {
    get runtime() {
      return get().runtime;
    },
    get port() {
      return get().port;
    },
  };
}
