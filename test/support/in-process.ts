// A real server in the test's own process, on a free loopback port and a
// fresh data folder: for suites that send tens of thousands of requests.
import { createRuntime, type Runtime } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { tempDir, TOKEN } from './server.ts';

export async function startInProcess(env: Record<string, string>): Promise<{ runtime: Runtime; port: number }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: tempDir(),
    PUBLISHER_TOKENS: TOKEN,
    ...env,
  });
  const runtime = await createRuntime(config, createLogger('silent'));
  const address = await runtime.start();
  return { runtime, port: address.port };
}
