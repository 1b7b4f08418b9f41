// A plain TCP forwarder in front of a test server: `cut()` drops every
// connection and refuses new ones (a network partition), `heal()` lets them
// through again. Real bytes, real sockets: nothing of the protocol is faked.
// With `dropUpgrades`, it passes plain HTTP but drops every connection asking
// for a WebSocket upgrade, as some corporate proxies and firewalls do.
// `loseAnswerTo(marker)` lets one request through and loses its answer with
// the connection, as a network that fails at the wrong moment does.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  /** Connections accepted so far (refused ones included). */
  connections = 0;
  /** Upgrade requests dropped so far (with `dropUpgrades`). */
  dropped = 0;
  /** Sent upstream before an answer to lose (see loseAnswerTo). */
  private loseAfter: string | undefined;
  /** Upstream connections whose answer holding `doomedAnswer` is dropped, with the connection. */
  private readonly doomed = new Set<Socket>();
  private doomedAnswer: string | undefined;
  /** Answers lost so far. */
  lost = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
    private readonly dropUpgrades: boolean,
  ) {}

  static async start(targetPort: number, options: { dropUpgrades?: boolean } = {}): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort, options.dropUpgrades ?? false);
    server.on('connection', (socket) => proxy.accept(socket));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  private accept(client: Socket): void {
    this.connections++;
    if (this.blocked) {
      client.destroy();
      return;
    }
    if (!this.dropUpgrades) {
      this.forward(client);
      return;
    }
    // The first bytes decide: an upgrade request is dropped, anything else goes through.
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (head: Buffer) => {
      client.pause();
      if (/^upgrade:\s*websocket/im.test(head.toString('latin1'))) {
        this.dropped++;
        client.destroy();
        return;
      }
      client.unshift(head);
      this.forward(client);
    });
  }

  private forward(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.doomed.delete(socket);
      });
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (this.loseAfter !== undefined && chunk.includes(this.loseAfter)) {
        this.doomedAnswer = this.loseAfter;
        this.loseAfter = undefined;
        this.doomed.add(upstream);
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (this.doomed.has(upstream) && chunk.includes(this.doomedAnswer ?? '')) {
        // The request went through and was answered: the answer and the connection are lost.
        this.lost++;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    // A client paused while its first bytes were looked at (dropUpgrades) flows again.
    client.resume();
  }

  /**
   * The next request that contains `marker` reaches the target, and the
   * answer on its connection that contains `marker` too (so the request was
   * carried out) is lost with the connection: the client cannot know.
   */
  loseAnswerTo(marker: string): void {
    this.loseAfter = marker;
  }

  /** Drops every open connection and refuses new ones until heal(). */
  cut(): void {
    this.blocked = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
