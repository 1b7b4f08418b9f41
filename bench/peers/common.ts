// What every peer shares: the publish endpoint the publisher drives, and the
// event frame our server would send for the same item, so every target
// carries the same bytes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

let seq = 0;
const EPOCH = 'benchpeer0000000';

/** The item as our server stores it, and the `event` frame text around it. */
export function eventFor(input: Record<string, unknown>): { text: string; value: Record<string, unknown> } {
  seq++;
  const at = new Date().toISOString();
  const item = { ...input, version: 1, publishedAt: at, updatedAt: at, status: 'published' };
  const value = { type: 'event', cursor: `${EPOCH}-${seq}`, event: 'published', item };
  return { value, text: JSON.stringify(value) };
}

/** POST /api/v1/items → onItem(body); answers 201 like our server. */
export function publishServer(onItem: (input: Record<string, unknown>) => void): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/api/v1/items') {
      res.writeHead(req.url === '/healthz' ? 200 : 404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      onItem(input);
      res.writeHead(201, { 'content-type': 'application/json' }).end(`{"cursor":"${EPOCH}-${seq}"}`);
    });
  });
}

/** Port from env, listening announced on stdout the way our server's log does. */
export function listen(server: Server, name: string): void {
  const port = Number(process.env.PORT ?? 0);
  server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
    const address = server.address() as { port: number };
    console.log(JSON.stringify({ msg: 'listening', port: address.port, peer: name }));
  });
  // Open WebSockets would hold server.close() forever: a benchmark peer just exits.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

/** Several processes: a publish goes through Redis pub/sub to every one of them. */
export async function relay(deliver: (input: Record<string, unknown>) => void): Promise<(input: Record<string, unknown>) => void> {
  const url = process.env.REDIS_URL;
  if (!url) return deliver;
  const { Redis } = await import('ioredis');
  const pub = new Redis(url);
  const sub = new Redis(url);
  await sub.subscribe('bench:items');
  sub.on('message', (_channel: string, message: string) => deliver(JSON.parse(message)));
  return (input) => void pub.publish('bench:items', JSON.stringify(input));
}
