// Bearer tokens for the newsroom API: PUBLISHER_TOKENS (compared in constant
// time, every action) and publisher keys from the store (found by the hash of
// the token in each process's key ring). Failures are logged (never the
// token), counted, and an address that keeps failing is refused for a while,
// so a token cannot be guessed at speed. What a key may do is checked after:
// its actions (requireAction) and its topics (forbiddenTopics).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { WindowLimiter } from '../edge/limits.ts';
import { environmentPrincipal, type KeyAction, type Principal, topicsOutside } from '../keys/keys.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import { problem } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

export type AuthEnv = { Variables: { tokenId: string; principal: Principal } };

/** Where stored publisher keys are looked up by the SHA-256 (hex) of their token: memory only. */
export interface KeyLookup {
  lookup(hash: string): Principal | undefined;
}

/**
 * Who an Authorization header speaks for: a PUBLISHER_TOKENS entry
 * (`token-N`, every action) or a live stored key, or why there is none
 * ('missing' or 'invalid').
 */
export function principalChecker(
  tokens: readonly string[],
  keys?: KeyLookup,
): (header: string | undefined) => { tokenId: string; principal: Principal } | 'missing' | 'invalid' {
  const known = tokens.map((token, index) => ({ digest: digest(token), principal: environmentPrincipal(index) }));
  return (header) => {
    const match = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!match) return 'missing';
    const offered = digest(match[1] as string);
    // Compare against every token, so timing does not tell which one matched.
    let found: Principal | undefined;
    for (const token of known) if (timingSafeEqual(offered, token.digest)) found ??= token.principal;
    found ??= keys?.lookup(offered.toString('hex'));
    return found ? { tokenId: found.id, principal: found } : 'invalid';
  };
}

export interface AuthOptions {
  tokens: readonly string[];
  /** Stored publisher keys (the key ring); without it only `tokens` are known. */
  keys?: KeyLookup;
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
  check(c: Context): { tokenId: string; principal: Principal } | null;
  /** The guard, then the action: what a route that only some keys may use puts in front of its handler. */
  require(action: KeyAction): [MiddlewareHandler<AuthEnv>, MiddlewareHandler<AuthEnv>];
  /**
   * For a credential that is not a bearer token (a signed body), on the same
   * budget: the 429 to answer while the address is refused, or null; and
   * `failed` to count a bad one.
   */
  refused(c: Context, retryWith: string): Response | null;
  failed(c: Context, reason: 'missing' | 'invalid'): void;
}

export function tokenGuard(options: AuthOptions): TokenGuard {
  const check = principalChecker(options.tokens, options.keys);
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

  /** 429 while the address is refused: `retryWith` names what to come back with. */
  const refused = (c: Context, address: string, retryWith: string): Response | null => {
    const blocked = refusal(c, address);
    if (blocked === null) return null;
    c.header('Retry-After', String(Math.max(1, Math.ceil(blocked / 1000))));
    return problem(c, 429, 'too-many-auth-failures', `too many failed attempts from this address: wait and retry with ${retryWith}`);
  };

  const middleware: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const address = options.addressOf(c);
    const refusedNow = refused(c, address, 'a valid token');
    if (refusedNow) return refusedNow;
    const found = check(c.req.header('authorization'));
    if (typeof found === 'object') {
      c.set('tokenId', found.tokenId);
      c.set('principal', found.principal);
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
    require: (action) => [middleware, requireAction(action)],
    refused: (c, retryWith) => refused(c, options.addressOf(c), retryWith),
    failed: (c, reason) => failed(c, options.addressOf(c), reason),
  };
}

/** After the guard: 403 `forbidden-action` unless the key may do `action`. */
export function requireAction(action: KeyAction): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal?.actions.includes(action)) {
      return problem(
        c,
        403,
        'forbidden-action',
        `the key "${principal?.name ?? 'unknown'}" may not ${action}: it needs the "${action}" action`,
        { action },
      );
    }
    await next();
  };
}

/**
 * 403 `forbidden-topic` when the key is limited to topics and `topics` (an
 * item's, new or old) names others; null when it may touch them all.
 */
export function forbiddenTopics(c: Context<AuthEnv>, topics: readonly string[]): Response | null {
  const principal = c.get('principal');
  const outside = principal ? topicsOutside(principal, topics) : [];
  return outside.length === 0 ? null : forbiddenTopicsAnswer(c, outside);
}

/** The 403 `forbidden-topic` naming the topics outside the key's. */
export function forbiddenTopicsAnswer(c: Context<AuthEnv>, outside: readonly string[]): Response {
  const principal = c.get('principal');
  return problem(
    c,
    403,
    'forbidden-topic',
    `the key "${principal.name}" may not touch ${outside.length === 1 ? 'the topic' : 'the topics'} ${outside.map((t) => `"${t}"`).join(', ')}: it is limited to ${(principal.topics ?? []).join(', ')}`,
    { topics: outside },
  );
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
