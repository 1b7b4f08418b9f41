// Outbound deliveries, put together: the push and WebSub channels, their
// dispatcher, and their HTTP routes.
import type { Hono } from 'hono';
import { pushApi } from '../api/push.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Store } from '../store/store.ts';
import { Dispatcher } from './dispatcher.ts';
import type { OutboundPolicy } from './fetch.ts';
import type { Outbox } from './outbox.ts';
import { PushCrypto, PushDriver, vapidKeys } from './push.ts';
import { WebSubDriver, type WebSubOptions, webSubHub } from './websub.ts';

export interface OutboundDeps {
  config: Config;
  store: Store;
  outbox: Outbox;
  feeds: WebSubOptions['feeds'];
  metrics: Metrics;
  logger: Logger;
  /** Absolute base of our URLs. */
  baseUrl: () => string;
  deliveredSeq: () => number;
}

export interface Outbound {
  dispatcher: Dispatcher;
  /** Push encryption off the main thread. */
  crypto: PushCrypto;
  /** /api/v1/push/… */
  pushApi: Hono;
  /** /websub */
  hub: Hono;
}

export async function createOutbound(deps: OutboundDeps): Promise<Outbound> {
  const { config, outbox, metrics, logger } = deps;
  const settings = config.outbound;
  const policy: OutboundPolicy = { allowHosts: new Set(settings.allowHosts), timeoutMs: settings.timeoutMs, maxResponseBytes: 64 * 1024 };
  // web-push wants a mailto: or https: subject; an http PUBLIC_URL (development) cannot be one.
  const subject = config.publicUrl?.startsWith('https://') ? config.publicUrl : 'mailto:newsroom@localhost';
  const keys = await vapidKeys(outbox, settings.vapid, subject);
  const crypto = new PushCrypto((error, inThread) =>
    logger.warn({ err: error }, inThread ? 'push encryption worker keeps failing: encrypting on the main thread from now on' : 'push encryption worker lost: pushes in it are retried, another worker starts'),
  );
  const webSub: WebSubOptions = {
    outbox,
    feeds: deps.feeds,
    policy,
    logger,
    baseUrl: deps.baseUrl,
    // The dispatcher hears of every event fanned out here.
    reached: (seq, withinMs) => dispatcher.reached(seq, withinMs),
    leaseSeconds: settings.webSubLeaseSeconds,
    maxSubscriptions: settings.webSubMaxSubscriptions,
  };
  const dispatcher = new Dispatcher({
    store: deps.store,
    outbox,
    drivers: [new PushDriver({ keys, policy, baseUrl: deps.baseUrl, crypto }), new WebSubDriver(webSub)],
    metrics,
    logger,
    concurrency: settings.concurrency,
    deliveredSeq: deps.deliveredSeq,
  });
  return {
    dispatcher,
    crypto,
    pushApi: pushApi({
      outbox,
      publicKey: keys.publicKey,
      policy,
      maxSubscriptions: settings.pushMaxSubscriptions,
      maxTopics: config.limits.wsMaxTopics,
    }),
    hub: webSubHub(webSub),
  };
}
