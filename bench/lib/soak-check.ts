// The verdict of a soak: the Redis log is the truth. Every acknowledged write
// must be in it exactly once, and every subscriber must have received exactly
// the events of its topics after its start, once each, in increasing seq.
import type { SoakRedis } from './soak-cluster.ts';
import type { Write } from './soak-publisher.ts';
import type { Subscriber, TopicSet } from './soak-subscribers.ts';

export interface LogEvent {
  seq: number;
  type: string;
  id: string;
  headline: string | undefined;
  /** The item's topics and its formerTopics: who must receive it. */
  audience: string[];
}

export interface Log {
  epoch: string | null;
  head: number;
  floor: number;
  events: LogEvent[];
  bySeq: Map<number, LogEvent>;
  /** Seqs missing between floor and head, and entries whose id and seq disagree. */
  holes: number;
  badEntries: number;
}

/** Reads the whole stream `${prefix}:log` (XRANGE, a page at a time) and the head keys. */
export async function readLog(redis: SoakRedis, prefix: string): Promise<Log> {
  return redis.admin(async (client) => {
    const [epoch, head, floor] = await Promise.all([
      client.get(`${prefix}:epoch`),
      client.get(`${prefix}:seq`),
      client.get(`${prefix}:floor`),
    ]);
    const events: LogEvent[] = [];
    let badEntries = 0;
    let start = '-';
    for (;;) {
      const page = await client.xrange(`${prefix}:log`, start, '+', 'COUNT', 1000);
      for (const [id, fields] of page) {
        const json = fields[fields.indexOf('e') + 1];
        const event = json ? parseEvent(json) : null;
        if (!event || `${event.seq}-0` !== id) badEntries++;
        if (event) events.push(event);
      }
      if (page.length < 1000) break;
      start = `(${page.at(-1)?.[0]}`;
    }
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    const headSeq = Number(head ?? 0);
    const floorSeq = Number(floor ?? 0);
    let holes = 0;
    for (let seq = floorSeq + 1; seq <= headSeq; seq++) if (!bySeq.has(seq)) holes++;
    return { epoch, head: headSeq, floor: floorSeq, events, bySeq, holes, badEntries };
  });
}

function parseEvent(json: string): LogEvent | null {
  try {
    const e = JSON.parse(json) as {
      seq: number;
      type: string;
      item: { id: string; headline?: string; topics?: string[] };
      formerTopics?: string[];
    };
    return {
      seq: e.seq,
      type: e.type,
      id: e.item.id,
      headline: e.item.headline,
      audience: [...(e.item.topics ?? []), ...(e.formerTopics ?? [])],
    };
  } catch {
    return null;
  }
}

const seqOf = (cursor: string | undefined) => Number(cursor?.split('-')[1] ?? Number.NaN);
const epochOf = (cursor: string | undefined) => cursor?.split('-')[0];

export interface WritesCheck {
  total: number;
  acked: Record<string, number>;
  abandoned: number;
  rejected: number;
  /** Acknowledged, and not in the log. */
  lost: number;
  /** Written to the log more than once (an idempotent retry that was not). */
  duplicatesInLog: number;
  /** A 201/200 whose cursor is not where the log has the event. */
  cursorMismatches: number;
  /** In the log although never acknowledged (its answer was lost): allowed. */
  inLogUnacknowledged: number;
  /** Answered 503 store-unavailable ("nothing was saved"), and a retry found it saved: a broken promise. */
  savedDespite503: number;
  /** Answered 503 write-outcome-unknown or write-not-replicated ("it may have been saved"), and a retry found it saved. */
  savedAfterUnknown: number;
  retried: number;
  examples: string[];
}

/** Finds the events of one write in the log: by type, id and, for corrections, headline. */
function eventsOf(index: Map<string, LogEvent[]>, write: Write): LogEvent[] {
  const all = index.get(write.id) ?? [];
  if (write.kind === 'publish') return all.filter((e) => e.type === 'published');
  if (write.kind === 'update') return all.filter((e) => e.type === 'updated' && e.headline === write.headline);
  return all.filter((e) => e.type === 'retracted');
}

export function checkWrites(log: Log, writes: Write[]): WritesCheck {
  const out: WritesCheck = {
    total: writes.length,
    acked: { publish: 0, update: 0, retract: 0 },
    abandoned: 0,
    rejected: 0,
    lost: 0,
    duplicatesInLog: 0,
    cursorMismatches: 0,
    inLogUnacknowledged: 0,
    savedDespite503: 0,
    savedAfterUnknown: 0,
    retried: 0,
    examples: [],
  };
  const example = (text: string) => {
    if (out.examples.length < 10) out.examples.push(text);
  };
  const index = new Map<string, LogEvent[]>();
  for (const e of log.events) {
    const list = index.get(e.id);
    if (list) list.push(e);
    else index.set(e.id, [e]);
  }
  for (const write of writes) {
    if (write.attempts.length > 1) out.retried++;
    const found = eventsOf(index, write);
    if (found.length > 1) {
      out.duplicatesInLog++;
      example(`${write.kind} ${write.id} is in the log ${found.length} times (seqs ${found.map((e) => e.seq).join(',')})`);
    }
    if (write.state === 'abandoned' || write.state === 'pending') {
      out.abandoned++;
      if (found.length > 0) out.inLogUnacknowledged++;
      continue;
    }
    if (write.state === 'rejected') {
      out.rejected++;
      example(`${write.kind} ${write.id} refused: ${write.refusal} after ${write.attempts.join(',')}`);
      continue;
    }
    out.acked[write.kind] = (out.acked[write.kind] ?? 0) + 1;
    if (found.length === 0) {
      out.lost++;
      example(`${write.kind} ${write.id} acknowledged (${write.ackStatus}, ${write.cursor}) but not in the log`);
      continue;
    }
    const fresh = write.ackStatus === 201 || (write.ackStatus === 200 && !write.unchanged && write.cursor !== undefined);
    if (fresh && (seqOf(write.cursor) !== found[0]?.seq || epochOf(write.cursor) !== log.epoch)) {
      out.cursorMismatches++;
      example(`${write.kind} ${write.id} acknowledged with ${write.cursor}, the log has it at ${log.epoch}-${found[0]?.seq}`);
    }
    const earlier = write.attempts.slice(0, -1);
    const repeat = write.unchanged || write.ackStatus === 410;
    if (repeat && earlier.length > 0 && earlier.every((a) => a.startsWith('503'))) {
      // Which 503 saved it: one that said it might have is the contract; one that said nothing was saved is not.
      if (earlier.some((a) => a === '503 write-outcome-unknown' || a === '503 write-not-replicated')) out.savedAfterUnknown++;
      else {
        out.savedDespite503++;
        example(`${write.kind} ${write.id}: attempts ${write.attempts.join(',')}: a 503 that said nothing was saved had saved it`);
      }
    }
  }
  return out;
}

export interface DeliveryCheck {
  subscribers: number;
  expected: number;
  received: number;
  /** Events of its topics after its start that a subscriber never got. */
  missing: number;
  duplicates: number;
  /** Frames whose seq was not above the frame before. */
  orderViolations: number;
  /** Events outside the subscriber's topics, or at or before its start. */
  stray: number;
  /** Seqs the log does not have. */
  phantom: number;
  /** A seq that came with another item's id. */
  idMismatches: number;
  resets: number;
  foreignEpoch: number;
  subscribersWithProblems: number;
  examples: string[];
}

/** Whether a subscriber of `set` must receive `e`: its topics or formerTopics meet the set. */
export const wants = (set: TopicSet, e: LogEvent) => set.topics === null || e.audience.some((t) => set.topics?.includes(t));

export function checkDelivery(log: Log, subscribers: Subscriber[], names: readonly string[]): DeliveryCheck {
  const out: DeliveryCheck = {
    subscribers: subscribers.length,
    expected: 0,
    received: 0,
    missing: 0,
    duplicates: 0,
    orderViolations: 0,
    stray: 0,
    phantom: 0,
    idMismatches: 0,
    resets: 0,
    foreignEpoch: 0,
    subscribersWithProblems: 0,
    examples: [],
  };
  // Expected seqs per topic set, in order; each subscriber takes the part after its start.
  const expectedBySet = new Map<string, number[]>();
  const expectedOf = (set: TopicSet) => {
    const known = expectedBySet.get(set.name);
    if (known) return known;
    const list = log.events.filter((e) => wants(set, e)).map((e) => e.seq);
    expectedBySet.set(set.name, list);
    return list;
  };
  const seen = new Uint8Array(log.head + 2);
  for (const sub of subscribers) {
    const start = sub.startSeq ?? 0;
    const problems: string[] = [];
    seen.fill(0);
    let prev = start;
    for (let i = 0; i < sub.seqs.length; i++) {
      const seq = sub.seqs.at(i);
      const event = log.bySeq.get(seq);
      if (seq <= prev) {
        out.orderViolations++;
        problems.push(`seq ${seq} after ${prev}`);
      }
      prev = seq;
      if (!event) {
        out.phantom++;
        problems.push(`seq ${seq} is not in the log`);
        continue;
      }
      if (!wants(sub.set, event) || seq <= start) {
        out.stray++;
        problems.push(`seq ${seq} (${event.audience.join(',')}) is not for it`);
      }
      if (seen[seq]) {
        out.duplicates++;
        problems.push(`seq ${seq} twice`);
      }
      seen[seq] = 1;
      if (names[sub.ids.at(i)] !== event.id) {
        out.idMismatches++;
        problems.push(`seq ${seq} came as ${names[sub.ids.at(i)]}, the log says ${event.id}`);
      }
    }
    const expected = expectedOf(sub.set).filter((seq) => seq > start);
    const missing = expected.filter((seq) => !seen[seq]);
    out.expected += expected.length;
    out.received += sub.seqs.length;
    out.missing += missing.length;
    if (missing.length) problems.push(`missing ${missing.length}: ${missing.slice(0, 8).join(',')}${missing.length > 8 ? ',…' : ''}`);
    out.resets += sub.resets.length;
    if (sub.resets.length) problems.push(`reset ${sub.resets.map((r) => `${r.reason} to ${r.cursor} at seq ${r.lastSeq}`).join('; ')}`);
    out.foreignEpoch += sub.foreignEpoch;
    if (problems.length) {
      out.subscribersWithProblems++;
      if (out.examples.length < 12) {
        out.examples.push(`subscriber ${sub.index} (${sub.set.name}, from seq ${start}): ${problems.slice(0, 4).join('; ')}`);
      }
    }
  }
  return out;
}

export interface StateCheck {
  checked: number;
  mismatches: number;
  examples: string[];
}

/**
 * The item state behind GET /api/v1/items/:id agrees with the last
 * acknowledged write, for a sample of items whose every write was
 * acknowledged (an abandoned write may or may not have happened).
 */
export async function checkState(httpUrl: string, writes: Write[], sample: number, pick: (n: number) => number): Promise<StateCheck> {
  const last = new Map<string, Write>();
  const uncertain = new Set<string>();
  for (const w of writes) {
    if (w.state !== 'acked') uncertain.add(w.id);
    else last.set(w.id, w);
  }
  const ids = [...last.keys()].filter((id) => !uncertain.has(id));
  const out: StateCheck = { checked: 0, mismatches: 0, examples: [] };
  for (let i = 0; i < Math.min(sample, ids.length); i++) {
    const id = ids.splice(pick(ids.length), 1)[0] as string;
    const write = last.get(id) as Write;
    const res = await fetch(`${httpUrl}/api/v1/items/${id}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json().catch(() => null)) as { item?: { headline?: string } } | null;
    out.checked++;
    const ok = write.kind === 'retract' ? res.status === 410 : res.status === 200 && body?.item?.headline === write.headline;
    if (!ok) {
      out.mismatches++;
      if (out.examples.length < 5) out.examples.push(`${id}: last write ${write.kind} "${write.headline}", GET says ${res.status} "${body?.item?.headline}"`);
    }
  }
  return out;
}
