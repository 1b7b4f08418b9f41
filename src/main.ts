// Process entry: configuration, start, and a clean drain on SIGTERM/SIGINT.
// With WORKERS > 1 this process becomes the primary of a cluster
// (src/cluster/primary.ts) and each worker runs the server below.
import cluster from 'node:cluster';
import type { Runtime } from './app.ts';
import { printTokenBanner, runPrimary } from './cluster/primary.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './ops/logger.ts';
import { drainOnSignals, exitOnStartupError, localUrl } from './ops/process.ts';

/** How long a worker keeps answering the primary after its server has closed. */
const WORKER_LINGER_MS = 250;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  if (cluster.isPrimary && config.workers > 1) return runPrimary(config, createLogger(config.logLevel));
  const worker = cluster.worker;
  const logger = worker ? createLogger(config.logLevel).child({ worker: worker.id }) : createLogger(config.logLevel);
  let address: Awaited<ReturnType<Runtime['start']>>;
  let runtime: Runtime;
  try {
    // Loaded here, not above: a primary never serves and does without the whole server.
    const { createRuntime } = await import('./app.ts');
    runtime = await createRuntime(config, logger);
    // Behind one port a scrape reaches any worker: its series say which.
    if (worker) runtime.metrics.registry.setDefaultLabels({ worker: String(worker.id) });
    address = await runtime.start();
  } catch (error) {
    exitOnStartupError(error);
  }
  // A worker lingers a moment after its server closed: a connection the primary
  // handed over just before is refused back to it (and given to another worker)
  // only while this process still reads its messages; after exit it would hang.
  drainOnSignals(logger, 'draining', async () => {
    await runtime.stop();
    if (worker) await new Promise((resolve) => setTimeout(resolve, WORKER_LINGER_MS));
  });
  const local = localUrl(address);
  // A worker's port is the primary's: the primary says "listening" once all of them do.
  logger.info(
    { port: address.port, store: runtime.store.kind, bus: runtime.bus.kind, url: local, pid: process.pid },
    worker ? 'worker listening' : 'listening',
  );
  if (config.generatedToken && !worker) printTokenBanner(config.publisherTokens[0] ?? '', local);
}

// Configuration and start-up errors have exited (78) above: anything here is unexpected.
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
