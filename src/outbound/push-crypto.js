// Encrypts push payloads (RFC 8291) and signs VAPID headers (RFC 8292) off
// the main thread: a fresh key agreement per message is the expensive part
// of a push, and fan-out must never wait behind it. Plain JavaScript, as
// worker threads load it without the TypeScript loader.
import { parentPort } from 'node:worker_threads';
import webpush from 'web-push';

/** VAPID headers are valid for hours: signed once per push service and kept. */
const vapidByAudience = new Map();
const VAPID_LIFETIME_S = 12 * 3_600;

function vapidHeaders(endpoint, vapid) {
  const audience = new URL(endpoint).origin;
  const now = Math.floor(Date.now() / 1000);
  let cached = vapidByAudience.get(audience);
  if (!cached || cached.renewAt <= now) {
    const expiration = now + VAPID_LIFETIME_S;
    const headers = webpush.getVapidHeaders(audience, vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm', expiration);
    cached = { headers, renewAt: expiration - 3_600 };
    if (vapidByAudience.size > 1_000) vapidByAudience.clear();
    vapidByAudience.set(audience, cached);
  }
  return cached.headers;
}

/** One request's details: method, endpoint, headers and the encrypted body. */
export function encrypt({ endpoint, keys, payload, ttl, urgency, topic, vapid }) {
  const details = webpush.generateRequestDetails({ endpoint, keys }, payload, {
    TTL: ttl,
    urgency,
    topic,
    contentEncoding: 'aes128gcm',
    headers: vapidHeaders(endpoint, vapid),
  });
  return { endpoint: details.endpoint, method: details.method, headers: details.headers, body: details.body };
}

parentPort?.on('message', ({ id, jobs }) => {
  const results = jobs.map((job) => {
    try {
      return { ok: true, request: encrypt(job) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  });
  parentPort?.postMessage({ id, results });
});
