// WebSocket subscribers that behave like a careful reader: each follows a
// topic set, resumes with its last cursor after every drop (trying the next
// server when its own does not answer), and records every event frame as it
// came, duplicates and all, so the check can hold it against the log.
// (public/client.js drops what it has seen already; here that would hide the
// very duplicates we look for.)
import WebSocket from 'ws';
import type { Random } from './soak-random.ts';

export interface TopicSet {
  name: string;
  /** null follows every topic. */
  topics: string[] | null;
}

/** A growable list of 32-bit integers: hundreds of subscribers × thousands of events. */
export class IntList {
  private data = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  at(i: number): number {
    return this.data[i] as number;
  }
}

/** Item ids as small integers, so a subscriber's record holds numbers, not strings. */
export class IdTable {
  private readonly index = new Map<string, number>();
  readonly names: string[] = [];

  intern(id: string): number {
    let n = this.index.get(id);
    if (n === undefined) {
      n = this.names.length;
      this.names.push(id);
      this.index.set(id, n);
    }
    return n;
  }

  find(id: string): number | undefined {
    return this.index.get(id);
  }
}

interface Frame {
  type: string;
  cursor?: string;
  resumed?: boolean;
  reason?: string;
  code?: string;
  item?: { id?: string };
}

const count = (map: Record<string, number>, key: string) => {
  map[key] = (map[key] ?? 0) + 1;
};

function parseCursor(cursor: string | undefined): { epoch: string; seq: number } | null {
  const match = cursor ? /^([A-Za-z0-9]+)-(\d+)$/.exec(cursor) : null;
  return match ? { epoch: match[1] as string, seq: Number(match[2]) } : null;
}

export interface ResetSeen {
  at: number;
  reason: string | undefined;
  cursor: string | undefined;
  /** Where the subscriber was when it came. */
  lastSeq: number;
}

export class Subscriber {
  /** Every event frame in arrival order: its seq, and its item id (interned). */
  readonly seqs = new IntList();
  readonly ids = new IntList();
  epoch: string | null = null;
  lastSeq = 0;
  /** The position of the first welcome: events after it are expected. */
  startSeq: number | null = null;
  readonly resets: ResetSeen[] = [];
  /** Welcomes with resumed:false although we sent a cursor (a reset follows). */
  notResumed = 0;
  /** Event frames whose epoch is not the subscriber's. */
  foreignEpoch = 0;
  welcomes = 0;
  pingTimeouts = 0;
  readonly closeCodes: Record<string, number> = {};
  readonly connectFailures: Record<string, number> = {};
  readonly errorFrames: Record<string, number> = {};
  /** ms from losing a connection to the next welcome. */
  readonly downtimes: number[] = [];
  /** The server index while a connection is open. */
  connectedTo: number | null = null;
  private ws: WebSocket | null = null;
  /** Connection attempts since the last welcome: each one tries the next server. */
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private awaitingPong = false;
  private lostAt: number | null = null;

  constructor(
    readonly index: number,
    readonly set: TopicSet,
    private readonly home: number,
    private readonly urls: () => string[],
    private readonly table: IdTable,
    private readonly random: Random,
  ) {}

  get cursor(): string | null {
    return this.epoch === null ? null : `${this.epoch}-${this.lastSeq}`;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.terminate();
    this.ws = null;
  }

  /** Called every few seconds: a link that stopped answering pings is dropped and resumed. */
  heartbeat(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.awaitingPong) {
      this.pingTimeouts++;
      ws.terminate();
      return;
    }
    this.awaitingPong = true;
    ws.ping();
  }

  private connect(): void {
    // The first try goes to its own server; each failure moves on to the next, as a balancer would.
    const urls = this.urls();
    const target = (this.home + this.failures++) % urls.length;
    const url = new URL(urls[target] as string);
    if (this.set.topics) url.searchParams.set('topics', this.set.topics.join(','));
    if (this.cursor) url.searchParams.set('cursor', this.cursor);
    const ws = new WebSocket(url, { handshakeTimeout: 5_000, perMessageDeflate: false });
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.connectedTo = target;
      this.awaitingPong = false;
    });
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('message', (data) => this.receive(String(data)));
    ws.on('error', (error: Error & { code?: string }) => {
      if (opened) return;
      const refused = /Unexpected server response: (\d+)/.exec(error.message);
      count(this.connectFailures, refused ? `http-${refused[1]}` : (error.code ?? error.message.slice(0, 60)));
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.connectedTo = null;
      if (opened) {
        count(this.closeCodes, String(code));
        this.lostAt ??= Date.now();
      }
      if (!this.stopped) this.retry();
    });
  }

  private retry(): void {
    // Quick first retry after losing a live connection, then exponential with jitter.
    const ceiling = this.failures === 0 ? 100 : Math.min(2_000, 100 * 2 ** this.failures);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, ceiling / 2 + this.random.next() * (ceiling / 2));
  }

  private receive(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text);
    } catch {
      count(this.errorFrames, 'not-json');
      return;
    }
    this.awaitingPong = false;
    if (frame.type === 'event') this.event(frame);
    else if (frame.type === 'welcome') this.welcome(frame);
    else if (frame.type === 'reset') this.reset(frame);
    else if (frame.type === 'error') count(this.errorFrames, frame.code ?? 'unknown');
  }

  private event(frame: Frame): void {
    const at = parseCursor(frame.cursor);
    if (!at) {
      count(this.errorFrames, 'event-without-cursor');
      return;
    }
    if (at.epoch !== this.epoch) this.foreignEpoch++;
    this.seqs.push(at.seq);
    this.ids.push(this.table.intern(frame.item?.id ?? ''));
    // Resume from the highest seq seen: what a client that trusts the order would do.
    if (at.seq > this.lastSeq) this.lastSeq = at.seq;
  }

  private welcome(frame: Frame): void {
    this.welcomes++;
    this.failures = 0;
    if (this.lostAt !== null) {
      this.downtimes.push(Date.now() - this.lostAt);
      this.lostAt = null;
    }
    const at = parseCursor(frame.cursor);
    if (this.epoch === null && at) {
      this.epoch = at.epoch;
      this.lastSeq = at.seq;
      this.startSeq = at.seq;
    } else if (!frame.resumed) {
      this.notResumed++;
    }
  }

  /** An epoch change: the soak counts it as a failure, and follows it so the run goes on. */
  private reset(frame: Frame): void {
    this.resets.push({ at: Date.now(), reason: frame.reason, cursor: frame.cursor, lastSeq: this.lastSeq });
    const at = parseCursor(frame.cursor);
    if (at) {
      this.epoch = at.epoch;
      this.lastSeq = at.seq;
    }
  }
}

export class SubscriberPool {
  readonly subscribers: Subscriber[];
  readonly ids = new IdTable();
  private beat: NodeJS.Timeout | null = null;

  /** Subscriber i lives on server i % servers and follows set ⌊i / servers⌋ % sets: every pair is covered. */
  constructor(count: number, sets: TopicSet[], urls: () => string[], random: Random) {
    const servers = urls().length;
    this.subscribers = Array.from(
      { length: count },
      (_, i) => new Subscriber(i, sets[Math.floor(i / servers) % sets.length] as TopicSet, i % servers, urls, this.ids, random),
    );
  }

  /** Opens them a few at a time and waits for every first welcome. */
  async start(timeoutMs: number): Promise<void> {
    for (let i = 0; i < this.subscribers.length; i++) {
      this.subscribers[i]?.start();
      if (i % 25 === 24) await new Promise((r) => setTimeout(r, 50));
    }
    const deadline = Date.now() + timeoutMs;
    while (this.subscribers.some((s) => s.startSeq === null)) {
      if (Date.now() > deadline) {
        const waiting = this.subscribers.filter((s) => s.startSeq === null);
        const why = waiting.flatMap((s) => [...Object.keys(s.connectFailures), ...Object.keys(s.closeCodes).map((c) => `closed ${c}`)]);
        throw new Error(`${waiting.length} subscribers got no welcome in time (${[...new Set(why)].join(', ') || 'no answer'})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.beat = setInterval(() => {
      for (const s of this.subscribers) s.heartbeat();
    }, 15_000);
  }

  stop(): void {
    if (this.beat) clearInterval(this.beat);
    for (const s of this.subscribers) s.stop();
  }

  clientsOn(server: number): number {
    return this.subscribers.filter((s) => s.connectedTo === server).length;
  }
}
