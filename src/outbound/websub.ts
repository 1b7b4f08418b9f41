// A WebSub hub (W3C Recommendation) for our own feeds: feed readers
// subscribe a callback to a feed URL, the hub checks they meant it, and on
// every event that changes the feed it POSTs the new document to them,
// signed with their secret. Callbacks are untrusted URLs (see fetch.ts).
import { createHmac, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { eventTopics, type NewsEvent } from '../domain/event.ts';
import { shortHash } from '../domain/item.ts';
import type { FeedFormat } from '../feeds/render.ts';
import { parseName } from '../feeds/routes.ts';
import type { Logger } from '../ops/logger.ts';
import { invalid, problem } from '../api/errors.ts';
import type { ChannelDriver, SendResult } from './dispatcher.ts';
import { type OutboundPolicy, OutboundRefused, outboundRequest, urlProblem } from './fetch.ts';
import type { Delivery, Outbox, PlannedDelivery, Subscription } from './outbox.ts';

export interface WebSubData {
  topic: string;
  format: FeedFormat;
  /** The feed URL the subscriber named (hub.topic). */
  feedUrl: string;
  secret?: string;
}

interface FeedSource {
  get(topic: string, format: FeedFormat): Promise<{ bytes: Buffer; contentType: string; links: string }>;
}

export interface WebSubOptions {
  outbox: Outbox;
  feeds: FeedSource;
  policy: OutboundPolicy;
  logger: Logger;
  /** Absolute base of our URLs (PUBLIC_URL). */
  baseUrl: () => string;
  /**
   * True once this process has fanned out `seq` (a feed rendered here then
   * reflects the log up to it), false when it has not within `withinMs`.
   */
  reached: (seq: number, withinMs: number) => Promise<boolean>;
  leaseSeconds: { default: number; max: number };
  maxSubscriptions: number;
}

/** How long a send waits for this process to fan out the event it is about. */
const CATCH_UP_MS = 2_000;

export class WebSubDriver implements ChannelDriver {
  readonly channel = 'websub' as const;
  readonly maxAttempts = 8;
  readonly maxAgeMs = 3_600_000;

  constructor(private readonly options: WebSubOptions) {}

  async plan(event: NewsEvent, subscriptions: readonly Subscription[]) {
    const touched = new Set(['all', ...eventTopics(event)]);
    const deliveries: PlannedDelivery[] = [];
    for (const subscription of subscriptions) {
      const data = subscription.data as unknown as WebSubData;
      if (!touched.has(data.topic)) continue;
      const name = `${data.topic}.${data.format}`;
      // A burst of events is one POST of the latest document to each subscriber.
      deliveries.push({ subscriptionId: subscription.id, payload: name, coalesce: name });
    }
    return { deliveries, notes: [] };
  }

  async send(delivery: Delivery, subscription: Subscription): Promise<SendResult> {
    // The feed is rendered from what this process has fanned out. The bus brings
    // the event within milliseconds: wait for it here rather than in a retry's backoff.
    if (!(await this.options.reached(delivery.seq, CATCH_UP_MS))) return { outcome: 'retry' };
    const data = subscription.data as unknown as WebSubData;
    const feed = await this.options.feeds.get(data.topic, data.format);
    const headers: Record<string, string | number> = {
      'Content-Type': feed.contentType,
      'Content-Length': feed.bytes.length,
      Link: feed.links,
    };
    if (data.secret) headers['X-Hub-Signature'] = `sha256=${createHmac('sha256', data.secret).update(feed.bytes).digest('hex')}`;
    const response = await outboundRequest(subscription.target, { method: 'POST', headers, body: feed.bytes }, this.options.policy);
    if (response.status >= 200 && response.status < 300) return { outcome: 'sent' };
    if (response.status === 410) return { outcome: 'gone' };
    return { outcome: 'retry' };
  }
}

/** The hub endpoint: subscribe and unsubscribe requests, verified by a challenge to the callback. */
export function webSubHub(options: WebSubOptions): Hono {
  const hub = new Hono();
  let verifying = 0;
  const MAX_VERIFYING = 32;

  hub.post('/', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return problem(c, 415, 'unsupported-media-type', 'send hub.* parameters as application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(await c.req.text());
    const mode = form.get('hub.mode');
    const topic = form.get('hub.topic') ?? '';
    const callback = form.get('hub.callback') ?? '';
    const secret = form.get('hub.secret') ?? undefined;
    const fields: { path: string; message: string }[] = [];
    if (mode !== 'subscribe' && mode !== 'unsubscribe') fields.push({ path: 'hub.mode', message: 'must be subscribe or unsubscribe' });
    const base = options.baseUrl();
    const name = topic.startsWith(`${base}/feeds/`) ? parseName(topic.slice(base.length + 7)) : null;
    if (!name) fields.push({ path: 'hub.topic', message: `must be one of this server's feeds, ${base}/feeds/{topic}.rss|.atom|.json` });
    const callbackProblem = callback.length > 2_048 ? 'must be at most 2,048 characters' : urlProblem(callback, options.policy);
    if (callbackProblem) fields.push({ path: 'hub.callback', message: callbackProblem });
    if (secret !== undefined && (Buffer.byteLength(secret) >= 200 || secret.length === 0)) {
      fields.push({ path: 'hub.secret', message: 'must be 1 to 199 bytes' });
    }
    const askedLease = Number(form.get('hub.lease_seconds') ?? options.leaseSeconds.default);
    if (!Number.isFinite(askedLease) || askedLease <= 0) fields.push({ path: 'hub.lease_seconds', message: 'must be a positive number of seconds' });
    if (fields.length || !name || (mode !== 'subscribe' && mode !== 'unsubscribe')) return invalid(c, fields);
    if (verifying >= MAX_VERIFYING) {
      c.header('Retry-After', '10');
      return problem(c, 503, 'busy', 'too many subscriptions are being verified: retry later');
    }
    const lease = Math.min(Math.max(60, Math.round(askedLease)), options.leaseSeconds.max);
    const data: WebSubData = { topic: name.topic, format: name.format, feedUrl: topic };
    if (secret) data.secret = secret;
    verifying++;
    void verify(options, mode, callback, data, lease).finally(() => verifying--);
    return c.body(null, 202);
  });
  return hub;
}

/** One subscription per (callback, feed): subscribing again renews it. */
const webSubId = (callback: string, feedUrl: string) => shortHash(`${callback}\n${feedUrl}`);

/** Verification of intent: the callback must echo our challenge; only then does the request take effect. */
async function verify(options: WebSubOptions, mode: 'subscribe' | 'unsubscribe', callback: string, data: WebSubData, lease: number): Promise<void> {
  const challenge = randomBytes(16).toString('base64url');
  const url = new URL(callback);
  url.searchParams.set('hub.mode', mode);
  url.searchParams.set('hub.topic', data.feedUrl);
  url.searchParams.set('hub.challenge', challenge);
  if (mode === 'subscribe') url.searchParams.set('hub.lease_seconds', String(lease));
  const id = webSubId(callback, data.feedUrl);
  try {
    const response = await outboundRequest(url.toString(), { method: 'GET', headers: { Accept: 'text/plain' } }, options.policy);
    if (response.status < 200 || response.status >= 300 || response.body.trim() !== challenge) {
      options.logger.info({ callback, mode, status: response.status }, 'WebSub verification refused by the subscriber');
      return;
    }
    if (mode === 'unsubscribe') {
      await options.outbox.unsubscribe('websub', id);
    } else {
      const subscription = { id, target: callback, data: data as unknown as Record<string, unknown>, expiresMs: Date.now() + lease * 1000 };
      if (!(await options.outbox.subscribe('websub', subscription, options.maxSubscriptions))) {
        options.logger.warn({ callback }, 'WebSub subscription refused: the hub holds as many as it may');
        return;
      }
    }
    options.logger.info({ callback, mode, feed: data.feedUrl, lease }, 'WebSub subscription verified');
  } catch (error) {
    const refused = error instanceof OutboundRefused;
    options.logger.info({ callback, mode, err: refused ? error.message : error }, 'WebSub verification failed');
  }
}
