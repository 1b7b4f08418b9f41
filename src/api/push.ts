// Readers' push subscriptions: the browser's PushSubscription with the
// reader's choices (topics, and the least urgent priority that may
// interrupt them). Anonymous, as reading is; limited per address by the
// edge, bounded in number, and every endpoint checked as an untrusted URL.
import { Hono } from 'hono';
import { z } from 'zod';
import { PRIORITIES, shortHash, topicSchema } from '../domain/item.ts';
import { type OutboundPolicy, urlProblem } from '../outbound/fetch.ts';
import type { Outbox } from '../outbound/outbox.ts';
import type { PushSubscriptionData } from '../outbound/push.ts';
import { fieldErrors, invalid, problem } from './errors.ts';
import { readJson } from './json.ts';

export interface PushApiOptions {
  outbox: Outbox;
  publicKey: string;
  policy: OutboundPolicy;
  maxSubscriptions: number;
  /** Topics one subscription may name. */
  maxTopics: number;
}

/** Base64url of exactly `bytes` bytes. */
const base64url = (bytes: number, what: string) =>
  z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `must be base64url (${what})`)
    .refine((value) => Buffer.from(value, 'base64url').length === bytes, `must be ${bytes} bytes (${what})`);

/** The bodies of `POST` and `DELETE /push/subscriptions` (exported for /openapi.json). */
export function pushSubscriptionSchemas(options: Pick<PushApiOptions, 'policy' | 'maxTopics'>) {
  const endpoint = z
    .string()
    .max(2_048, 'must be at most 2,048 characters')
    .superRefine((value, ctx) => {
      const why = urlProblem(value, options.policy);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    });
  const subscribe = z.strictObject({
    subscription: z.object({
      endpoint,
      expirationTime: z.number().nullable().optional(),
      keys: z.object({ p256dh: base64url(65, 'an uncompressed P-256 public key'), auth: base64url(16, 'the auth secret') }),
    }),
    topics: z.array(topicSchema).max(options.maxTopics, `may name at most ${options.maxTopics} topics`).default([]),
    minPriority: z.enum(PRIORITIES).default('bulletin'),
  });
  const unsubscribe = z.strictObject({ endpoint: z.string().max(2_048) });
  return { subscribe, unsubscribe };
}

export function pushApi(options: PushApiOptions): Hono {
  const api = new Hono();
  const { subscribe: subscribeSchema, unsubscribe: unsubscribeSchema } = pushSubscriptionSchemas(options);

  api.get('/push/key', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.json({ publicKey: options.publicKey });
  });

  api.post('/push/subscriptions', async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = subscribeSchema.safeParse(body);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    const { subscription, topics, minPriority } = parsed.data;
    const data: PushSubscriptionData = { keys: subscription.keys, topics: [...new Set(topics)].sort(), minPriority };
    const id = shortHash(subscription.endpoint);
    const record = { id, target: subscription.endpoint, data: data as unknown as Record<string, unknown> };
    if (subscription.expirationTime) Object.assign(record, { expiresMs: subscription.expirationTime });
    if (!(await options.outbox.subscribe('push', record, options.maxSubscriptions))) {
      c.header('Retry-After', '3600');
      return problem(c, 503, 'too-many-subscriptions', 'this server takes no more push subscriptions now');
    }
    return c.json({ id, topics: data.topics, minPriority }, 201);
  });

  api.delete('/push/subscriptions', async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = unsubscribeSchema.safeParse(body);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    // Knowing the endpoint (a secret of the browser) is what allows removing it.
    const removed = await options.outbox.unsubscribe('push', shortHash(parsed.data.endpoint));
    return removed ? c.json({ removed: true }) : problem(c, 404, 'not-found', 'no subscription with this endpoint');
  });
  return api;
}
