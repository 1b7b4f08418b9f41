// Coalescing claimed deliveries: one send per recipient and key, carried by
// the latest event whatever order the claims came in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesced } from '../../src/outbound/dispatcher.ts';
import type { Delivery } from '../../src/outbound/outbox.ts';

const delivery = (seq: number, subscriptionId: string, coalesce?: string): Delivery => ({
  id: `${subscriptionId}:${seq}`,
  seq,
  subscriptionId,
  payload: '',
  attempts: 1,
  plannedMs: 0,
  ...(coalesce === undefined ? {} : { coalesce }),
});

describe('coalesced', () => {
  it('lets the latest event carry a group even when an older retry was claimed after it', () => {
    // Due order: seq 10 fresh, then seq 7 retried and due a moment later.
    const groups = coalesced([delivery(10, 'sub', 'feed'), delivery(7, 'sub', 'feed')]);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.carrier.seq).toBe(10);
    expect(groups[0]?.group.map((d) => d.seq)).toEqual([10, 7]);
  });

  it('keeps recipients, keys and uncoalesced deliveries apart, and loses none', () => {
    const arbitrary = fc.array(
      fc.record({ seq: fc.integer({ min: 1, max: 1_000 }), sub: fc.constantFrom('a', 'b', 'c'), key: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }) }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(arbitrary, (specs) => {
        const claimed = specs.map((s, i) => ({ ...delivery(s.seq, s.sub, s.key), id: `d${i}` }));
        const groups = coalesced(claimed);
        expect(groups.flatMap((g) => g.group.map((d) => d.id)).sort()).toEqual(claimed.map((d) => d.id).sort());
        for (const { carrier, group } of groups) {
          expect(group).toContain(carrier);
          expect(carrier.seq).toBe(Math.max(...group.map((d) => d.seq)));
          expect(new Set(group.map((d) => `${d.subscriptionId}\n${d.coalesce ?? d.id}`)).size).toBe(1);
          if (carrier.coalesce === undefined) expect(group).toHaveLength(1);
        }
      }),
    );
  });
});
