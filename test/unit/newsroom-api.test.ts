// What the console tells an editor about a failed write: a 503 that may have
// saved must never say "nothing was saved".
import { describe, expect, it } from 'vitest';

// The console's own module, as the browser loads it (plain JavaScript without types).
const modulePath: string = '../../public/newsroom-api.js';
const { describeFailure } = (await import(modulePath)) as { describeFailure: (response: unknown) => string };

const failure = (status: number, code?: string) => ({ status, body: code ? { error: { code, message: 'm' } } : null, headers: new Headers() });

describe('describeFailure', () => {
  it('says a write may be saved when the store could not confirm it', () => {
    for (const code of ['write-outcome-unknown', 'write-not-replicated']) {
      const text = describeFailure(failure(503, code));
      expect(text).toMatch(/may or may not be saved/);
      expect(text).not.toMatch(/Nothing was saved/);
    }
  });

  it('says nothing was saved when the store was out of reach', () => {
    expect(describeFailure(failure(503, 'store-unavailable'))).toMatch(/Nothing was saved/);
  });

  it('tells an embargo too late from an id taken by other content', () => {
    expect(describeFailure(failure(409, 'already-published'))).toMatch(/Readers already have this item/);
    expect(describeFailure(failure(409, 'conflict'))).toMatch(/use “Correct”/);
  });
});
