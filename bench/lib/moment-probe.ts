// Two single-client probes: how many bytes a subscriber receives for one
// published event, and what a `reset` snapshot costs (time, bytes, CPU).
import WebSocket from 'ws';
import { cpuSince } from './moment-phases.ts';
import { type SeedStory, postItem } from './moment-seed.ts';
import { publish } from './publisher.ts';
import { type Latency, now, round, summarise } from './stats.ts';
import type { Target } from './targets.ts';

export interface FrameSize {
  /** The message as the client library hands it over (the JSON text). */
  payloadBytes: number;
  /** With the WebSocket frame header (server frames are unmasked). */
  frameBytes: number;
}

const frameSize = (payload: number): FrameSize => ({
  payloadBytes: payload,
  frameBytes: payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10),
});

const isReset = (d: Buffer) => d.toString('latin1', 0, 16) === '{"type":"reset",';

/** Opens `url` and resolves with the socket and the first frame `match` accepts (the welcome by default). */
function openUntil(url: string, match: (data: Buffer) => boolean = () => true): Promise<{ ws: WebSocket; frame: Buffer }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${url} sent no expected frame in time`));
    }, 10_000);
    ws.once('error', reject);
    const listen = (frame: Buffer) => {
      if (!match(frame)) return;
      clearTimeout(timer);
      ws.off('message', listen);
      resolve({ ws, frame });
    };
    ws.on('message', listen);
  });
}

/** Waits on an open socket for the first frame `match` accepts. */
function frameMatching(ws: WebSocket, match: (data: Buffer) => boolean, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', listen);
      reject(new Error('the probe frame never came'));
    }, timeoutMs);
    const listen = (data: Buffer) => {
      if (!match(data)) return;
      clearTimeout(timer);
      ws.off('message', listen);
      resolve(data);
    };
    ws.on('message', listen);
  });
}

export interface EventBytes {
  seedStory: FrameSize;
  flashAlert: FrameSize;
}

/**
 * Publishes the seed story (its whole publish object, a fresh id) and one
 * flash alert while a subscriber of every topic listens on the last server
 * process (with Redis, not the one that took the publish).
 */
export async function eventBytes(target: Target, wsUrl: string, story: SeedStory, id: string): Promise<EventBytes> {
  const { ws } = await openUntil(wsUrl);
  try {
    const storyFrame = frameMatching(ws, (d) => d.includes(`"id":"${id}"`));
    const status = await postItem(target.httpUrls[0] as string, { ...story, id });
    if (status !== 201) throw new Error(`publishing the seed story answered ${status}`);
    const seed = await storyFrame;
    const run = `${id}-alert`;
    const alertFrame = frameMatching(ws, (d) => d.includes(`bench|${run}|`));
    await publish(target.httpUrls[0] as string, run, 1);
    const alert = await alertFrame;
    return { seedStory: frameSize(seed.length), flashAlert: frameSize(alert.length) };
  } finally {
    ws.terminate();
  }
}

export interface SnapshotCost {
  count: number;
  /** Connect to the `reset` frame, one reader after another. */
  latencyMs: Latency;
  resetBytes: number;
  items: number;
  serverCpuUsPerSnapshot: number;
  redisCpuUsPerSnapshot: number | null;
}

/** Readers come back with a cursor of another epoch: each gets `reset` and a fresh snapshot. */
export async function snapshotCost(target: Target, wsUrl: string, count: number): Promise<SnapshotCost> {
  const url = `${wsUrl}${wsUrl.includes('?') ? '&' : '?'}cursor=momentprobe0epoch-1`;
  const latencies: number[] = [];
  let resetBytes = 0;
  let items = 0;
  const cpu = cpuSince(target);
  for (let i = 0; i < count; i++) {
    const start = now();
    const { ws, frame } = await openUntil(url, isReset);
    latencies.push(now() - start);
    ws.terminate();
    resetBytes = frame.length;
    if (i === count - 1) items = (JSON.parse(frame.toString('utf8')) as { items: unknown[] }).items.length;
  }
  const used = cpu();
  const served = Math.max(1, count);
  return {
    count,
    latencyMs: summarise(latencies),
    resetBytes,
    items,
    serverCpuUsPerSnapshot: round(used.server / served),
    redisCpuUsPerSnapshot: target.redisPid ? round(used.redis / served) : null,
  };
}
