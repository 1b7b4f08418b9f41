// The newsroom side of a soak: a steady stream of publishes with a few
// corrections and retractions, plus bursts. Every write is retried with the
// same id and content on 503 or a network error, as the API asks, until it is
// acknowledged; each acknowledgement is kept with the cursor it gave.
import { Agent, request } from 'node:http';
import { SOAK_TOKEN, type SoakServer } from './soak-cluster.ts';
import type { Random } from './soak-random.ts';
import { sleep } from './stats.ts';

export const TOPICS = ['world', 'politics', 'business', 'sport', 'science', 'health'];
const PRIORITIES = ['flash', 'bulletin', 'urgent', 'routine'];

/** Share of the steady stream that corrects or retracts an earlier item (formerTopics come from corrections). */
const UPDATE_SHARE = 0.05;
const RETRACT_SHARE = 0.02;
const ATTEMPT_TIMEOUT_MS = 5_000;

export type WriteKind = 'publish' | 'update' | 'retract';

export interface Write {
  kind: WriteKind;
  id: string;
  /** The headline this write sets (publish, update): how its event is found in the log. */
  headline: string | null;
  topics: string[];
  /** Each attempt's outcome: an HTTP status, or the network error. */
  attempts: string[];
  state: 'pending' | 'acked' | 'rejected' | 'abandoned';
  ackStatus?: number;
  cursor?: string;
  unchanged?: boolean;
  /** From the first attempt to the acknowledgement. */
  ackMs?: number;
  /** The answer to a write refused for good (4xx other than a retract's 410 on a retry). */
  refusal?: string;
}

interface Content {
  id: string;
  headline: string;
  summary: string;
  topics: string[];
  priority: string;
}

interface Answer {
  status: number;
  body: { cursor?: string; unchanged?: boolean; error?: { code?: unknown } } | null;
  retryAfter: number | null;
  error?: string;
}

// Idle keep-alive sockets are dropped after 1 s, before the server would close them under us.
const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 1_000 });

function send(server: SoakServer, method: string, path: string, body: unknown): Promise<Answer> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(`${server.httpUrl}${path}`, {
      method,
      agent,
      timeout: ATTEMPT_TIMEOUT_MS,
      headers: {
        authorization: `Bearer ${SOAK_TOKEN}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        let json: Answer['body'] = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        const retryAfter = Number(res.headers['retry-after']);
        resolve({ status: res.statusCode ?? 0, body: json, retryAfter: Number.isFinite(retryAfter) ? retryAfter : null });
      });
      res.on('error', (error) => resolve({ status: 0, body: null, retryAfter: null, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: Error & { code?: string }) =>
      resolve({ status: 0, body: null, retryAfter: null, error: error.code ?? error.message }),
    );
    req.end(payload);
  });
}

const RETRY = new Set([0, 429, 502, 503, 504]);

export class Publisher {
  readonly writes: Write[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Acknowledged items that may still be corrected or retracted. */
  private readonly editable: Content[] = [];
  private readonly busy = new Set<string>();
  private readonly corrections = new Map<string, number>();
  private next = 0;
  private giveUpAt = Number.POSITIVE_INFINITY;
  private steadyTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly live: () => SoakServer[],
    private readonly random: Random,
    private readonly tag: string,
  ) {}

  /** Starts the steady stream: `rate` writes a second, each on its own (retries do not hold the next one back). */
  startSteady(rate: number): void {
    const t0 = Date.now();
    let sent = 0;
    const tick = () => {
      const due = Math.floor(((Date.now() - t0) * rate) / 1000);
      for (; sent < due; sent++) this.track(this.steadyWrite());
      this.steadyTimer = setTimeout(tick, Math.max(5, 1000 / rate / 2));
    };
    tick();
  }

  /** `count` new items at once; resolves when every one is acknowledged or given up. */
  async burst(count: number): Promise<number> {
    const writes = Array.from({ length: count }, () => this.publish());
    await Promise.all(writes.map((w) => this.track(w)));
    return count;
  }

  /** No new writes; those in flight may retry for `graceMs` more, then count as abandoned. */
  async stop(graceMs: number): Promise<void> {
    if (this.steadyTimer) clearTimeout(this.steadyTimer);
    this.steadyTimer = null;
    this.giveUpAt = Date.now() + graceMs;
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    agent.destroy();
  }

  private track(work: Promise<void>): Promise<void> {
    const p = work.finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private steadyWrite(): Promise<void> {
    const r = this.random.next();
    if (r < UPDATE_SHARE) {
      const target = this.pickEditable();
      if (target) return this.update(target);
    } else if (r < UPDATE_SHARE + RETRACT_SHARE) {
      const target = this.pickEditable();
      if (target) return this.retract(target);
    }
    return this.publish();
  }

  private pickEditable(): Content | null {
    for (let tries = 0; tries < 5 && this.editable.length > 0; tries++) {
      const c = this.random.pick(this.editable);
      if (!this.busy.has(c.id)) return c;
    }
    return null;
  }

  private topics(): string[] {
    const first = this.random.pick(TOPICS);
    const second = this.random.pick(TOPICS);
    return this.random.next() < 0.5 || first === second ? [first] : [first, second];
  }

  private async publish(): Promise<void> {
    const n = ++this.next;
    const content: Content = {
      id: `${this.tag}-${n}`,
      headline: `Soak item ${n}`,
      summary: 'An item of the soak run: published, perhaps corrected or retracted, then looked for in the log.',
      topics: this.topics(),
      priority: this.random.pick(PRIORITIES),
    };
    const write = this.newWrite('publish', content.id, content.headline, content.topics);
    await this.attempt(write, 'POST', '/api/v1/items', content);
    if (write.state === 'acked') this.editable.push(content);
  }

  /** A correction that may move the item to other topics: readers of the old ones get it via formerTopics. */
  private async update(content: Content): Promise<void> {
    this.busy.add(content.id);
    const version = (this.corrections.get(content.id) ?? 0) + 1;
    this.corrections.set(content.id, version);
    const next: Content = { ...content, headline: `${content.headline.split(' (')[0]} (correction ${version})`, topics: this.topics() };
    const write = this.newWrite('update', content.id, next.headline, next.topics);
    await this.attempt(write, 'PUT', `/api/v1/items/${content.id}`, { ...next, changeNote: `correction ${version}` });
    if (write.state === 'acked') Object.assign(content, next);
    // An update whose outcome is unknown leaves the item alone from now on.
    if (write.state === 'acked') this.busy.delete(content.id);
  }

  private async retract(content: Content): Promise<void> {
    this.busy.add(content.id);
    this.editable.splice(this.editable.indexOf(content), 1);
    const write = this.newWrite('retract', content.id, null, content.topics);
    await this.attempt(write, 'DELETE', `/api/v1/items/${content.id}?reason=soak-retraction`, undefined);
  }

  private newWrite(kind: WriteKind, id: string, headline: string | null, topics: string[]): Write {
    const write: Write = { kind, id, headline, topics, attempts: [], state: 'pending' };
    this.writes.push(write);
    return write;
  }

  /** Sends until acknowledged, refused for good, or past the give-up time; each try to a random live server. */
  private async attempt(write: Write, method: string, path: string, body: unknown): Promise<void> {
    const started = Date.now();
    for (;;) {
      const servers = this.live();
      if (servers.length === 0) {
        if (Date.now() > this.giveUpAt) break;
        await sleep(100);
        continue;
      }
      const answer = await send(this.random.pick(servers), method, path, body);
      // A refusal with its code ("503 write-outcome-unknown"): the code says whether it may have saved.
      const code = typeof answer.body?.error?.code === 'string' ? ` ${answer.body.error.code}` : '';
      write.attempts.push(answer.status === 0 ? (answer.error ?? 'network') : `${answer.status}${code}`);
      // A retraction retried after its first try went through (unseen) finds the item gone.
      const ok = answer.status === 200 || answer.status === 201 || (write.kind === 'retract' && answer.status === 410 && write.attempts.length > 1);
      if (ok) {
        write.state = 'acked';
        write.ackStatus = answer.status;
        write.cursor = answer.body?.cursor;
        write.unchanged = answer.body?.unchanged === true;
        write.ackMs = Date.now() - started;
        return;
      }
      if (!RETRY.has(answer.status)) {
        write.state = 'rejected';
        write.refusal = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
        return;
      }
      if (Date.now() > this.giveUpAt) break;
      const wait = answer.retryAfter !== null ? Math.min(2_000, answer.retryAfter * 1000) : 400;
      await sleep(wait / 2 + (this.random.next() * wait) / 2);
    }
    write.state = 'abandoned';
  }
}
