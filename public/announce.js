// Screen-reader announcements: flash and bulletin interrupt (assertive), the
// rest are gathered for a moment and read politely, so a burst of stories
// becomes one sentence instead of a queue.

const POLITE_GATHER_MS = 1_200;
const CLEAR_AFTER_MS = 15_000;

export function createAnnouncer(politeRegion, assertiveRegion) {
  let pending = [];
  let timer = null;
  const clearTimers = new WeakMap();

  function say(region, message) {
    // The same words twice in a row would not be announced again: vary them invisibly.
    region.textContent = region.textContent === message ? `${message}\u00a0` : message;
    clearTimeout(clearTimers.get(region));
    // Stale text would be read again by a reader browsing the page.
    clearTimers.set(
      region,
      setTimeout(() => {
        region.textContent = '';
      }, CLEAR_AFTER_MS),
    );
  }

  function flush() {
    timer = null;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    if (batch.length === 1) {
      say(politeRegion, batch[0].text);
      return;
    }
    const counts = { published: 0, updated: 0, retracted: 0 };
    for (const entry of batch) counts[entry.kind]++;
    const parts = [];
    if (counts.published) parts.push(`${counts.published} new ${counts.published === 1 ? 'story' : 'stories'}`);
    if (counts.updated) parts.push(`${counts.updated} ${counts.updated === 1 ? 'story' : 'stories'} updated`);
    if (counts.retracted) parts.push(`${counts.retracted} withdrawn`);
    say(politeRegion, `${parts.join(', ')}.`);
  }

  return {
    /** Interrupts: flash and bulletin only. */
    alert(text) {
      say(assertiveRegion, text);
    },
    /** kind: published | updated | retracted. */
    polite(kind, text) {
      pending.push({ kind, text });
      if (timer === null) timer = setTimeout(flush, POLITE_GATHER_MS);
    },
    now(text) {
      say(politeRegion, text);
    },
  };
}
