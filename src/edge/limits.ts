// Counters behind the per-address limits. Keys come from the network, so
// every map here is bounded: at its size it forgets the oldest keys.

/** At most `limit` hits per key in each fixed window of `windowMs`. */
export class WindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxKeys = 50_000,
  ) {}

  /** Counts a hit; null when allowed, else ms until the window ends. */
  hit(key: string, now = Date.now()): number | null {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (window) this.windows.delete(key);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
      this.bound(now);
    }
    window.count++;
    return window.count > this.limit ? window.start + this.windowMs - now : null;
  }

  /** Whether the key is over its limit now, without counting. */
  blocked(key: string, now = Date.now()): number | null {
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs || window.count < this.limit) return null;
    return window.start + this.windowMs - now;
  }

  private bound(now: number): void {
    if (this.windows.size <= this.maxKeys) return;
    // Oldest windows first (Map order is insertion order): expired ones go, then the oldest.
    for (const [key, window] of this.windows) {
      if (this.windows.size <= this.maxKeys * 0.9 && now - window.start < this.windowMs) break;
      this.windows.delete(key);
    }
  }
}

/** How many things (connections) each key holds at once. */
export class Occupancy {
  private readonly counts = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Takes a place for the key; false (nothing taken) when it holds `limit` already. */
  acquire(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.limit) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  release(key: string): void {
    const count = this.counts.get(key) ?? 0;
    if (count <= 1) this.counts.delete(key);
    else this.counts.set(key, count - 1);
  }
}
