// Browsers send Origin on every WebSocket handshake; a page on another site
// must not be able to open a live connection unless the operator allows it.

/**
 * No Origin (a server-side client): allowed, it could claim any origin anyway.
 * This server's own origin (PUBLIC_URL, which a proxy's rewritten Host does
 * not change) or the Host the request came to: allowed.
 * Otherwise the origin must be listed (or the list is "*").
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  publicOrigin: string | undefined,
  allowed: string[] | '*',
): boolean {
  if (!origin) return true;
  if (allowed === '*') return true;
  if (!URL.canParse(origin)) return false;
  const parsed = new URL(origin);
  if (publicOrigin && parsed.origin === publicOrigin) return true;
  if (host && parsed.host === host) return true;
  return allowed.includes(parsed.origin);
}
