// Draining an HTTP server without waiting on keep-alive: once draining, every
// request in flight (and any that still arrives on an open connection) is
// answered with `Connection: close`, so its connection ends with its response
// and the server closes as soon as the last response is out, instead of
// holding the process until the idle keep-alive timeout or the grace period.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export class HttpDrain {
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;

  constructor(private readonly server: Server) {
    const inFlight = this.inFlight;
    // One listener for every response (no closure per request); `this` is the response.
    const done = function (this: ServerResponse) {
      inFlight.delete(this);
    };
    // First among the request listeners: the header must be set before any answer starts.
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (this.draining) {
        closeAfter(res);
        return;
      }
      inFlight.add(res);
      res.on('close', done);
    });
  }

  get active(): number {
    return this.inFlight.size;
  }

  /**
   * Stops listening, ends idle connections now and every other one after its
   * response; resolves when the server has closed or `withinMs` passed.
   */
  async drain(withinMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const res of this.inFlight) closeAfter(res);
    this.inFlight.clear();
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
  }
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) {
    res.setHeader('Connection', 'close');
    return;
  }
  // Headers already out (a stream, a large body): the connection ends once this response has.
  const socket = res.socket;
  if (!socket) return;
  if (res.writableFinished) socket.end();
  else res.once('finish', () => socket.end());
}
