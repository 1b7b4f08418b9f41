// Generated requests against the anonymous write routes of outbound
// delivery: push subscriptions and the WebSub hub. No 5xx, every refusal in
// the documented shape, and nothing accepted that breaks a rule. The seed is
// printed; FUZZ_SEED replays a run, FUZZ_RUNS changes its size.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ, useFuzzServer } from '../support/in-process.ts';

const RUNS = FUZZ.runs;
const BASE = 'http://127.0.0.1:4997';

// Callbacks may point at 127.0.0.1 (nothing listens on port 9): verifications fail fast, offline.
const server = useFuzzServer({ PUBLIC_URL: BASE, OUTBOUND_ALLOW_HOSTS: '127.0.0.1', PUSH_MAX_SUBSCRIPTIONS: '1000000', OUTBOUND_TIMEOUT_SECONDS: '1' }, 'runs per route');

const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'https://push.example.com/a', 'http://127.0.0.1:9/cb', 'https://10.0.0.1/x', 'https://[::1]/', 'javascript:x', 'https://u:p@push.example.com/', `${BASE}/feeds/world.rss`, `${BASE}/feeds/Bad!.rss`, 'subscribe', 'unsubscribe', 'flash', 'x'.repeat(3000)),
);
const anything = fc.oneof({ weight: 3, arbitrary: nasty }, fc.integer(), fc.boolean(), fc.constant(null), fc.array(nasty, { maxLength: 5 }), fc.dictionary(nasty, nasty, { maxKeys: 3 }));
const b64 = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((a) => Buffer.from(a).toString('base64url'));
const pushBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        subscription: fc.record(
          {
            endpoint: fc.oneof(fc.constantFrom('http://127.0.0.1:9/push/a', 'http://127.0.0.1:9/push/b'), nasty),
            keys: fc.oneof(fc.record({ p256dh: fc.oneof(b64(65), nasty), auth: fc.oneof(b64(16), nasty) }), anything),
            expirationTime: fc.oneof(fc.constant(null), fc.integer(), anything),
          },
          { requiredKeys: [] },
        ),
        topics: fc.oneof(fc.array(fc.constantFrom('world', 'sport', 'Bad Topic', ''), { maxLength: 70 }), anything),
        minPriority: fc.oneof(fc.constantFrom('flash', 'bulletin', 'urgent', 'routine'), anything),
        extra: anything,
      },
      { requiredKeys: [] },
    ).map((body) => JSON.stringify(body)),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);
const hubBody = fc
  .record(
    {
      'hub.mode': fc.oneof(fc.constantFrom('subscribe', 'unsubscribe'), nasty),
      'hub.topic': fc.oneof(fc.constantFrom(`${BASE}/feeds/world.atom`, `${BASE}/feeds/all.json`), nasty),
      'hub.callback': fc.oneof(fc.constantFrom('http://127.0.0.1:9/cb'), nasty),
      'hub.lease_seconds': fc.oneof(fc.integer().map(String), nasty),
      'hub.secret': fc.oneof(fc.string({ maxLength: 250 }), nasty),
    },
    { requiredKeys: [] },
  )
  .map((fields) => new URLSearchParams(fields as Record<string, string>).toString());

async function send(method: string, path: string, body: string, type: string) {
  const res = await server.runtime.app.request(`http://127.0.0.1${path}`, { method, headers: type ? { 'content-type': type } : {}, body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function checkRefusal(status: number, json: any): void {
  expect(status, JSON.stringify(json)).toBeLessThan(500);
  expect(typeof json?.error?.code).toBe('string');
  expect(typeof json.error.message).toBe('string');
}

describe('fuzzed outbound routes', () => {
  it(`POST and DELETE /api/v1/push/subscriptions: ${RUNS} generated bodies`, async () => {
    await fc.assert(
      fc.asyncProperty(pushBody, fc.constantFrom('POST', 'POST', 'POST', 'DELETE'), fc.constantFrom('application/json', 'application/json', 'text/plain'), async (body, method, type) => {
        const { status, json } = await send(method, '/api/v1/push/subscriptions', body, type);
        if (status >= 400) {
          if (!(method === 'DELETE' && status === 404)) checkRefusal(status, json);
          return;
        }
        if (method === 'DELETE') {
          expect(json).toEqual({ removed: true });
          return;
        }
        expect(status).toBe(201);
        // What was kept follows the rules: slugs, a known priority.
        expect(['flash', 'bulletin', 'urgent', 'routine']).toContain(json.minPriority);
        for (const topic of json.topics) expect(topic).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
        expect(json.topics.length).toBeLessThanOrEqual(64);
      }),
      FUZZ.params(),
    );
  }, 240_000);

  it(`POST /websub: ${RUNS} generated requests`, async () => {
    await fc.assert(
      fc.asyncProperty(hubBody, fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/json'), async (body, type) => {
        const { status, json } = await send('POST', '/websub', body, type);
        if (status === 202) return;
        if (status === 503) {
          // Too many verifications in flight is a documented, retryable answer.
          expect(json.error.code).toBe('busy');
          return;
        }
        checkRefusal(status, json);
      }),
      FUZZ.params(),
    );
  }, 240_000);
});
