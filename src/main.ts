// Process entry: configuration, start, and a clean drain on SIGTERM/SIGINT.
import { createRuntime, type Runtime } from './app.ts';
import { ConfigError, loadConfig, StartupError } from './config.ts';
import { createLogger } from './ops/logger.ts';

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
  const logger = createLogger(config.logLevel);
  let address: Awaited<ReturnType<Runtime['start']>>;
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, logger);
    address = await runtime.start();
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    console.error(`Cannot start: ${error.message}`);
    process.exit(78); // EX_CONFIG: the settings do not work on this machine
  }
  // Before anything says "listening": a supervisor may send SIGTERM the moment it reads it.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    runtime
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const local = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  logger.info(
    { port: address.port, store: runtime.store.kind, bus: runtime.bus.kind, url: local },
    'listening',
  );
  if (config.generatedToken) {
    const token = config.publisherTokens[0];
    process.stderr.write(
      `\nNo PUBLISHER_TOKENS set: this run accepts the publisher token\n\n    ${token}\n\nPublish a first item:\n\n` +
        `    curl -X POST ${local}/api/v1/items \\\n      -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' \\\n` +
        `      -d '{"headline":"Hello from the newsroom","topics":["world"],"priority":"bulletin"}'\n\n` +
        `Reader page: ${local}/   Feeds: ${local}/feeds/all.rss\n\n`,
    );
  }

}

// Configuration and start-up errors have exited (78) above: anything here is unexpected.
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
