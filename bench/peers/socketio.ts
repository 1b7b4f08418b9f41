// Socket.IO 4.8 broadcasting each event to one room; with REDIS_URL, the
// official Redis adapter carries broadcasts between processes.
import { Server } from 'socket.io';
import { eventFor, listen, publishServer } from './common.ts';

const ROOM = 'news';
let io: Server;
const server = publishServer((input) => {
  io.to(ROOM).emit('event', eventFor(input).value);
});
io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
if (process.env.REDIS_URL) {
  const { Redis } = await import('ioredis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = new Redis(process.env.REDIS_URL);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}
io.on('connection', (socket) => {
  void socket.join(ROOM);
});
listen(server, 'socketio');
