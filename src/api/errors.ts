// One error shape for every 4xx/5xx: a stable code, a sentence, and for
// validation errors the reason for each field.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export interface FieldError {
  path: string;
  message: string;
}

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): Response {
  return c.json({ error: { code, message, ...extra } }, status);
}

export function fieldErrors(error: z.ZodError, prefix: (string | number)[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.') || '(body)',
    message: issue.message,
  }));
}

export function invalid(c: Context, fields: FieldError[]): Response {
  return problem(c, 400, 'invalid-request', `${fields.length} field(s) are not valid: see "fields"`, { fields });
}

/** Refuses a body over `maxBytes` with 413 `payload-too-large`. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      // The rest of the body is never read: the connection cannot be reused.
      c.header('Connection', 'close');
      return problem(c, 413, 'payload-too-large', `request body must be at most ${maxBytes} bytes`);
    },
  });
}
