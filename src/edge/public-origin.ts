// The origin this server puts in absolute links (feeds, sitemaps) and
// accepts as its own. With PUBLIC_URL it is fixed. Without it (development
// only: production requires PUBLIC_URL) the first request's Host is taken
// once and kept, so no client can make the server render a feed per Host.
import type { Logger } from '../ops/logger.ts';

// A host name or address with an optional port: nothing else may reach a link.
const HOST = /^(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export class PublicOrigin {
  private settled: string | undefined;

  constructor(
    readonly configured: string | undefined,
    private readonly logger: Logger,
  ) {
    if (configured) this.settled = new URL(configured).origin;
  }

  /** The base for absolute links, without a trailing slash (PUBLIC_URL keeps its path). */
  get base(): string {
    return this.configured ?? this.settled ?? 'http://localhost';
  }

  /** The origin browsers of this server's own pages send; undefined until known. */
  get origin(): string | undefined {
    return this.settled;
  }

  /** Offers a request's Host and scheme; the first valid one settles the origin when PUBLIC_URL is unset. */
  offer(host: string | undefined, proto: 'http' | 'https'): void {
    if (this.settled || !host || !HOST.test(host)) return;
    this.settled = `${proto}://${host.toLowerCase()}`;
    this.logger.warn(
      { origin: this.settled },
      'PUBLIC_URL is not set: absolute links in feeds use the origin of the first request; set PUBLIC_URL to choose it',
    );
  }
}
