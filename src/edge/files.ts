// How many connections a process can really hold: each is a file descriptor,
// and the open-files limit is hard. The store, logs, Redis and a burst of
// new connections need some of them too.
import { readFileSync } from 'node:fs';

/** The soft open-files limit of this process, or undefined where it cannot be read. */
export function openFilesLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!match || match[1] === 'unlimited') return undefined;
    return Number(match[1]);
  } catch {
    return undefined;
  }
}

export interface Ceilings {
  /** All sockets of the HTTP server (server.maxConnections). */
  sockets: number;
  /** WebSockets: room is left below it for plain HTTP requests (health checks, feeds). */
  webSockets: number;
}

/** Ceilings from an open-files limit, keeping headroom for everything else the process opens. */
export function ceilingsFor(limit: number | undefined): Ceilings {
  if (limit === undefined) return { sockets: 1_000_000, webSockets: 1_000_000 - 1_000 };
  const sockets = Math.max(64, limit - Math.max(128, Math.ceil(limit * 0.05)));
  const webSockets = Math.max(32, sockets - Math.max(64, Math.ceil(sockets * 0.05)));
  return { sockets, webSockets };
}
