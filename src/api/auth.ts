// Bearer tokens for the newsroom API, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
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

export function requireToken(tokens: readonly string[]): MiddlewareHandler<AuthEnv> {
  const check = tokenChecker(tokens);
  return async (c, next) => {
    const found = check(c.req.header('authorization'));
    if (found === 'missing') {
      c.header('WWW-Authenticate', 'Bearer realm="newsroom"');
      return problem(c, 401, 'unauthorized', 'send "Authorization: Bearer <token>" with a publisher token');
    }
    if (found === 'invalid') {
      c.header('WWW-Authenticate', 'Bearer realm="newsroom", error="invalid_token"');
      return problem(c, 403, 'forbidden', 'this token may not publish');
    }
    c.set('tokenId', found.tokenId);
    await next();
  };
}

/** Fixed one-minute windows per token: enough to stop a runaway script. */
export function rateLimit(perMinute: number): MiddlewareHandler<AuthEnv> {
  const windows = new Map<string, { start: number; count: number }>();
  return async (c, next) => {
    const key = c.get('tokenId');
    const now = Date.now();
    let window = windows.get(key);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, count: 0 };
      windows.set(key, window);
    }
    if (++window.count > perMinute) {
      const retryAfter = Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000));
      c.header('Retry-After', String(retryAfter));
      return problem(c, 429, 'rate-limited', `at most ${perMinute} writes per minute per token`);
    }
    await next();
  };
}
