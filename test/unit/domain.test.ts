import { describe, expect, it } from 'vitest';
import { formatCursor, newEpoch, parseCursor } from '../../src/domain/cursor.ts';
import { cleanText, contentHash, itemInputSchema, sanitizeBody, toItemContent } from '../../src/domain/item.ts';
import { RecentEvents } from '../../src/hub/recent.ts';
import { prepareMessage } from '../../src/hub/message.ts';

describe('cursor', () => {
  it('round-trips and rejects anything else', () => {
    const epoch = newEpoch();
    expect(epoch).toMatch(/^[a-z0-9]{16}$/);
    expect(parseCursor(formatCursor(epoch, 42))).toEqual({ epoch, seq: 42 });
    for (const bad of ['', '42', 'abc-', `${epoch}-x`, `${epoch}-1-2`, `${epoch}--1`, `${epoch}-99999999999999999`, `${'a'.repeat(40)}-1`]) {
      expect(parseCursor(bad), bad).toBeNull();
    }
  });
});

describe('item content', () => {
  it('strips control characters and lone surrogates that XML cannot carry', () => {
    expect(cleanText('a\u0000b\u0007c\u001Fd\tx\ny\uD800z')).toBe('abcd\tx\ny\uFFFDz');
  });

  it('hashes content independently of key order, and tells changes apart', () => {
    const a = toItemContent(itemInputSchema.parse({ id: 'x', headline: 'H', topics: ['a'], summary: 'S' }));
    const b = toItemContent(itemInputSchema.parse({ summary: 'S', topics: ['a'], headline: 'H', id: 'x' }));
    const c = toItemContent(itemInputSchema.parse({ id: 'x', headline: 'H2', topics: ['a'], summary: 'S' }));
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).not.toBe(contentHash(c));
  });

  it('turns plain-text bodies into escaped paragraphs', () => {
    expect(sanitizeBody('One & two\n\nThree > four\nfive')).toBe('<p>One &amp; two</p>\n<p>Three &gt; four<br>five</p>');
  });

  it('deduplicates topics', () => {
    expect(toItemContent(itemInputSchema.parse({ headline: 'H', topics: ['a', 'b', 'a'] })).topics).toEqual(['a', 'b']);
  });
});

describe('RecentEvents', () => {
  const entry = (seq: number) => ({ topics: ['t'], message: prepareMessage(seq, `{"seq":${seq}}`) });

  it('keeps the newest events and says which cursors it covers', () => {
    const ring = new RecentEvents(4);
    expect(ring.covers(0)).toBe(false);
    for (let seq = 1; seq <= 6; seq++) ring.push(entry(seq));
    expect([ring.firstSeq, ring.lastSeq]).toEqual([3, 6]);
    expect(ring.covers(2)).toBe(true);
    expect(ring.covers(1)).toBe(false);
    expect([...ring.since(4)].map((e) => e.message.seq)).toEqual([5, 6]);
    expect([...ring.since(2)].map((e) => e.message.seq)).toEqual([3, 4, 5, 6]);
  });

  it('starts over on a gap rather than hold a hole', () => {
    const ring = new RecentEvents(8);
    ring.push(entry(1));
    ring.push(entry(2));
    ring.push(entry(5));
    expect([...ring.since(0)].map((e) => e.message.seq)).toEqual([5]);
    expect(ring.covers(2)).toBe(false);
  });

  it('frames messages as unmasked text frames', () => {
    const small = prepareMessage(1, 'hi');
    expect([...small.frame]).toEqual([0x81, 2, 0x68, 0x69]);
    const medium = prepareMessage(2, 'x'.repeat(300));
    expect([medium.frame[0], medium.frame[1], medium.frame.readUInt16BE(2), medium.frame.length]).toEqual([0x81, 126, 300, 304]);
  });
});
