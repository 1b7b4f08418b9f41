// The reader rush, in its own process (never the server's, never the
// subscribers'): page loads and feed polls at fixed rates, open loop, so a
// slow server gets more requests in flight rather than fewer requests.
// Latency runs from the time a request was due, not from when it went out.
import { Agent, request } from 'node:http';
import type { LoadKind as Kind, MomentToLoad } from './moment-load.ts';
import { now, summarise } from './stats.ts';

const KINDS: Kind[] = ['front', 'topic', 'story', 'feed200', 'feed304'];
const PAGE_KINDS: Kind[] = ['front', 'topic', 'story'];

// Keep-alive, as browsers and most feed readers poll; a pool per origin and source address.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const MAX_IN_FLIGHT = 1_024;
/** A request that left this much after it was due means the load generator itself fell behind. */
const LATE_MS = 20;

let plan: Extract<MomentToLoad, { type: 'start' }> | null = null;
let ticker: NodeJS.Timeout | null = null;
let start = 0;
let pagesSent = 0;
let feedsSent = 0;
let inFlight = 0;
let late = 0;
let dropped = 0;
/** How long after it was due each request left: the load generator's own lag on a busy machine. */
let lags: number[] = [];
let samples = new Map<Kind, number[]>();
let bytes = new Map<Kind, number>();
let errors: Record<string, number> = {};
/** Per feed URL: the validators of its last response, and how often it was polled (odd polls are conditional). */
const validators = new Map<string, { polls: number; etag?: string; lastModified?: string }>();

const send = (message: unknown) => process.send?.(message);

function pagePath(i: number): { kind: Kind; path: string } {
  const p = plan as NonNullable<typeof plan>;
  const topic = p.topics[Math.floor(i / 3) % p.topics.length] as string;
  if (i % 3 === 0) return { kind: 'front', path: '/' };
  if (i % 3 === 1) return { kind: 'story', path: `/items/${p.storyIds[(i * 7919) % p.storyIds.length]}` };
  return { kind: 'topic', path: `/?topics=${topic}` };
}

function feedPath(i: number): string {
  const p = plan as NonNullable<typeof plan>;
  const topic = p.topics[Math.floor(i / 3) % p.topics.length] as string;
  return ['/feeds/all.atom', `/feeds/${topic}.rss`, `/feeds/${topic}.json`][i % 3] as string;
}

function fire(i: number, due: number, path: string, kind: Kind | 'feed'): void {
  if (inFlight >= MAX_IN_FLIGHT) {
    dropped++;
    return;
  }
  const p = plan as NonNullable<typeof plan>;
  const lag = now() - due;
  lags.push(lag);
  if (lag > LATE_MS) late++;
  const origin = p.origins[i % p.origins.length] as string;
  const headers: Record<string, string> = {};
  const known = kind === 'feed' ? conditional(`${origin}${path}`) : null;
  if (known?.etag) headers['if-none-match'] = known.etag;
  if (known?.lastModified) headers['if-modified-since'] = known.lastModified;
  inFlight++;
  const req = request(`${origin}${path}`, { agent, headers, localAddress: p.addresses[i % p.addresses.length] }, (res) => {
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    res.on('end', () => {
      inFlight--;
      const status = res.statusCode ?? 0;
      if (kind === 'feed') remember(`${origin}${path}`, res.headers.etag, res.headers['last-modified']);
      const settled: Kind | null = kind !== 'feed' ? (status === 200 ? kind : null) : status === 200 ? 'feed200' : status === 304 ? 'feed304' : null;
      if (!settled) {
        errors[`${kind} ${status}`] = (errors[`${kind} ${status}`] ?? 0) + 1;
        return;
      }
      samples.get(settled)?.push(now() - due);
      bytes.set(settled, (bytes.get(settled) ?? 0) + size);
    });
  });
  req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
  req.on('error', (error) => {
    inFlight--;
    const key = `${kind} ${error.message === 'timeout' ? 'timeout' : 'error'}`;
    errors[key] = (errors[key] ?? 0) + 1;
  });
  req.end();
}

/** Every other poll of a URL revalidates with what its previous response said. */
function conditional(url: string): { etag?: string; lastModified?: string } | null {
  const state = validators.get(url) ?? { polls: 0 };
  validators.set(url, state);
  state.polls++;
  return state.polls % 2 === 0 ? state : null;
}

function remember(url: string, etag: string | undefined, lastModified: string | undefined): void {
  const state = validators.get(url) ?? { polls: 0 };
  if (etag) state.etag = etag;
  if (lastModified) state.lastModified = lastModified;
  validators.set(url, state);
}

function tick(): void {
  const p = plan as NonNullable<typeof plan>;
  const elapsed = now() - start;
  while (p.pageRate > 0 && pagesSent <= (elapsed * p.pageRate) / 1000) {
    const { kind, path } = pagePath(pagesSent);
    fire(pagesSent, start + (pagesSent * 1000) / p.pageRate, path, kind);
    pagesSent++;
  }
  while (p.feedRate > 0 && feedsSent <= (elapsed * p.feedRate) / 1000) {
    fire(feedsSent, start + (feedsSent * 1000) / p.feedRate, feedPath(feedsSent), 'feed');
    feedsSent++;
  }
}

async function stop(): Promise<void> {
  if (ticker) clearInterval(ticker);
  ticker = null;
  const seconds = (now() - start) / 1000;
  // Answers still on their way belong to the window.
  const until = now() + 30_000;
  while (inFlight > 0 && now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
  const kinds = Object.fromEntries(
    KINDS.map((kind) => {
      const list = samples.get(kind) ?? [];
      return [kind, { ...summarise(list), meanBytes: Math.round((bytes.get(kind) ?? 0) / Math.max(1, list.length)) }];
    }),
  );
  const served = KINDS.reduce((n, kind) => n + (samples.get(kind)?.length ?? 0), 0);
  const merged = (of: Kind[]) => summarise(of.flatMap((kind) => samples.get(kind) ?? []));
  const all = { pages: merged(PAGE_KINDS), feeds: merged(['feed200', 'feed304']) };
  send({ type: 'stats', seconds, pagesSent, feedsSent, served, late, lagMs: summarise(lags), dropped, unfinished: inFlight, errors, kinds, all });
}

process.on('message', async (message: MomentToLoad) => {
  if (message.type === 'start') {
    plan = message;
    pagesSent = feedsSent = late = dropped = 0;
    lags = [];
    samples = new Map(KINDS.map((kind) => [kind, []]));
    bytes = new Map();
    errors = {};
    start = now();
    ticker = setInterval(tick, 2);
    tick();
    send({ type: 'started' });
  } else if (message.type === 'stop') {
    await stop();
  } else if (message.type === 'exit') {
    agent.destroy();
    process.exit(0);
  }
});

process.on('disconnect', () => process.exit(0));
send({ type: 'hello' });
