// Each process's copy of the publisher keys: a map from token hash to key,
// the only thing a request's authentication reads. It is re-read when the
// store's version changes: looked at once a second, and at once when the
// store says something changed. A token no key has costs a map lookup, never
// a store read, so guessing cannot become load on the store.
import type { Logger } from '../ops/logger.ts';
import { type KeyInput, MAX_KEYS, newKeyId, newToken, hashToken, type Principal, publicKey, type PublisherKey, type StoredKey } from './keys.ts';
import type { KeyStore } from './store.ts';

export class KeyRing {
  private byHash = new Map<string, Principal>();
  private version: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private failing = false;

  constructor(
    readonly store: KeyStore,
    private readonly logger: Logger,
    private readonly checkEveryMs = 1_000,
  ) {
    store.onChange(() => void this.refresh(true));
  }

  /** Reads the keys once, then keeps them current until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The live (not revoked) key whose token has this SHA-256 (hex). */
  lookup(hash: string): Principal | undefined {
    return this.byHash.get(hash);
  }

  /**
   * Re-reads the keys if the version moved (or `force`). A forced call that
   * comes while a pass runs gets one more pass after it, so no change is missed.
   */
  refresh(force = false): Promise<void> {
    if (!this.running) {
      this.running = this.load(force).finally(() => {
        this.running = null;
      });
      return this.running;
    }
    if (!force) return this.running;
    this.queued ??= this.running.then(() => {
      this.queued = null;
      return this.refresh(true);
    });
    return this.queued;
  }

  private async load(force: boolean): Promise<void> {
    try {
      const version = await this.store.version();
      if (!force && version === this.version) return;
      const keys = await this.store.list();
      const next = new Map<string, Principal>();
      for (const key of keys.slice(0, MAX_KEYS)) {
        if (key.revokedAt) continue;
        next.set(key.hash, { id: key.id, name: key.name, actions: key.actions, ...(key.topics ? { topics: key.topics } : {}) });
      }
      this.byHash = next;
      this.version = version;
      if (this.failing) this.logger.info('publisher keys can be read again');
      this.failing = false;
    } catch (error) {
      // The copy in hand stays in force; the next check tries again.
      if (!this.failing) this.logger.warn({ err: error }, 'cannot read publisher keys now; keeping the ones in memory');
      this.failing = true;
    }
  }

  /** Makes a key; its token is returned here and never again. Null when the store is full. */
  async create(input: KeyInput): Promise<{ key: PublisherKey; token: string } | null> {
    const token = newToken();
    const key: StoredKey = {
      id: newKeyId(),
      name: input.name,
      actions: input.actions,
      ...(input.topics ? { topics: input.topics } : {}),
      createdAt: new Date().toISOString(),
      hash: hashToken(token),
    };
    if (!(await this.store.create(key, MAX_KEYS))) return null;
    await this.refresh(true);
    return { key: publicKey(key), token };
  }

  async revoke(id: string): Promise<PublisherKey | null> {
    const key = await this.store.revoke(id, new Date().toISOString());
    await this.refresh(true);
    return key ? publicKey(key) : null;
  }

  async list(): Promise<PublisherKey[]> {
    return (await this.store.list()).map(publicKey);
  }
}
