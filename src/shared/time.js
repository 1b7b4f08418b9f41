// Times as readers see them: one set of rules for the server's first paint
// and the browser's live updates. The browser formats in the reader's own
// locale and time zone; the server, which knows neither, passes UTC.

/**
 * @typedef {{ locale?: string, timeZone?: string }} TimeOptions
 */

/** Making a date formatter costs far more than using one: each kind is made once. */
const formatters = new Map();
function formatter(locale, options) {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    if (formatters.size > 64) formatters.clear();
    formatters.set(key, format);
  }
  return format;
}

/** "just now", "5 min ago", "3 h ago", then a date. */
export function relativeTime(iso, now = Date.now(), options = {}) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const { locale, timeZone } = options;
  const zone = timeZone ? { timeZone } : {};
  const year = formatter('en', { year: 'numeric', ...zone });
  const sameYear = year.format(then) === year.format(now);
  return formatter(locale, { day: 'numeric', month: 'short', ...zone, ...(sameYear ? {} : { year: 'numeric' }) }).format(then);
}

export function absoluteTime(iso, options = {}) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const { locale, timeZone } = options;
  return formatter(locale, { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(date);
}
