// Web Push (RFC 8030, payloads encrypted per RFC 8291, VAPID per RFC 8292)
// for readers who asked to be alerted with the page closed. A published
// item that matches a reader's topics and is at least as urgent as they
// chose is one push; a correction is pushed again only when the editor
// asked; a kill replaces the alert (same Topic) on the devices that got it.
import { Worker } from 'node:worker_threads';
import webpush from 'web-push';
import type { NewsEvent } from '../domain/event.ts';
import type { Item, Priority } from '../domain/item.ts';
import type { ChannelDriver, SendResult } from './dispatcher.ts';
import { type OutboundPolicy, outboundRequest } from './fetch.ts';
import type { Delivery, Note, Outbox, PlannedDelivery, Subscription } from './outbox.ts';
import { type EncryptJob, encrypt, type PostedPushRequest, type PushRequest } from './push-crypto.js';

export interface PushChoices {
  /** Topics to be alerted of; empty: every topic. */
  topics: string[];
  /** The least urgent priority that may interrupt this reader. */
  minPriority: Priority;
}

export interface PushSubscriptionData extends PushChoices {
  keys: { p256dh: string; auth: string };
}

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** What the service worker shows. */
export interface PushMessage {
  kind: 'alert' | 'update' | 'withdrawn';
  id: string;
  /** The notification's tag and the push Topic: a later push for the story replaces the earlier one. */
  tag: string;
  title: string;
  body: string;
  url: string;
  priority?: Priority;
}

const RANK: Record<Priority, number> = { flash: 0, bulletin: 1, urgent: 2, routine: 3 };
/** How long a push service keeps an alert for an offline device, by priority. */
const TTL_SECONDS: Record<Priority, number> = { flash: 3_600, bulletin: 6 * 3_600, urgent: 12 * 3_600, routine: 24 * 3_600 };
/** A withdrawal's: as long as any alert it may replace. */
const WITHDRAWAL_TTL_SECONDS = Math.max(...Object.values(TTL_SECONDS));
const URGENCY: Record<Priority, 'high' | 'normal' | 'low'> = { flash: 'high', bulletin: 'high', urgent: 'normal', routine: 'low' };
/** Who was alerted to an item is remembered this long, so a kill reaches them. */
const NOTE_TTL_MS = 2 * 86_400_000;

/** VAPID keys from the configuration, or made once and kept in the store. */
export async function vapidKeys(outbox: Outbox, configured: Partial<VapidKeys>, subject: string): Promise<VapidKeys> {
  if (configured.publicKey && configured.privateKey) {
    return { publicKey: configured.publicKey, privateKey: configured.privateKey, subject: configured.subject ?? subject };
  }
  const pair = JSON.parse(await outbox.setting('vapid', () => JSON.stringify(webpush.generateVAPIDKeys()))) as { publicKey: string; privateKey: string };
  return { ...pair, subject: configured.subject ?? subject };
}

/** The push Topic of a story: at most 32 URL-safe characters, the same for every push about it. */
function pushTag(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe.length <= 32 ? safe : `${safe.slice(0, 20)}_${hash(id).slice(0, 11)}`;
}

function hash(value: string): string {
  let h = 2166136261;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36).padStart(7, '0');
}

/**
 * Encryption on a worker thread, jobs of one turn sent together; in this
 * thread only where no worker can be had.
 */
export class PushCrypto {
  private worker: Worker | null = null;
  /** A worker that keeps failing is not started again: encryption stays in this thread. */
  private failures = 0;
  private next = 0;
  private readonly waiting = new Map<number, { resolve(results: { ok: boolean; request?: PostedPushRequest; error?: string }[]): void; reject(error: Error): void }>();
  private batch: { job: EncryptJob; resolve(request: PushRequest): void; reject(error: Error): void }[] = [];

  /** `onWorkerLost` hears of each failure; `inThread`: no worker will be started again. */
  constructor(private readonly onWorkerLost: (error: Error, inThread: boolean) => void = () => {}) {}

  encrypt(job: EncryptJob): Promise<PushRequest> {
    return new Promise((resolve, reject) => {
      if (this.batch.push({ job, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    const worker = this.ensureWorker();
    if (!worker) {
      for (const entry of batch) {
        try {
          entry.resolve(encrypt(entry.job));
        } catch (error) {
          entry.reject(error as Error);
        }
      }
      return;
    }
    const id = ++this.next;
    this.waiting.set(id, {
      resolve: (results) =>
        results.forEach((result, i) => {
          const entry = batch[i];
          // The body comes back as a Uint8Array: seen as a Buffer, not copied.
          const body = result.request?.body;
          if (result.ok && result.request) entry?.resolve({ ...result.request, body: body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : null });
          else entry?.reject(new Error(result.error ?? 'encryption failed'));
        }),
      reject: (error) => {
        for (const entry of batch) entry.reject(error);
      },
    });
    worker.postMessage({ id, jobs: batch.map((entry) => entry.job) });
  }

  private ensureWorker(): Worker | null {
    if (this.worker) return this.worker;
    if (this.failures >= 3) return null;
    try {
      const worker = new Worker(new URL('./push-crypto.js', import.meta.url));
      worker.unref();
      worker.on('message', ({ id, results }) => {
        this.waiting.get(id)?.resolve(results);
        this.waiting.delete(id);
      });
      const lost = (error: Error) => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.failures++;
        this.onWorkerLost(error, this.failures >= 3);
        for (const pending of this.waiting.values()) pending.reject(error);
        this.waiting.clear();
      };
      worker.on('error', lost);
      worker.on('exit', () => lost(new Error('the encryption worker stopped')));
      this.worker = worker;
      return worker;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }
}

export interface PushDriverOptions {
  keys: VapidKeys;
  policy: OutboundPolicy;
  /** Absolute links in notifications. */
  baseUrl: () => string;
  crypto: PushCrypto;
}

export class PushDriver implements ChannelDriver {
  readonly channel = 'push' as const;
  readonly maxAttempts = 6;
  readonly maxAgeMs = 3_600_000;

  constructor(private readonly options: PushDriverOptions) {}

  async plan(event: NewsEvent, subscriptions: readonly Subscription[], notes: (key: string) => Promise<string | null>) {
    const deliveries: PlannedDelivery[] = [];
    const noted: Note[] = [];
    const noteKey = `item:${event.item.id}`;
    if (event.type === 'retracted') {
      const told = JSON.parse((await notes(noteKey)) ?? '[]') as string[];
      const message = this.message(event, 'withdrawn');
      for (const subscriptionId of told) deliveries.push({ subscriptionId, payload: JSON.stringify(message) });
      return { deliveries, notes: noted };
    }
    if (event.type === 'updated' && !event.notify) return { deliveries, notes: noted };
    const item = event.item as Item;
    const kind = event.type === 'published' ? 'alert' : 'update';
    const payload = JSON.stringify(this.message(event, kind));
    // A Set in the order of the list kept: the note written is the same.
    const told = new Set(event.type === 'updated' ? (JSON.parse((await notes(noteKey)) ?? '[]') as string[]) : []);
    for (const subscription of subscriptions) {
      const choices = subscription.data as unknown as PushChoices;
      const follows = !choices.topics.length || item.topics.some((topic) => choices.topics.includes(topic));
      if (!follows || RANK[item.priority] > RANK[choices.minPriority]) continue;
      deliveries.push({ subscriptionId: subscription.id, payload });
      told.add(subscription.id);
    }
    if (told.size) noted.push({ key: noteKey, value: JSON.stringify([...told]), ttlMs: NOTE_TTL_MS });
    return { deliveries, notes: noted };
  }

  private message(event: NewsEvent, kind: PushMessage['kind']): PushMessage {
    const { id } = event.item;
    const url = `${this.options.baseUrl()}/items/${encodeURIComponent(id)}`;
    if (kind === 'withdrawn') {
      const reason = 'reason' in event.item ? event.item.reason : '';
      return { kind, id, tag: pushTag(id), title: 'Story withdrawn', body: reason || 'This story was withdrawn.', url };
    }
    const item = event.item as Item;
    const label = { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent', routine: 'News' }[item.priority];
    return {
      kind,
      id,
      tag: pushTag(id),
      title: kind === 'update' ? `Updated: ${item.headline}` : `${label}: ${item.headline}`,
      body: (kind === 'update' ? item.changeNote : undefined) ?? item.summary ?? '',
      url,
      priority: item.priority,
    };
  }

  async send(delivery: Delivery, subscription: Subscription): Promise<SendResult> {
    const data = subscription.data as unknown as PushSubscriptionData;
    const message = JSON.parse(delivery.payload) as PushMessage;
    // A withdrawal goes at once and outlives any alert it replaces, so a device
    // that was offline never shows the story without hearing of its kill.
    const ttl = message.priority ? TTL_SECONDS[message.priority] : WITHDRAWAL_TTL_SECONDS;
    const details = await this.options.crypto.encrypt({
      endpoint: subscription.target,
      keys: data.keys,
      payload: delivery.payload,
      ttl,
      urgency: message.priority ? URGENCY[message.priority] : 'high',
      topic: message.tag,
      vapid: this.options.keys,
    });
    const response = await outboundRequest(
      details.endpoint,
      { method: details.method, headers: details.headers, body: details.body ?? undefined },
      this.options.policy,
    );
    return pushResult(response.status, response.headers['retry-after']);
  }
}

/** What a push service's answer means for the delivery. */
function pushResult(status: number, retryAfter?: string | string[]): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'sent' };
  if (status === 404 || status === 410) return { outcome: 'gone' };
  if (status === 429 || status >= 500) {
    const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    return Number.isFinite(seconds) && seconds > 0 ? { outcome: 'retry', afterMs: seconds * 1000 } : { outcome: 'retry' };
  }
  return { outcome: 'failed', reason: `the push service answered ${status}` };
}
