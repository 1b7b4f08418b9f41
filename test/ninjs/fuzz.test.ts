// Generated ninjs documents against POST /api/v1/ninjs on a real server (in
// this process): no 5xx, every refusal in our error shape, every accepted
// item within our rules, and what it gives back out is valid ninjs 2.1. The
// seed is printed; FUZZ_SEED replays a run, FUZZ_RUNS sizes it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toNinjs } from '../../src/ninjs/out.ts';
import { FUZZ, useFuzzServer } from '../support/in-process.ts';
import { TOKEN } from '../support/server.ts';
import { expectValidNinjs } from './support.ts';

const RUNS = Math.min(FUZZ.runs, 600);
const server = useFuzzServer({ PUBLISH_RATE_PER_MINUTE: '100000000', MAX_BODY_BYTES: '65536' }, `ninjs documents (at most ${RUNS})`);

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', ' ', '<p>x</p>', '\u202Eevil', 'all', 'A'.repeat(400)));
const loose = fc.oneof(text, fc.integer({ min: -5, max: 20 }), fc.constant(null), fc.boolean(), fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }));
const entry = fc.record({ value: fc.oneof(text, loose), role: fc.constantFrom('main', 'summary', 'sub', undefined), contenttype: fc.constantFrom('text/html', 'text/plain', undefined) }, { requiredKeys: ['value'] });
const subject = fc.record({ code: text, name: text, scheme: text, uri: fc.oneof(text, fc.webUrl()), literal: text });
const rendition = fc.record({ name: text, href: fc.oneof(fc.webUrl(), text), media: text, mimetype: text });

/** Documents of every generation, with fields of the right and the wrong types. */
const doc = fc.record(
  {
    uri: fc.oneof(fc.webUrl(), text, fc.uuid().map((u) => `urn:uuid:${u}`)),
    guid: text,
    version: fc.oneof(fc.integer({ min: -1, max: 5 }).map(String), fc.integer({ min: 0, max: 5 }), text),
    pubstatus: fc.constantFrom('usable', 'withheld', 'canceled', 'killed'),
    pubStatus: fc.constantFrom('usable', 'withheld', 'canceled'),
    urgency: fc.oneof(fc.integer({ min: 0, max: 10 }), text),
    headline: fc.oneof(text, loose),
    headlines: fc.oneof(fc.array(entry, { maxLength: 3 }), loose),
    bodies: fc.oneof(fc.array(entry, { maxLength: 2 }), loose),
    body_html: fc.oneof(text, loose),
    descriptions: fc.array(entry, { maxLength: 2 }),
    description_text: text,
    subject: fc.oneof(fc.array(subject, { maxLength: 14 }), loose),
    subjects: fc.array(fc.oneof(subject, loose), { maxLength: 3 }),
    keywords: fc.array(text, { maxLength: 4 }),
    embargoed: fc.oneof(fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()), text),
    expires: fc.oneof(fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()), text),
    language: fc.constantFrom('en', 'pt-BR', 'not a tag', 3),
    by: text,
    copyrightholder: text,
    infosources: fc.oneof(fc.array(fc.record({ name: text }), { maxLength: 2 }), loose),
    ednote: text,
    associations: fc.oneof(
      fc.array(fc.record({ name: text, uri: text, type: fc.constantFrom('picture', 'text'), renditions: fc.array(rendition, { maxLength: 2 }) }), { maxLength: 2 }),
      fc.dictionary(text, fc.record({ type: fc.constantFrom('picture', 'text'), renditions: fc.dictionary(text, rendition, { maxKeys: 2 }) }), { maxKeys: 2 }),
      loose,
    ),
  },
  { requiredKeys: [] },
);

/** Documents close to what agencies send, on a few uris, so corrections, replays, holds and kills meet each other. */
const plausible = fc.record(
  {
    uri: fc.oneof(fc.integer({ min: 1, max: 30 }).map((n) => `urn:agency:${n}`), fc.constantFrom('https://agency.example/news/3 ü', `urn:agency:${'x'.repeat(140)}`)),
    version: fc.integer({ min: 1, max: 4 }).map(String),
    pubstatus: fc.constantFrom('usable', 'usable', 'usable', 'withheld', 'canceled'),
    urgency: fc.integer({ min: 1, max: 9 }),
    headlines: fc.array(fc.record({ value: fc.string({ minLength: 1, maxLength: 80 }) }), { minLength: 1, maxLength: 2 }),
    bodies: fc.array(fc.record({ value: text, contenttype: fc.constantFrom('text/html', 'text/plain') }), { maxLength: 2 }),
    descriptions: fc.array(fc.record({ value: text }), { maxLength: 1 }),
    subjects: fc.array(subject, { maxLength: 14 }),
    keywords: fc.array(text, { maxLength: 3 }),
    embargoed: fc.date({ noInvalidDate: true, min: new Date('2020-01-01'), max: new Date(Date.now() + 30 * 86_400_000) }).map((d) => d.toISOString()),
    ednote: text,
    associations: fc.array(fc.record({ name: text, uri: text, type: fc.constantFrom('picture', 'text'), renditions: fc.array(rendition, { maxLength: 2 }) }), { maxLength: 2 }),
  },
  { requiredKeys: ['uri', 'headlines'] },
);

const tally = new Map<number, number>();

describe('ninjs in, generated', () => {
  it('never fails, never stores what breaks a rule, and always gives valid ninjs back', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    await fc.assert(
      fc.asyncProperty(fc.oneof(plausible, plausible, doc, loose), async (body) => {
        const res = await fetch(`${url}/api/v1/ninjs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const answer = (await res.json()) as Record<string, any>;
        tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
        expect(res.status, JSON.stringify(answer)).toBeLessThan(500);
        if (res.status >= 400) {
          expect(typeof answer.error?.code).toBe('string');
          for (const field of answer.error.fields ?? []) expect(typeof field.path).toBe('string');
          return;
        }
        const item = answer.item;
        if (!item || item.status === 'cancelled') return;
        expect(item.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/);
        expect(item.id.length).toBeLessThanOrEqual(128);
        if (item.status !== 'retracted') {
          expect(item.topics.length).toBeGreaterThanOrEqual(1);
          expect(item.topics.length).toBeLessThanOrEqual(12);
          for (const topic of item.topics) expect(topic).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
        }
        expectValidNinjs(toNinjs(item, url));
      }),
      { ...FUZZ.params(), numRuns: RUNS },
    );
    console.log('answers:', Object.fromEntries([...tally].sort()));
    // The generator reaches both sides: some documents are taken in, some refused.
    expect([...tally.keys()].filter((status) => status < 300).length).toBeGreaterThan(1);
    expect([...tally.keys()].some((status) => status === 400)).toBe(true);
  }, 120_000);
});
