// Times on server-rendered pages: the rules of src/shared/time.js (which the
// browser uses to keep them fresh), in UTC since the server does not know the
// reader's time zone, and said so.
import { absoluteTime as absolute, relativeTime as relative } from '../shared/time.js';

const UTC = { locale: 'en-GB', timeZone: 'UTC' };

/** "just now", "5 min ago", "3 h ago", then a date. */
export function relativeTime(iso: string, now = Date.now()): string {
  return relative(iso, now, UTC);
}

export function absoluteTime(iso: string): string {
  const text = absolute(iso, UTC);
  return text && `${text} UTC`;
}
