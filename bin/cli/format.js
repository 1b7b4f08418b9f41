// How items and frames look in a terminal: one line each, widths fixed so
// columns line up when a desk watches a stream.

const PRIORITY_WIDTH = 8;
const EVENT_WIDTH = 9;

/** @param {string | undefined} iso */
function time(iso) {
  if (!iso) return ' '.repeat(20);
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19)}Z`;
}

/** One line for an item: time, priority, id, headline. @param {any} item */
export function itemLine(item) {
  const when = item.updatedAt ?? item.publishedAt ?? item.embargoUntil;
  const priority = String(item.priority ?? 'routine').toUpperCase().padEnd(PRIORITY_WIDTH);
  const status = item.status && item.status !== 'published' ? ` [${item.status}]` : '';
  return `${time(when)}  ${priority}  ${item.id}  ${oneLine(item.headline ?? item.reason ?? '')}${status}`;
}

/** One line for an event frame: time, priority, event, id, headline. @param {any} frame */
export function eventLine(frame) {
  const item = frame.item ?? {};
  const when = item.updatedAt ?? item.publishedAt;
  const priority = String(item.priority ?? '').toUpperCase().padEnd(PRIORITY_WIDTH);
  const text = frame.event === 'retracted' ? `WITHDRAWN: ${oneLine(item.reason ?? '')}` : oneLine(item.headline ?? '');
  const version = item.version > 1 ? ` (v${item.version})` : '';
  return `${time(when)}  ${priority}  ${String(frame.event).padEnd(EVENT_WIDTH)}  ${item.id}${version}  ${text}`;
}

/** Every field of an item, one per line, then its body. @param {any} item */
export function itemDetails(item) {
  const lines = [];
  const order = ['id', 'headline', 'status', 'priority', 'topics', 'version', 'publishedAt', 'updatedAt', 'changeNote', 'reason'];
  const keys = [...order.filter((key) => key in item), ...Object.keys(item).filter((key) => !order.includes(key) && key !== 'body')];
  for (const key of keys) {
    const value = item[key];
    if (value === undefined || value === null) continue;
    lines.push(`${`${key}:`.padEnd(14)}${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  if (item.body) lines.push('', String(item.body));
  return lines.join('\n');
}

/** Control characters and line breaks would break a one-line-per-event display. @param {string} text */
function oneLine(text) {
  let line = '';
  for (const char of String(text)) {
    const code = char.charCodeAt(0);
    line += code < 0x20 || code === 0x7f ? ' ' : char;
  }
  return line.replace(/ {2,}/g, ' ');
}
