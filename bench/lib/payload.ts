// The item every target broadcasts: a breaking-news alert of ordinary size.
// Its headline carries the run, the event number and the publish time, so a
// subscriber can measure latency without a shared map.

export const TOPIC = 'world';
const MARK = 'bench|';
const MARK_BYTES = Buffer.from(MARK);

const SUMMARY =
  'Emergency services say the situation is developing; officials will give a statement within the hour. ' +
  'Follow this page for updates as they are confirmed by our correspondents on the ground.';

export function benchItem(run: string, n: number, sentAt: number): Record<string, unknown> {
  return {
    id: `bench-${run}-${n}`,
    headline: `${MARK}${run}|${n}|${sentAt.toFixed(3)}|`,
    summary: SUMMARY,
    url: `https://news.example.com/live/${run}/${n}`,
    topics: [TOPIC],
    priority: 'flash',
    language: 'en',
    source: 'Newswire bench desk',
  };
}

export interface Mark {
  run: string;
  n: number;
  sentAt: number;
}

/** Finds the headline mark in a raw frame without parsing the JSON. */
export function readMark(data: Buffer): Mark | null {
  const at = data.indexOf(MARK_BYTES);
  if (at < 0) return null;
  return parseMark(data.toString('latin1', at + MARK_BYTES.length, at + MARK_BYTES.length + 64));
}

export function parseMark(text: string): Mark | null {
  const start = text.startsWith(MARK) ? MARK.length : 0;
  const parts = text.slice(start).split('|');
  if (parts.length < 4) return null;
  return { run: parts[0] as string, n: Number(parts[1]), sentAt: Number(parts[2]) };
}
