// Generated bodies against every write route of a real server (in this
// process, on a real store): no 5xx, no accepted item that breaks a rule,
// every refusal in the documented error shape. The seed is printed; set
// FUZZ_SEED to replay a run, FUZZ_RUNS to change its size.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FUZZ, useFuzzServer } from '../support/in-process.ts';
import { TOKEN } from '../support/server.ts';

const RUNS = FUZZ.runs;
const server = useFuzzServer(
  {
    PUBLISH_RATE_PER_MINUTE: '100000000',
    AUTH_FAILURES_PER_MINUTE: '1000000',
    MAX_BODY_BYTES: '65536',
  },
  'runs per route',
);
afterAll(() => {
  console.log('answers:', Object.fromEntries([...tally].sort()));
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never be stored
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The rules every stored item keeps, whatever was sent. */
function checkItem(item: Record<string, any>): void {
  expect(typeof item.id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(item.id) && item.id.length <= 128).toBe(true);
  expect(typeof item.headline).toBe('string');
  expect(item.headline.trim()).toBe(item.headline);
  expect(item.headline.length).toBeGreaterThan(0);
  expect(item.headline.length).toBeLessThanOrEqual(300);
  for (const field of ['headline', 'summary', 'source', 'byline', 'changeNote']) {
    if (item[field] !== undefined) expect(FORBIDDEN_TEXT.test(item[field]), field).toBe(false);
  }
  if (item.summary !== undefined) expect(item.summary.length).toBeLessThanOrEqual(2_000);
  expect(Array.isArray(item.topics)).toBe(true);
  expect(item.topics.length).toBeGreaterThanOrEqual(1);
  expect(item.topics.length).toBeLessThanOrEqual(12);
  expect(new Set(item.topics).size).toBe(item.topics.length);
  for (const topic of item.topics) expect(SLUG.test(topic) && topic !== 'all').toBe(true);
  expect(['flash', 'bulletin', 'urgent', 'routine']).toContain(item.priority);
  for (const url of [item.url, item.image?.url]) {
    if (url === undefined) continue;
    const parsed = new URL(url);
    expect(['http:', 'https:']).toContain(parsed.protocol);
    expect(parsed.href).toBe(url);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what a stored URL must never carry
    expect(/[\s\u0000-\u001F\u007F]/.test(url)).toBe(false);
  }
  if (item.body !== undefined) {
    // Text may say "javascript:"; markup may not run it.
    expect(item.body).not.toMatch(/<script|<iframe|<style|\son\w+\s*=|(href|src)\s*=\s*["']?\s*javascript:/i);
    expect(FORBIDDEN_TEXT.test(item.body)).toBe(false);
  }
  if (item.language !== undefined) expect(item.language).toMatch(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/);
  for (const field of ['publishedAt', 'updatedAt', 'embargoUntil', 'expiresAt']) {
    if (item[field] !== undefined) expect(item[field]).toMatch(ISO);
  }
  expect(['published', 'scheduled', 'retracted', 'cancelled']).toContain(item.status);
}

function checkError(status: number, body: any): void {
  expect(status, JSON.stringify(body)).toBeLessThan(500);
  expect(typeof body?.error?.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  if (body.error.fields !== undefined) {
    expect(body.error.fields.length).toBeGreaterThan(0);
    for (const field of body.error.fields) {
      expect(typeof field.path).toBe('string');
      expect(typeof field.message).toBe('string');
    }
  }
}

const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '   ',
    '\u202Egnp.exe\u202C',
    '\u0000\u0007\u0085\u009B',
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '\uD800',
    'a'.repeat(301),
    'x'.repeat(2_100),
    'javascript:alert(1)',
    'http:/\\evil.com',
    'https://example.com/a\r\nb',
    'https://u:p@example.com/',
    'https://example.com/ok',
    'HTTPS://Example.COM/a/../b',
    '2026-13-40T99:99:99Z',
    '2099-01-01T00:00:00Z',
    '2001-01-01T00:00:00Z',
    'en',
    'pt-BR',
    'english!',
    'world',
    'World News',
    'all',
    'flash',
    'nope',
  ),
);
const anything = fc.oneof({ weight: 3, arbitrary: nasty }, fc.integer(), fc.boolean(), fc.constant(null), fc.array(nasty, { maxLength: 14 }), fc.dictionary(nasty, nasty, { maxKeys: 3 }));
const ids = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('fuzz-a', 'fuzz-b', 'fuzz-c', 'fuzz-d') },
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,30}$/) },
  { weight: 1, arbitrary: nasty },
);
/** Text that is valid but hostile: every kind of character, and the ones that must be removed. */
const text = (max: number) =>
  fc
    .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }), fc.constantFrom('', '\u202E', '\u0085', '\u0007', '\u2066', '<b>', '&amp;', '\uD800'))
    .map(([value, extra]) => `${value.slice(0, max / 2)}${extra}${value.slice(max / 2)}`.slice(0, max));
const slug = fc.oneof(fc.constantFrom('world', 'politics', 'business', 'sport', 'tech'), fc.stringMatching(/^[a-z0-9]{1,8}(?:-[a-z0-9]{1,8})?$/));
const url = fc.oneof(fc.webUrl(), fc.constantFrom('HTTP://News.Example.COM/a/../b?q=1#x', 'http:/\\evil.com', 'https://example.com/%E2%80%AE', 'https://[::1]:8080/x'));
const future = fc.integer({ min: 60_000, max: 86_400_000 }).map((ms) => new Date(Date.now() + ms).toISOString());
const past = fc.integer({ min: 1_000, max: 86_400_000 }).map((ms) => new Date(Date.now() - ms).toISOString());

/** A valid item, with all the variety the rules allow. */
const validItem = fc.record(
  {
    id: ids,
    headline: text(120),
    summary: text(300),
    body: fc.oneof(text(400), fc.constantFrom('<p>ok</p><script>alert(1)</script>', '<a href="javascript:x" onclick="y">a</a>', '<img src="http://x/y.png" onerror="z">', 'Para one.\n\nPara <two> & three.')),
    url,
    topics: fc.uniqueArray(slug, { minLength: 1, maxLength: 4 }),
    priority: fc.constantFrom('flash', 'bulletin', 'urgent', 'routine'),
    language: fc.constantFrom('en', 'fr', 'pt-BR', 'zh-Hant-TW'),
    source: text(60),
    byline: text(60),
    image: fc.record({ url, alt: text(80) }),
    embargoUntil: fc.oneof({ weight: 4, arbitrary: past }, { weight: 1, arbitrary: future }),
    expiresAt: future,
  },
  { requiredKeys: ['headline', 'topics'] },
);
const FIELDS = ['id', 'headline', 'summary', 'body', 'url', 'topics', 'priority', 'language', 'source', 'byline', 'image', 'embargoUntil', 'expiresAt', 'changeNote', 'unknown'];
/** Mostly valid items with none, one or two fields broken (wrong type, too long, missing, unknown). */
const itemBody = fc
  .tuple(validItem, fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(anything, fc.constant(undefined), text(80))), { maxLength: 2 }))
  .map(([item, breaks]) => {
    const body: Record<string, unknown> = { ...item };
    for (const [field, value] of breaks) body[field] = value;
    return body;
  });
/** What goes on the wire: JSON of an item, of anything, or not JSON at all, under some content type. */
const payload = fc.oneof(
  { weight: 20, arbitrary: itemBody.map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[]', 'null', '{"headline":', '\u0000') },
);
const contentType = fc.oneof({ weight: 12, arbitrary: fc.constant('application/json') }, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', ''));
const token = fc.oneof({ weight: 12, arbitrary: fc.constant(TOKEN) }, fc.constantFrom('wrong-token-0123456789', ''));

/** Answers by method and status: a run that accepts nothing proves little, so it is printed. */
const tally = new Map<string, number>();

async function send(method: string, path: string, body: string | undefined, type: string, bearer: string) {
  const headers: Record<string, string> = {};
  if (type) headers['content-type'] = type;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await server.runtime.app.request(`http://127.0.0.1${path}`, { method, headers, body });
  const key = `${method} ${res.status}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

async function checkWrite(status: number, json: any): Promise<void> {
  if (status >= 400) {
    checkError(status, json);
    return;
  }
  expect([200, 201, 202]).toContain(status);
  checkItem(json.item);
  // What the API acknowledged is what the store holds.
  const stored = await send('GET', `/api/v1/items/${encode(json.item.id)}`, undefined, '', TOKEN);
  if (json.item.status === 'retracted') expect(stored.status).toBe(410);
  else if (json.item.status !== 'cancelled') expect(stored.json.item).toEqual(json.item);
}

/** Percent-encodes anything, a lone surrogate as the invalid UTF-8 a client could still send. */
function encode(value: string): string {
  return value.replace(/[\uD800-\uDFFF]/g, '\uFFFD').split('\uFFFD').map(encodeURIComponent).join('%ED%A0%80');
}

describe('fuzzed writes', () => {
  it(`POST /api/v1/items: ${RUNS} generated bodies`, async () => {
    await fc.assert(
      fc.asyncProperty(payload, contentType, token, async (body, type, bearer) => {
        const { status, json } = await send('POST', '/api/v1/items', body, type, bearer);
        await checkWrite(status, json);
      }),
      FUZZ.params(),
    );
  }, 240_000);

  it(`PUT /api/v1/items/:id: ${RUNS} generated bodies`, async () => {
    // Mostly corrections of items that exist, with the body's id left out or the same as the path's.
    const existing = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('fuzz-a', 'fuzz-b', 'fuzz-c', 'fuzz-d') }, ids);
    const correction = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(itemBody, fc.boolean()).map(([body, keepId]) => ({ body, keepId })) },
      { weight: 1, arbitrary: payload.map((raw) => ({ raw })) },
    );
    await fc.assert(
      fc.asyncProperty(existing, correction, contentType, token, async (id, change, type, bearer) => {
        let body: string;
        if ('raw' in change) body = change.raw;
        else {
          const { id: _id, ...rest } = change.body;
          body = JSON.stringify(change.keepId ? { ...rest, id } : rest);
        }
        const { status, json } = await send('PUT', `/api/v1/items/${encode(id)}`, body, type, bearer);
        await checkWrite(status, json);
      }),
      FUZZ.params(),
    );
  }, 240_000);

  it(`DELETE /api/v1/items/:id: ${RUNS} generated requests`, async () => {
    const reasonBody = fc.oneof(fc.record({ reason: anything }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), payload, fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(ids, reasonBody, fc.option(nasty, { nil: undefined }), contentType, token, async (id, body, reason, type, bearer) => {
        const query = reason === undefined ? '' : `?reason=${encode(reason)}`;
        const { status, json } = await send('DELETE', `/api/v1/items/${encode(id)}${query}`, body, type, bearer);
        if (status >= 400) checkError(status, json);
        else expect(['retracted', 'cancelled']).toContain(json.item.status);
      }),
      FUZZ.params(),
    );
  }, 240_000);
});
