// A WebSub subscriber that follows the spec: it answers the hub's challenge
// for what it asked for, and checks the signature of every delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface Received {
  body: string;
  contentType: string;
  link: string;
  signatureValid: boolean | null;
}

export interface Subscriber {
  callback: string;
  /** Verification requests answered, by mode. */
  verified: { mode: string; topic: string; lease: string | null }[];
  deliveries: Received[];
  /** Deliveries refused because their signature did not match. */
  forged: number;
  stop(): Promise<void>;
}

/** `secret`: what it gave the hub; `refuse`: answer challenges wrongly (a subscription it never asked for). */
export async function startSubscriber(options: { secret?: string; refuse?: boolean; path?: string } = {}): Promise<Subscriber> {
  const state = { verified: [] as Subscriber['verified'], deliveries: [] as Received[], forged: 0 };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET') {
      const challenge = url.searchParams.get('hub.challenge') ?? '';
      state.verified.push({ mode: url.searchParams.get('hub.mode') ?? '', topic: url.searchParams.get('hub.topic') ?? '', lease: url.searchParams.get('hub.lease_seconds') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(options.refuse ? 'no' : challenge);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let signatureValid: boolean | null = null;
      if (options.secret) {
        const expected = Buffer.from(`sha256=${createHmac('sha256', options.secret).update(body).digest('hex')}`);
        const given = Buffer.from(String(req.headers['x-hub-signature'] ?? ''));
        signatureValid = given.length === expected.length && timingSafeEqual(given, expected);
        if (!signatureValid) {
          // The spec: a delivery whose signature does not match is ignored (and still acknowledged).
          state.forged++;
          res.writeHead(202);
          res.end();
          return;
        }
      }
      state.deliveries.push({ body: body.toString('utf8'), contentType: String(req.headers['content-type']), link: String(req.headers.link ?? ''), signatureValid });
      res.writeHead(202);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    callback: `http://127.0.0.1:${port}${options.path ?? '/websub-callback'}`,
    get verified() {
      return state.verified;
    },
    get deliveries() {
      return state.deliveries;
    },
    get forged() {
      return state.forged;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
