// The sequencer's promise: whatever order and duplication events arrive in,
// and whatever is lost on the way, the sink sees every event once, in order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sequencer } from '../../src/bus/sequencer.ts';
import type { NewsEvent } from '../../src/domain/event.ts';
import type { LogHead } from '../../src/store/store.ts';

function makeLog(size: number, epoch = 'epochepoch01') {
  const events: NewsEvent[] = Array.from({ length: size }, (_, i) => ({
    seq: i + 1,
    type: 'published',
    at: new Date(0).toISOString(),
    item: { id: `i${i + 1}`, topics: ['t'], version: 1, publishedAt: '', updatedAt: '', status: 'retracted', reason: '' },
  }));
  let head = 0;
  const store = {
    epoch,
    async head(): Promise<LogHead> {
      return { epoch: store.epoch, seq: head, floor: 0 };
    },
    async readAfter(after: number, limit: number) {
      await new Promise((r) => setTimeout(r, 0));
      return events.filter((e) => e.seq > after && e.seq <= head).slice(0, limit);
    },
    append() {
      head++;
      return events[head - 1] as NewsEvent;
    },
  };
  return store;
}

describe('Sequencer', () => {
  it('delivers every event once and in order, whatever arrives (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        // For each event: dropped, delivered once, or twice; and a shuffle key.
        fc.array(fc.tuple(fc.constantFrom(0, 1, 1, 1, 2), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: 60,
          maxLength: 60,
        }),
        async (count, fates) => {
          const store = makeLog(count);
          const seen: number[] = [];
          const sequencer = new Sequencer(store, { event: (e) => seen.push(e.seq), reset: () => {} });
          await sequencer.init();
          const arrivals: { event: NewsEvent; key: number }[] = [];
          for (let i = 0; i < count; i++) {
            const event = store.append();
            const [copies, key] = fates[i] as [number, number];
            for (let c = 0; c < copies; c++) arrivals.push({ event, key: key + c });
          }
          arrivals.sort((a, b) => a.key - b.key);
          for (const { event } of arrivals) sequencer.offer(event, 'epochepoch01');
          await sequencer.check();
          await sequencer.fill();
          expect(seen).toEqual(Array.from({ length: count }, (_, i) => i + 1));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('resets instead of mixing logs when the epoch changes', async () => {
    const store = makeLog(5);
    const seen: number[] = [];
    const resets: [string, number][] = [];
    const sequencer = new Sequencer(store, { event: (e) => seen.push(e.seq), reset: (epoch, seq) => resets.push([epoch, seq]) });
    await sequencer.init();
    sequencer.offer(store.append(), 'epochepoch01');
    store.epoch = 'epochepoch02';
    store.append();
    store.append();
    // An event from the new log prompts a head check, which resets.
    sequencer.offer({ ...(store.append() as NewsEvent) }, 'epochepoch02');
    await sequencer.check();
    expect(seen).toEqual([1]);
    expect(resets).toEqual([['epochepoch02', 4]]);
    sequencer.offer(store.append(), 'epochepoch02');
    expect(seen).toEqual([1, 5]);
  });
});
