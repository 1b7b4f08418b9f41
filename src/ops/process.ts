// What every server process does at its edges, worker, single process or
// the primary of a cluster alike: one drain on SIGTERM or SIGINT, and the
// local URL it says it listens on.

import { StartupError } from '../config.ts';
import type { Logger } from './logger.ts';

/**
 * SIGTERM and SIGINT run `drain` once, then exit 0 (1 if it failed). Set up
 * before the process says "listening": a supervisor may send SIGTERM the
 * moment it reads that line. `stopping` tells whether a signal came.
 */
export function drainOnSignals(logger: Logger, what: string, drain: () => Promise<unknown>): { readonly stopping: boolean } {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, what);
    drain()
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
  return {
    get stopping() {
      return stopping;
    },
  };
}

/** The URL a person on this machine opens for a server bound to `address` (any-address binds read as localhost). */
export function localUrl(address: { address?: string; port: number }): string {
  const host = !address.address || address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** A StartupError (settings that do not work on this machine) ends the start with its message and EX_CONFIG (78); anything else is thrown on. */
export function exitOnStartupError(error: unknown): never {
  if (!(error instanceof StartupError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  process.exit(78);
}
