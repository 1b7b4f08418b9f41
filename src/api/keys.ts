// Publisher keys over the API, for keys with the "admin" action: make one
// (its token is in this answer and never again), list them (never a token or
// a hash), revoke one. Every process sees a change within a second.
import { Hono } from 'hono';
import { ENVIRONMENT_KEY_ID, environmentPrincipal, KEY_ID_PATTERN, keyInputSchema, MAX_KEYS } from '../keys/keys.ts';
import type { KeyRing } from '../keys/ring.ts';
import type { Logger } from '../ops/logger.ts';
import { type AuthEnv, rateLimit, type TokenGuard } from './auth.ts';
import { fieldErrors, invalid, limitBody, problem } from './errors.ts';
import { readJson } from './json.ts';
import { requestIdOf } from './request-id.ts';

export interface KeysApiOptions {
  keys: KeyRing;
  /** The guard the items routes use: one failure budget per address. */
  guard: TokenGuard;
  logger: Logger;
  writesPerMinute: number;
  /** How many PUBLISHER_TOKENS there are: listed beside the stored keys, as `token-N`. */
  environmentKeys: number;
}

const KEY_BODY_BYTES = 16_384;

export function keysApi(options: KeysApiOptions): Hono<AuthEnv> {
  const { keys, guard, logger } = options;
  const api = new Hono<AuthEnv>();
  api.use('/keys', ...guard.require('admin'));
  api.use('/keys/*', ...guard.require('admin'));
  const limitWrites = rateLimit(options.writesPerMinute);
  const keyBody = limitBody(KEY_BODY_BYTES);

  api.post('/keys', limitWrites, keyBody, async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = keyInputSchema.safeParse(body);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    const made = await keys.create(parsed.data);
    if (!made) return problem(c, 409, 'too-many-keys', `the store holds ${MAX_KEYS} keys (revoked ones included): no more can be made`);
    // The key's name and id, never its token.
    logger.info({ action: 'create-key', id: made.key.id, name: made.key.name, actions: made.key.actions, by: c.get('principal').name, requestId: requestIdOf(c) }, 'key');
    c.header('Cache-Control', 'no-store');
    c.header('Location', `/api/v1/keys/${made.key.id}`);
    return c.json(made, 201);
  });

  // Every key that may write, the environment's full-power ones too (an admin must see them to trust the list).
  const environment = Array.from({ length: options.environmentKeys }, (_, index) => environmentPrincipal(index));
  api.get('/keys', async (c) => {
    c.header('Cache-Control', 'private, no-store');
    return c.json({ keys: await keys.list(), environment });
  });

  api.delete('/keys/:id', limitWrites, async (c) => {
    const id = c.req.param('id');
    if (ENVIRONMENT_KEY_ID.test(id)) {
      return problem(c, 404, 'not-found', 'keys from PUBLISHER_TOKENS are not in the store: remove the token from the environment to revoke it');
    }
    const key = KEY_ID_PATTERN.test(id) ? await keys.revoke(id) : null;
    if (!key) return problem(c, 404, 'not-found', 'no key with this id');
    logger.info({ action: 'revoke-key', id: key.id, name: key.name, by: c.get('principal').name, requestId: requestIdOf(c) }, 'key');
    return c.json({ key });
  });

  return api;
}
