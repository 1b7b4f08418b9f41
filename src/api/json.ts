// Request bodies as JSON, with the answers the contract gives when they are not.
import type { Context } from 'hono';
import { problem } from './errors.ts';

/** The parsed body, or the 415/400 response to send instead. */
export async function readJson(c: Context, { emptyIsNothing = false } = {}): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    return problem(c, 415, 'unsupported-media-type', 'send the body as JSON with "Content-Type: application/json"');
  }
  let text: string;
  try {
    text = await c.req.text();
  } catch {
    return problem(c, 400, 'invalid-json', 'the body could not be read');
  }
  if (emptyIsNothing && text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return problem(c, 400, 'invalid-json', 'the body is not valid JSON');
  }
}
