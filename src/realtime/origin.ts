// Browsers send Origin on every WebSocket handshake; a page on another site
// must not be able to open a live connection unless the operator allows it.

/**
 * No Origin (a server-side client): allowed, it could claim any origin anyway.
 * Same origin as the Host the request came to: allowed.
 * Otherwise the origin must be listed (or the list is "*").
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: string[] | '*'): boolean {
  if (!origin) return true;
  if (allowed === '*') return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (host && parsed.host === host) return true;
  return allowed.includes(parsed.origin);
}
