// Who is on the other end of a request. Behind a reverse proxy the TCP peer
// is the proxy: its X-Forwarded-For / -Proto headers are believed only when
// the peer is one of the operator's TRUST_PROXY addresses, never otherwise.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export interface Client {
  /** The client's address: the peer's, or the one a trusted proxy forwarded. */
  address: string;
  /** The scheme the client used (a trusted proxy may have terminated TLS). */
  proto: 'http' | 'https';
  /** True when the request came through a trusted proxy. */
  proxied: boolean;
}

export class ProxyTrust {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** Entries: IPv4/IPv6 addresses, CIDR ranges ("10.0.0.0/8"), or "loopback". */
  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      if (entry === 'loopback') {
        this.list.addSubnet('127.0.0.0', 8, 'ipv4');
        this.list.addAddress('::1', 'ipv6');
        continue;
      }
      const [address = '', bits] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
  }

  trusts(address: string | undefined): boolean {
    if (this.empty || !address) return false;
    const v4 = unmapped(address);
    return isIP(v4) === 4 ? this.list.check(v4, 'ipv4') : this.list.check(address, 'ipv6');
  }
}

/** Checks one TRUST_PROXY entry; a message if it is not one. */
export function proxyEntryProblem(entry: string): string | null {
  if (entry === 'loopback') return null;
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return `"${entry}" is not an IP address, a CIDR range or "loopback"`;
  if (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))) {
    return `"${entry}" has a prefix length that does not fit its address`;
  }
  return null;
}

const cache = new WeakMap<IncomingMessage, Client>();

export function clientOf(request: IncomingMessage, trust: ProxyTrust): Client {
  let client = cache.get(request);
  if (client) return client;
  const peer = unmapped(request.socket.remoteAddress ?? '');
  const encrypted = Boolean((request.socket as { encrypted?: boolean }).encrypted);
  client = { address: peer, proto: encrypted ? 'https' : 'http', proxied: false };
  if (trust.trusts(peer)) {
    // The right-most address that is not a trusted proxy is the client.
    const hops = headerList(request.headers['x-forwarded-for']);
    let address = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapped(hops[i] as string);
      if (!isIP(hop)) break;
      address = hop;
      if (!trust.trusts(hop)) break;
    }
    const proto = headerList(request.headers['x-forwarded-proto'])[0]?.toLowerCase();
    client = { address, proto: proto === 'https' ? 'https' : proto === 'http' ? 'http' : client.proto, proxied: true };
  }
  cache.set(request, client);
  return client;
}

/**
 * The key limits are counted under: an IPv4 address, or the /64 network of
 * an IPv6 one (a single host is usually given a whole /64).
 */
export function addressKey(address: string): string {
  const v4 = unmapped(address);
  if (isIP(v4) !== 6) return v4;
  const groups = expand(v4);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : v4;
}

function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** "::ffff:1.2.3.4" → "1.2.3.4"; anything else as it is. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The eight groups of an IPv6 address, or null. */
function expand(address: string): string[] | null {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  if (right.length && isIP(right[right.length - 1] as string) === 4) return null;
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  return [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right].map((group) => group.toLowerCase());
}
