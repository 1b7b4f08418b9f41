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

/**
 * One guard per set of tokens, shared by every route that reads a token:
 * failures anywhere count against the same budget per address, so no route
 * gives a guesser a budget of its own.
 */
export interface TokenGuard {
  /** Routes that need a publisher token: without a valid one, 401 or 403; 429 once the address has failed too often. */
  middleware: MiddlewareHandler<AuthEnv>;
  /**
   * Routes where a token only shows more (a held item): the token's id, or
   * null. No bearer token is no attempt and costs nothing; a wrong one counts
   * as a failure, as on any other route; a refused address gets null whatever
   * it sends.
   */
  check(c: Context): { tokenId: string } | null;
}

export function tokenGuard(options: AuthOptions): TokenGuard {
  const check = tokenChecker(options.tokens);
  const failures = new WindowLimiter(options.failuresPerMinute, 60_000);
  const logged = new WindowLimiter(1, 60_000, 10_000);

  /** Milliseconds until the address may try again, or null; each refusal is counted, and logged once a minute. */
  const refusal = (c: Context, address: string): number | null => {
    const blocked = failures.blocked(address);
    if (blocked !== null) {
      options.metrics.authFailures.inc({ reason: 'refused' });
      if (logged.hit(address) === null) {
        options.logger.warn({ address, path: c.req.path }, 'refusing writes from an address that keeps failing authentication');
      }
    }
    return blocked;
  };
  const failed = (c: Context, address: string, reason: 'missing' | 'invalid'): void => {
    failures.hit(address);
    options.metrics.authFailures.inc({ reason });
    options.logger.warn({ address, method: c.req.method, path: c.req.path, reason }, 'authentication failed');
  };

  const middleware: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const address = options.addressOf(c);
    const blocked = refusal(c, address);
    if (blocked !== null) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(blocked / 1000))));
      return problem(c, 429, 'too-many-auth-failures', 'too many failed attempts from this address: wait and retry with a valid token');
    }
    const found = check(c.req.header('authorization'));
    if (typeof found === 'object') {
      c.set('tokenId', found.tokenId);
      await next();
      return;
    }
    failed(c, address, found);
    if (found === 'missing') {
      c.header('WWW-Authenticate', 'Bearer realm="newsroom"');
      return problem(c, 401, 'unauthorized', 'send "Authorization: Bearer <token>" with a publisher token');
    }
    c.header('WWW-Authenticate', 'Bearer realm="newsroom", error="invalid_token"');
    return problem(c, 403, 'forbidden', 'this token may not publish');
  };

  return {
    middleware,
    check(c) {
      const found = check(c.req.header('authorization'));
      if (found === 'missing') return null;
      const address = options.addressOf(c);
      if (refusal(c, address) !== null) return null;
      if (found !== 'invalid') return found;
      failed(c, address, found);
      return null;
    },
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
