// Idempotency-Key on the newsroom's POSTs: a retry with the same key and the
// same body gets the first answer again, with another body a 409. A key is
// the publisher key's own (two tools never collide), kept for a day.
//
// A publish without an id takes one made from the key, so the store's own
// idempotence by id covers the case this table cannot: a write whose answer
// was lost (503 write-outcome-unknown) lets its key go, and the retry finds
// the item there (200 "unchanged") or writes it (201), never twice.
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import type { AuthEnv } from '../api/auth.ts';
import { invalid, problem } from '../api/errors.ts';
import { shortHash } from '../domain/item.ts';
import { hashToken } from '../keys/keys.ts';
import type { Logger } from '../ops/logger.ts';
import type { IdempotencyRecords } from './records.ts';

/** How long a finished key's answer is kept. */
const IDEMPOTENCY_KEEP_MS = 24 * 3_600_000;
/** How long a key is held by a request that is still running (or died running). */
const LEASE_MS = 10_000;
const RELEASE_RETRY_MS = 100;
/** The header: 1 to 255 visible ASCII characters but `"`, bare or as a quoted string (RFC 8941). */
export const idempotencyKeySchema = z.string().regex(/^(?:[\x21\x23-\x7e]{1,255}|"[\x21\x23-\x7e]{1,255}")$/);

export type IdempotencyEnv = AuthEnv & { Variables: { stored?: boolean; idempotentId?: string } };

/** The key the header carries, without its quotes; null if malformed. */
function parseIdempotencyKey(header: string): string | null {
  const trimmed = header.trim();
  if (!idempotencyKeySchema.safeParse(trimmed).success) return null;
  return trimmed.startsWith('"') ? trimmed.slice(1, -1) : trimmed;
}

/** The id a publish without one takes under this key: the same on every retry, on every process. */
function idFromKey(scope: string): string {
  return `k-${scope.slice(0, 32)}`;
}

export function idempotency(records: IdempotencyRecords, logger: Logger): MiddlewareHandler<IdempotencyEnv> {
  return async (c, next) => {
    const header = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || header === undefined) return next();
    const key = parseIdempotencyKey(header);
    if (key === null) {
      return invalid(c, [{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters without quotes (a UUID, for example)' }]);
    }
    // The key is kept hashed, as tokens are; the request by a fingerprint of its path and bytes.
    const scope = hashToken(`${c.get('principal').id}\n${key}`);
    const fingerprint = shortHash(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
    // A store out of reach throws StoreUnavailableError: the app answers it (503, nothing taken, nothing saved).
    const held = await records.claim(scope, fingerprint, LEASE_MS);
    if (held) {
      if (held.fingerprint !== fingerprint) {
        return problem(c, 409, 'idempotency-key-reused', 'this Idempotency-Key was used for another request (path or body): a new request needs a new key');
      }
      if (!held.answer) {
        c.header('Retry-After', '1');
        return problem(c, 409, 'idempotency-key-in-use', 'a request with this Idempotency-Key is still running: retry in a moment to get its answer');
      }
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' };
      if (held.answer.location) headers.Location = held.answer.location;
      return c.body(held.answer.body, held.answer.status as ContentfulStatusCode, headers);
    }
    c.set('idempotentId', idFromKey(scope));
    try {
      await next();
    } finally {
      await settle(c, records, scope, fingerprint, logger);
    }
  };
}

/** Keeps the answer of a write the store decided; lets the key go otherwise, so a retry runs again. */
async function settle(c: Context<IdempotencyEnv>, records: IdempotencyRecords, scope: string, fingerprint: string, logger: Logger): Promise<void> {
  const { res } = c;
  if (c.get('stored') && res.status < 500 && !c.error) {
    const location = res.headers.get('location');
    const answer = { status: res.status, body: await res.clone().text(), ...(location ? { location } : {}) };
    try {
      await records.finish(scope, fingerprint, answer, IDEMPOTENCY_KEEP_MS);
    } catch (error) {
      // Held until its lease ends; then a retry runs again and the store, idempotent by id, answers it.
      logger.warn({ err: error }, 'idempotency key: the answer could not be kept');
    }
    return;
  }
  letGo(records, scope, fingerprint, logger, Date.now() + LEASE_MS);
}

/**
 * Lets the key go, trying again while the store is out of reach (the answer
 * was just lost with the connection): a retry after the 503 should run, not
 * wait out the lease. The answer does not wait for it.
 */
function letGo(records: IdempotencyRecords, scope: string, fingerprint: string, logger: Logger, until: number): void {
  records.release(scope, fingerprint).catch((error: unknown) => {
    if (Date.now() + RELEASE_RETRY_MS >= until) {
      logger.warn({ err: error }, 'idempotency key could not be let go: held until its lease ends');
      return;
    }
    setTimeout(() => letGo(records, scope, fingerprint, logger, until), RELEASE_RETRY_MS).unref();
  });
}
