// One 'close' listener of ours per socket, whatever wants to hear of it.
// EventEmitter holds two listeners of an event in an array of two, and grows
// it to nineteen slots (176 bytes) at the third: the socket of an open
// WebSocket would otherwise carry that for its whole life (the edge's count,
// the live-connection place, the access log's line, and ws's own).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

type OnClose = (this: Socket) => void;

const HOOKS = Symbol('on-close');
type Hooked = (Socket | Duplex) & { [HOOKS]?: OnClose | OnClose[] };

/** Calls `fn` (with the socket as `this`) once, when the socket closes. */
export function onSocketClose(socket: Socket | Duplex, fn: OnClose): void {
  const hooked = socket as Hooked;
  const hooks = hooked[HOOKS];
  if (hooks === undefined) {
    hooked[HOOKS] = fn;
    socket.on('close', runHooks);
  } else {
    // A new array of the exact size each time (concat allocates exactly; a
    // push or a spread over-allocates to nineteen slots).
    hooked[HOOKS] = typeof hooks === 'function' ? [hooks, fn] : hooks.concat(fn);
  }
}

function runHooks(this: Hooked): void {
  const hooks = this[HOOKS];
  this[HOOKS] = undefined;
  if (typeof hooks === 'function') hooks.call(this as Socket);
  else if (hooks) for (const hook of hooks) hook.call(this as Socket);
}
