// Bearer tokens for the newsroom API, compared in constant time. Failures
// are logged (never the token), counted, and an address that keeps failing
// is refused for a while, so a token cannot be guessed at speed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { WindowLimiter } from '../edge/limits.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import { problem } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

export type AuthEnv = { Variables: { tokenId: string } };

/**
 * Which publisher token an Authorization header carries: its id, or why
 * there is none ('missing' or 'invalid').
 */
export function tokenChecker(tokens: readonly string[]): (header: string | undefined) => { tokenId: string } | 'missing' | 'invalid' {
  const known = tokens.map((token, index) => ({ digest: digest(token), id: `token-${index + 1}` }));
  return (header) => {
    const match = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!match) return 'missing';
    const offered = digest(match[1] as string);
    // Compare against every token, so timing does not tell which one matched.
    let found: string | undefined;
    for (const token of known) if (timingSafeEqual(offered, token.digest)) found ??= token.id;
    return found ? { tokenId: found } : 'invalid';
  };
}

export interface AuthOptions {
  tokens: readonly string[];
  /** Failed attempts one address may make per minute before it is refused for the rest of it. */
  failuresPerMinute: number;
  /** The client's address (behind trusted proxies, the forwarded one). */
  addressOf(c: Context): string;
  metrics: Metrics;
  logger: Logger;
}

export function requireToken(options: AuthOptions): MiddlewareHandler<AuthEnv> {
  const check = tokenChecker(options.tokens);
  const failures = new WindowLimiter(options.failuresPerMinute, 60_000);
  const logged = new WindowLimiter(1, 60_000, 10_000);
  return async (c, next) => {
    const address = options.addressOf(c);
    const blocked = failures.blocked(address);
    if (blocked !== null) {
      options.metrics.authFailures.inc({ reason: 'refused' });
      if (logged.hit(address) === null) {
        options.logger.warn({ address, path: c.req.path }, 'refusing writes from an address that keeps failing authentication');
      }
      c.header('Retry-After', String(Math.max(1, Math.ceil(blocked / 1000))));
      return problem(c, 429, 'too-many-auth-failures', 'too many failed attempts from this address: wait and retry with a valid token');
    }
    const found = check(c.req.header('authorization'));
    if (typeof found === 'object') {
      c.set('tokenId', found.tokenId);
      await next();
      return;
    }
    failures.hit(address);
    options.metrics.authFailures.inc({ reason: found });
    options.logger.warn({ address, method: c.req.method, path: c.req.path, reason: found }, 'authentication failed');
    if (found === 'missing') {
      c.header('WWW-Authenticate', 'Bearer realm="newsroom"');
      return problem(c, 401, 'unauthorized', 'send "Authorization: Bearer <token>" with a publisher token');
    }
    c.header('WWW-Authenticate', 'Bearer realm="newsroom", error="invalid_token"');
    return problem(c, 403, 'forbidden', 'this token may not publish');
  };
}

/** Fixed one-minute windows per token: enough to stop a runaway script. */
export function rateLimit(perMinute: number): MiddlewareHandler<AuthEnv> {
  const windows = new WindowLimiter(perMinute, 60_000);
  return async (c, next) => {
    const wait = windows.hit(c.get('tokenId'));
    if (wait !== null) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(wait / 1000))));
      return problem(c, 429, 'rate-limited', `at most ${perMinute} writes per minute per token`);
    }
    await next();
  };
}
