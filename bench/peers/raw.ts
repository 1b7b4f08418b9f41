// A bare `ws` server. MODE=frame builds each event's WebSocket frame once and
// writes the same Buffer to every socket (the near-limit baseline);
// MODE=send calls ws.send for each socket (the naive loop).
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventFor, listen, publishServer, relay } from './common.ts';

const mode = process.env.MODE === 'send' ? 'send' : 'frame';
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

const clients = new Set<WebSocket>();

function deliver(input: Record<string, unknown>): void {
  const { text } = eventFor(input);
  if (mode === 'send') {
    for (const ws of clients) ws.send(text);
    return;
  }
  const parts = Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false });
  const frame = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  for (const ws of clients) (ws as unknown as { _socket: Socket })._socket.write(frame);
}

const publish = await relay(deliver);
const server = publishServer(publish);
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
  ws.on('error', () => ws.terminate());
});
listen(server, `raw-${mode}`);
