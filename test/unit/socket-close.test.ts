import { once } from 'node:events';
import { createServer, type Socket, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { onSocketClose } from '../../src/edge/socket-close.ts';
import { newRequestId } from '../../src/ops/access-log.ts';

describe('onSocketClose', () => {
  it('calls every hook once, with the socket as this, through one listener', async () => {
    const server = createServer((s) => s.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
    await once(socket, 'connect');
    const calls: string[] = [];
    const before = socket.listenerCount('close');
    for (const name of ['a', 'b', 'c']) {
      onSocketClose(socket, function (this: Socket) {
        expect(this).toBe(socket);
        calls.push(name);
      });
    }
    expect(socket.listenerCount('close')).toBe(before + 1);
    socket.resume();
    await once(socket, 'close');
    expect(calls).toEqual(['a', 'b', 'c']);
    socket.emit('close');
    expect(calls).toEqual(['a', 'b', 'c']);
    server.close();
  });
});

describe('newRequestId', () => {
  it('makes distinct version 4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newRequestId));
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 100)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
