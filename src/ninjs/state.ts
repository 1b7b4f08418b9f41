// Where the ninjs version ledger and uploaded media live: beside the log, in
// whichever backend holds it (the embedded store's file, or Redis under the
// configured prefix).
import { type MediaStore, RedisMediaStore, SqliteMediaStore } from '../media/store.ts';
import type { Logger } from '../ops/logger.ts';
import { besideStore } from '../store/beside.ts';
import type { Store } from '../store/store.ts';
import { RedisVersionLedger, SqliteVersionLedger, type VersionLedger } from './versions.ts';

export interface NinjsState {
  ledger: VersionLedger;
  media: MediaStore;
  close(): Promise<void>;
}

/** How often uploaded media past retention are forgotten. */
const MEDIA_TRIM_EVERY_MS = 10 * 60_000;

/** `mediaMaxAgeMs`: uploaded media are kept that long (the item retention). */
export function ninjsState(store: Store, mediaMaxAgeMs: number, logger: Logger): NinjsState {
  const { ledger, media } = besideStore<{ ledger: VersionLedger; media: MediaStore }>(store, 'ninjs state', {
    redis: (redis) => ({ ledger: new RedisVersionLedger(redis.client, redis.prefix), media: new RedisMediaStore(redis.client, redis.prefix) }),
    sqlite: (sqlite) => ({ ledger: new SqliteVersionLedger(sqlite.file), media: new SqliteMediaStore(sqlite.file) }),
  });
  const trim = () =>
    media.trim(Date.now() - mediaMaxAgeMs).catch((error: unknown) => logger.warn({ err: error }, 'media retention trim failed'));
  const timer = setInterval(trim, MEDIA_TRIM_EVERY_MS);
  timer.unref();
  return {
    ledger,
    media,
    async close() {
      clearInterval(timer);
      await ledger.close();
      await media.close();
    },
  };
}
