// How a session catches up with the log: the one home of resume and reset.
//
// A session is in the hub (so no live event can pass it by) and holding live
// events back before anything here starts. Then:
//   no cursor           → welcome at the hub's position, live
//   cursor still held   → welcome(resumed), replay what it missed (from memory
//                         or the log, waiting for the socket to drain), live
//   cursor of no use    → welcome, reset with a snapshot of the latest items, live
// "Live" sends what was held meanwhile, past the last seq written, so the
// switch can neither lose nor double an event. A reset of a live session
// (the log was replaced) holds live events the same way while it is built.
import { formatCursor } from '../domain/cursor.ts';
import { eventKeys, type NewsEvent } from '../domain/event.ts';
import type { Detail } from '../domain/item.ts';
import type { Hub } from '../hub/hub.ts';
import { controlMessage, eventMessage, type Joined, joinedLazily, type OutboundMessage } from '../hub/message.ts';
import type { LogHead, Store } from '../store/store.ts';
import { listKeys, type View, type ViewCache, viewJson } from '../views/views.ts';
import type { Session } from './session.ts';

/** Items may carry bodies of up to 200 KB: a page of the log stays well below 100 MB. */
const REPLAY_PAGE = 256;

export type ResetReason = 'epoch-changed' | 'cursor-expired' | 'cursor-unknown';

export interface RecoveryContext {
  hub: Hub;
  store: Pick<Store, 'head' | 'readAfter'>;
  views: Pick<ViewCache, 'get'>;
  /** Items in a reset's snapshot. */
  snapshotItems: number;
  onReplayed?(count: number): void;
  onReset?(reason: ResetReason): void;
  /** The session stopped reading while it was being caught up. */
  onSlowConsumer(session: Session): void;
}

/** Sends the welcome frame; `resumed` says whether the cursor was honoured. */
export type Welcome = (cursor: string, resumed: boolean) => void;

/** Welcome, then replay or reset, then live. */
export async function startSession(
  session: Session,
  cursor: { epoch: string; seq: number } | null,
  ctx: RecoveryContext,
  welcome: Welcome,
): Promise<void> {
  const { hub } = ctx;
  if (!cursor) {
    session.lastSeq = hub.lastSeq;
    welcome(formatCursor(hub.epoch, hub.lastSeq), false);
    session.goLive();
    return;
  }
  // Fast path: this process holds every event after the cursor in memory.
  const head: LogHead =
    cursor.epoch === hub.epoch && cursor.seq <= hub.lastSeq && hub.recent.covers(cursor.seq)
      ? { epoch: hub.epoch, seq: hub.lastSeq, floor: 0 }
      : await ctx.store.head();
  const reason: ResetReason | null =
    cursor.epoch !== head.epoch
      ? 'epoch-changed'
      : cursor.seq < head.floor
        ? 'cursor-expired'
        : cursor.seq > head.seq
          ? 'cursor-unknown'
          : null;
  if (reason) {
    await resetSession(session, reason, ctx, welcome);
    return;
  }
  welcome(formatCursor(cursor.epoch, cursor.seq), true);
  session.lastSeq = cursor.seq;
  const generation = session.generation;
  const replayed = await replay(session, head.epoch, ctx, generation);
  if (replayed === null || session.generation !== generation) return;
  ctx.onReplayed?.(replayed);
  session.goLive();
}

/**
 * Replaces what the client shows with the latest items of its topics, from
 * a view shared with every other reader of those topics. Live events are
 * held while the view is read; a newer reset of the same session wins.
 */
export async function resetSession(session: Session, reason: ResetReason, ctx: RecoveryContext, welcome?: Welcome): Promise<void> {
  session.hold();
  const generation = ++session.generation;
  const view = await ctx.views.get(listKeys(session.topics), session.detail);
  if (session.generation !== generation || !session.open) return;
  const cursor = formatCursor(view.epoch, view.headSeq);
  welcome?.(cursor, false);
  session.lastSeq = view.epoch === ctx.hub.epoch ? Math.max(session.lastSeq, view.headSeq) : view.headSeq;
  session.writeFrames(resetFrame(view, reason, ctx.snapshotItems).bytes(session.framing), 0);
  ctx.onReset?.(reason);
  session.goLive();
}

const resets = new WeakMap<View, Map<string, Joined>>();

/**
 * The reset frame of a view: the same for every session reset to it (after
 * a new epoch, every session at once), so built once per view, reason and
 * snapshot size, and framed once per framing.
 */
function resetFrame(view: View, reason: ResetReason, items: number): Joined {
  let byReason = resets.get(view);
  if (!byReason) {
    byReason = new Map();
    resets.set(view, byReason);
  }
  const key = `${reason}|${items}`;
  let frame = byReason.get(key);
  if (!frame) {
    const cursor = formatCursor(view.epoch, view.headSeq);
    const text = `{"type":"reset","reason":"${reason}","cursor":"${cursor}","items":${viewJson(view, items)}}`;
    frame = joinedLazily([controlMessage('reset', text, cursor)]);
    byReason.set(key, frame);
  }
  return frame;
}

/**
 * Writes every wanted event after session.lastSeq, waiting for the socket to
 * drain rather than overflow it. Returns how many it sent, or null when the
 * session went away, fell too far behind, or a reset took over.
 */
async function replay(session: Session, epoch: string, ctx: RecoveryContext, generation: number): Promise<number | null> {
  const { hub } = ctx;
  let replayed = 0;
  const gone = () => !session.open || session.generation !== generation;
  for (;;) {
    if (gone()) return null;
    // Cards of recent events are held framed in memory, joined once (per
    // framing) for everyone resuming from the same place.
    if (session.detail === 'card' && hub.epoch === epoch && hub.recent.covers(session.lastSeq)) {
      const joined = hub.replay(session.lastSeq, session.topics);
      if (joined.messages.length) session.writeFrames(joined.bytes(session.framing), joined.lastSeq);
      else session.lastSeq = joined.lastSeq;
      replayed += joined.messages.length;
      if (!(await drainedOrDropped(session, ctx))) return null;
      return gone() ? null : replayed;
    }
    const page = await readPage(ctx.store, session.lastSeq);
    for (const event of page.events) {
      if (gone()) return null;
      if (event.seq <= session.lastSeq) continue;
      if (!session.wants(eventKeys(event))) {
        session.lastSeq = event.seq;
        continue;
      }
      session.write(page.message(event, epoch, session.detail));
      replayed++;
      if (!(await drainedOrDropped(session, ctx))) return null;
    }
    if (page.events.length < REPLAY_PAGE) return gone() ? null : replayed;
  }
}

async function drainedOrDropped(session: Session, ctx: RecoveryContext): Promise<boolean> {
  if (await session.drained()) return true;
  // It stopped reading (or went away): it comes back later with its cursor.
  if (session.open) ctx.onSlowConsumer(session);
  return false;
}

/** A page of the log, shared by every resume reading it at the same time, its frames built once. */
interface Page {
  events: NewsEvent[];
  message(event: NewsEvent, epoch: string, detail: Detail): OutboundMessage;
}

const reading = new WeakMap<object, Map<number, Promise<Page>>>();

function readPage(store: Pick<Store, 'readAfter'>, after: number): Promise<Page> {
  let pages = reading.get(store);
  if (!pages) {
    pages = new Map();
    reading.set(store, pages);
  }
  let page = pages.get(after);
  if (!page) {
    const inFlight = pages;
    page = store.readAfter(after, REPLAY_PAGE).then((events) => {
      const built = new Map<string, OutboundMessage>();
      return {
        events,
        message(event, epoch, detail) {
          const key = `${detail}|${epoch}|${event.seq}`;
          let message = built.get(key);
          if (!message) {
            message = eventMessage(event, epoch, detail);
            built.set(key, message);
          }
          return message;
        },
      };
    });
    inFlight.set(after, page);
    // Shared while the read is in flight; whoever holds the page keeps its frames.
    const forget = () => {
      if (inFlight.get(after) === page) inFlight.delete(after);
    };
    page.then(forget, forget);
  }
  return page;
}
