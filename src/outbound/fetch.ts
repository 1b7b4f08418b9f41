// Requests to URLs that readers and subscribers gave us (push endpoints,
// WebSub callbacks): untrusted. Only http(s), no credentials; the host is
// resolved first and every address it resolves to must be public (not
// loopback, private, link-local, multicast or reserved) unless the operator
// allowed that host; the connection goes to the address that was checked,
// so a second lookup cannot point it elsewhere. Bounded in time and in the
// size of the answer read; redirects are not followed.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { unmapped } from '../edge/address.ts';

export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

export interface OutboundPolicy {
  /** Hosts (names or addresses, lowercase) allowed although not public; http is allowed for them too. */
  allowHosts: ReadonlySet<string>;
  timeoutMs: number;
  /** Most bytes of an answer read (the rest is discarded). */
  maxResponseBytes: number;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** True for an address on the public internet. */
export function isPublicAddress(address: string): boolean {
  const v4 = unmapped(address);
  const family = isIP(v4);
  if (family === 4) return !NOT_PUBLIC.check(v4, 'ipv4');
  if (family === 6) return !NOT_PUBLIC.check(v4, 'ipv6');
  return false;
}

/** Why a URL may not be requested, or null: the checks that need no lookup. */
export function urlProblem(value: string, policy: Pick<OutboundPolicy, 'allowHosts'>): string | null {
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  const host = hostOf(url);
  const allowed = policy.allowHosts.has(host);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) return 'must be an https URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (isIP(host) && !isPublicAddress(host) && !allowed) return 'must not point to a private, loopback or reserved address';
  if (!isIP(host) && !host.includes('.') && !allowed) return 'must name a host on the public internet';
  return null;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
};

/** A lookup that answers only with addresses that passed the check. */
function checkedLookup(allowed: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !isPublicAddress(a.address));
      if (!list.length || (bad && !allowed)) {
        return callback(new OutboundRefused(`${hostname} resolves to ${bad?.address ?? 'nothing'}, which is not public`), '', 0);
      }
      const chosen = list[0] as LookupAddress;
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [chosen]);
      callback(null, chosen.address, chosen.family);
    });
  };
}

/** Sends one request to an untrusted URL under the policy. Throws OutboundRefused for a URL it will not reach. */
export function outboundRequest(
  target: string,
  init: { method: string; headers: Record<string, string | number>; body?: string | Buffer },
  policy: OutboundPolicy,
): Promise<OutboundResponse> {
  const problem = urlProblem(target, policy);
  if (problem) return Promise.reject(new OutboundRefused(`${target}: ${problem}`));
  const url = new URL(target);
  const allowed = policy.allowHosts.has(hostOf(url));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: init.method,
        headers: init.headers,
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        lookup: checkedLookup(allowed),
        timeout: policy.timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size >= policy.maxResponseBytes) return;
          size += chunk.length;
          chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).subarray(0, policy.maxResponseBytes).toString('utf8'),
          });
        });
        response.on('error', fail);
      },
    );
    // The whole exchange, not only each idle spell, is bounded.
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${policy.timeoutMs} ms`)), policy.timeoutMs);
    function fail(error: Error) {
      clearTimeout(deadline);
      reject(error);
    }
    request.on('timeout', () => request.destroy(new Error(`no answer within ${policy.timeoutMs} ms`)));
    request.on('error', fail);
    request.end(init.body);
  });
}
