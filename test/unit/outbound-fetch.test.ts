// Untrusted URLs: only public addresses are reached, whatever a name
// resolves to, unless the operator allowed the host; bounded in time.
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isPublicAddress, OutboundRefused, outboundRequest, urlProblem } from '../../src/outbound/fetch.ts';

const strict = { allowHosts: new Set<string>(), timeoutMs: 1_000, maxResponseBytes: 1_024 };

describe('outbound requests', () => {
  it('tells public addresses from the rest', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(address), address).toBe(true);
    for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::7f00:1']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('refuses what needs no lookup to refuse', () => {
    expect(urlProblem('https://push.example.com/x', strict)).toBeNull();
    expect(urlProblem('http://push.example.com/x', strict)).toBe('must be an https URL');
    expect(urlProblem('https://127.0.0.1/x', strict)).toContain('private');
    expect(urlProblem('https://[::1]/x', strict)).toContain('private');
    expect(urlProblem('https://intranet/x', strict)).toContain('public internet');
    expect(urlProblem('https://a:b@push.example.com/', strict)).toContain('user name');
    expect(urlProblem('javascript:alert(1)', strict)).toBe('must be an https URL');
    // Allowed hosts may be private, and plain http.
    expect(urlProblem('http://127.0.0.1:9/x', { allowHosts: new Set(['127.0.0.1']) })).toBeNull();
  });

  it('checks every address a name resolves to before it connects', async () => {
    // "localhost" resolves to loopback: refused unless allowed by name.
    await expect(outboundRequest('https://localhost.localdomain/', { method: 'GET', headers: {} }, strict)).rejects.toThrow();
    await expect(outboundRequest('https://localhost/', { method: 'GET', headers: {} }, strict)).rejects.toBeInstanceOf(OutboundRefused);
  });

  it('reads at most the bounded answer, within the time bound, and follows no redirect', async () => {
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      if (req.url === '/slow') return; // never answers
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
        res.end();
        return;
      }
      res.end('x'.repeat(100_000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const allowed = { ...strict, allowHosts: new Set(['127.0.0.1']) };
    const big = await outboundRequest(`http://127.0.0.1:${port}/`, { method: 'GET', headers: {} }, allowed);
    expect(big.body.length).toBe(1_024);
    const redirect = await outboundRequest(`http://127.0.0.1:${port}/redirect`, { method: 'GET', headers: {} }, allowed);
    expect(redirect.status).toBe(302);
    expect(hits).toBe(2);
    const started = Date.now();
    await expect(outboundRequest(`http://127.0.0.1:${port}/slow`, { method: 'GET', headers: {} }, allowed)).rejects.toThrow(/no answer/);
    expect(Date.now() - started).toBeLessThan(2_500);
    server.closeAllConnections();
    server.close();
  });
});
