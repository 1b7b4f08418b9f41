// Resume and reset of one session, against a fake socket: no gap, no
// duplicate, no reset arriving after newer events, no wait without end, no
// unbounded pile of held events.
import { describe, expect, it } from 'vitest';
import { Hub } from '../../src/hub/hub.ts';
import { type RecoveryContext, resetSession, startSession } from '../../src/realtime/recovery.ts';
import { Session } from '../../src/realtime/session.ts';
import type { LogHead } from '../../src/store/store.ts';
import type { View } from '../../src/views/views.ts';
import { event, FakeWire, flushed } from '../support/fake-wire.ts';

const EPOCH = 'epochepoch01';

/** A socket that records every frame written and drains when told to. */
class FrameWire extends FakeWire {
  readonly frames: Record<string, any>[] = [];
  closed: { code: number; reason: string } | null = null;

  write(frames: Buffer): void {
    let at = 0;
    // Unmasked text frames: 1-byte opcode, then 7-, 16- or 64-bit length.
    while (at < frames.length) {
      let length = (frames[at + 1] as number) & 0x7f;
      let header = 2;
      if (length === 126) {
        length = frames.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        length = Number(frames.readBigUInt64BE(at + 2));
        header = 10;
      }
      this.frames.push(JSON.parse(frames.subarray(at + header, at + header + length).toString()));
      at += header + length;
    }
    this.buffered += frames.length;
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  events(): number[] {
    return this.frames.filter((f) => f.type === 'event').map((f) => Number(String(f.cursor).split('-')[1]));
  }
}

async function setup(options: { log?: number; recent?: number; sendBuffer?: number; drainTimeoutMs?: number } = {}) {
  const log = Array.from({ length: options.log ?? 0 }, (_, i) => event(i + 1));
  const hub = new Hub({}, { events: options.recent ?? 4_096, bytes: 64 * 1024 * 1024 });
  hub.startAt(EPOCH, 0);
  for (const e of log) hub.deliver(e, EPOCH);
  // Fanned out before any session joins.
  await flushed();
  let viewGate: (() => void) | null = null;
  let viewHead = log.length;
  const slow: string[] = [];
  const dropped = new Set<Session>();
  const ctx: RecoveryContext = {
    hub,
    store: {
      async head(): Promise<LogHead> {
        return { epoch: EPOCH, seq: log.length, floor: 0 };
      },
      async readAfter(after: number, limit: number) {
        return log.filter((e) => e.seq > after).slice(0, limit);
      },
    },
    views: {
      async get(): Promise<View> {
        // The test decides when the snapshot read completes.
        if (viewGate === null) await new Promise<void>((resolve) => (viewGate = resolve));
        return {
          epoch: EPOCH,
          headSeq: viewHead,
          detail: 'card',
          entries: [{ id: `i${viewHead}`, order: viewHead, json: `{"id":"i${viewHead}"}`, expiresMs: undefined }],
          seq: viewHead,
          at: undefined,
          staleAtMs: Number.POSITIVE_INFINITY,
        };
      },
    },
    snapshotItems: 50,
    // As the gateway does: out of the hub, once.
    onSlowConsumer: (session) => {
      if (dropped.has(session)) return;
      dropped.add(session);
      slow.push(String(session.lastSeq));
      hub.remove(session);
    },
  };
  const session = (wire: FrameWire, topics: Set<string> | null = null, detail: 'card' | 'full' = 'card') =>
    new Session(wire, topics, detail, { sendBuffer: options.sendBuffer ?? 1_000_000, messagesPer10s: 100, drainTimeoutMs: options.drainTimeoutMs ?? 1_000 }, {
      onSlowConsumer: (s) => ctx.onSlowConsumer(s),
    });
  return {
    hub,
    log,
    ctx,
    slow,
    session,
    publish(seq: number, topics?: string[]) {
      const e = event(seq, topics);
      log.push(e);
      hub.deliver(e, EPOCH);
    },
    releaseView(head?: number) {
      if (head !== undefined) viewHead = head;
      const gate = viewGate;
      viewGate = () => {};
      gate?.();
    },
  };
}

const welcome = (wire: FrameWire) => (cursor: string, resumed: boolean) => wire.write(frame({ type: 'welcome', cursor, resumed }));
function frame(value: unknown): Buffer {
  const text = Buffer.from(JSON.stringify(value));
  return Buffer.concat([Buffer.from([0x81, 126, text.length >> 8, text.length & 0xff]), text]);
}

describe('resume', () => {
  it('replays exactly what was missed from memory, then live events, nothing twice', async () => {
    const t = await setup({ log: 10 });
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    const started = startSession(s, { epoch: EPOCH, seq: 4 }, t.ctx, welcome(wire));
    t.publish(11);
    await started;
    await flushed();
    t.publish(12);
    await flushed();
    expect(wire.events()).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('replays from the log when memory does not reach back, and for whole items', async () => {
    const t = await setup({ log: 30, recent: 5 });
    const wire = new FrameWire();
    const s = t.session(wire, null, 'full');
    t.hub.add(s);
    await startSession(s, { epoch: EPOCH, seq: 3 }, t.ctx, welcome(wire));
    t.publish(31);
    await flushed();
    expect(wire.events()).toEqual(Array.from({ length: 28 }, (_, i) => i + 4));
    // Whole items: the body travels.
    expect(wire.frames.filter((f) => f.type === 'event').every((f) => f.item.body === '<p>body</p>')).toBe(true);
  });

  it('gives up on a reader that stops taking the replay, within the drain deadline', async () => {
    const t = await setup({ log: 30, recent: 5, sendBuffer: 100, drainTimeoutMs: 100 });
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    const began = Date.now();
    await startSession(s, { epoch: EPOCH, seq: 0 }, t.ctx, welcome(wire));
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(t.slow).toHaveLength(1);
  });

  it('does not wait on a socket that closed mid-replay', async () => {
    const t = await setup({ log: 30, recent: 5, sendBuffer: 100, drainTimeoutMs: 60_000 });
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    const started = startSession(s, { epoch: EPOCH, seq: 0 }, t.ctx, welcome(wire));
    await flushed();
    wire.terminate();
    await started;
    expect(wire.events().length).toBeLessThan(30);
  });

  it('bounds the live events held during a replay by bytes, at every moment', async () => {
    const t = await setup({ log: 30, recent: 5, sendBuffer: 2_000, drainTimeoutMs: 60_000 });
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    const started = startSession(s, { epoch: EPOCH, seq: 0 }, t.ctx, welcome(wire));
    // The reader stopped reading: the replay waits, and live events pile up behind it.
    for (let seq = 31; seq <= 60 && t.slow.length === 0; seq++) {
      t.publish(seq);
      await flushed();
    }
    expect(t.slow).toHaveLength(1);
    wire.terminate();
    await started;
  });
});

describe('reset', () => {
  it('holds live events while the snapshot is read, and sends them after it: none lost, none before it', async () => {
    const t = await setup({ log: 5 });
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    s.goLive();
    s.lastSeq = 5;
    // The log was replaced: a reset is built while events keep coming.
    const reset = resetSession(s, 'epoch-changed', t.ctx);
    t.publish(6);
    await flushed();
    t.publish(7);
    await flushed();
    // The snapshot reflects the log up to 6: event 6 is in it, 7 is not.
    t.releaseView(6);
    await reset;
    await flushed();
    expect(wire.frames.map((f) => f.type)).toEqual(['reset', 'event']);
    expect(wire.events()).toEqual([7]);
    t.publish(8);
    await flushed();
    expect(wire.events()).toEqual([7, 8]);
  });

  it('lets the newest of two overlapping resets win', async () => {
    const t = await setup({ log: 2 });
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    s.goLive();
    const first = resetSession(s, 'epoch-changed', t.ctx);
    const second = resetSession(s, 'epoch-changed', t.ctx);
    t.releaseView(2);
    await Promise.all([first, second]);
    expect(wire.frames.filter((f) => f.type === 'reset')).toHaveLength(1);
  });

  it('answers a cursor of another epoch with one reset, then live events', async () => {
    const t = await setup({ log: 3 });
    t.releaseView(3);
    const wire = new FrameWire();
    const s = t.session(wire);
    t.hub.add(s);
    await startSession(s, { epoch: 'otherepoch01', seq: 2 }, t.ctx, welcome(wire));
    t.publish(4);
    await flushed();
    expect(wire.frames.map((f) => f.type)).toEqual(['welcome', 'reset', 'event']);
    expect(wire.frames[1]).toMatchObject({ reason: 'epoch-changed', cursor: `${EPOCH}-3` });
    expect(wire.events()).toEqual([4]);
  });
});
