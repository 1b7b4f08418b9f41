// The id of a request, for the audit trail: the one the access log set
// (`requestId`) when there is one, else the client's X-Request-Id when it is
// well formed, else a new one. Decided once per request.
import type { Context } from 'hono';
import { acceptRequestId } from '../ops/access-log.ts';

type Vars = { Variables: { requestId?: string; auditRequestId?: string } };

export function requestIdOf(c: Context): string {
  const vars = c as unknown as Context<Vars>;
  const shared = vars.get('requestId');
  if (typeof shared === 'string' && shared) return shared;
  const own = vars.get('auditRequestId');
  if (own) return own;
  // Without the access log in front (in-process apps): the same rule it uses.
  const id = acceptRequestId(c.req.header('x-request-id'));
  vars.set('auditRequestId', id);
  return id;
}
