import pino from 'pino';

export type Logger = pino.Logger;

/** JSON lines on stdout, each written as it is made. */
export function createLogger(level: pino.LevelWithSilent): Logger {
  return pino({ level, base: { service: 'newswire' }, timestamp: isoTimeCached });
}

let stampedAt = 0;
let stamp = '';

/** pino's ISO time, made once per millisecond: under load many lines share one. */
function isoTimeCached(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}
