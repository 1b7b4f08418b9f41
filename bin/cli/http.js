// Requests to the newsroom API and what their failures mean for the exit code.

/** Exit codes, as documented in `newswire --help`. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 };

/** A failure that ends the command with an exit code and a message for stderr. */
export class CliError extends Error {
  /**
   * @param {number} exitCode
   * @param {string} message
   * @param {string[]} [details] Lines printed under the message (field reasons).
   */
  constructor(exitCode, message, details = []) {
    super(message);
    this.exitCode = exitCode;
    this.details = details;
  }
}

export const usageError = (/** @type {string} */ message) => new CliError(EXIT.usage, message);

/**
 * @typedef {object} Connection
 * @property {string} url The server's base URL, without a trailing slash.
 * @property {string | undefined} key The publisher token or key.
 * @property {number} timeoutMs
 */

/**
 * Calls the API; resolves with the parsed JSON body of a 2xx answer, throws a
 * CliError (exit 1 with the server's code, message and field reasons; exit 3
 * when the server cannot be reached) otherwise.
 * @param {Connection} connection
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, auth?: boolean, idempotencyKey?: string }} [options]
 * @returns {Promise<any>}
 */
export async function call(connection, method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', 'user-agent': 'newswire-cli' };
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options.auth) {
    if (!connection.key) throw usageError('this command needs a publisher key: set NEWSWIRE_KEY or pass --key');
    headers.authorization = `Bearer ${connection.key}`;
  }
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const target = `${connection.url}${path}`;
  let response;
  try {
    response = await fetch(target, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(connection.timeoutMs),
    });
  } catch (error) {
    throw unreachable(connection.url, error);
  }
  let text;
  try {
    text = await response.text();
  } catch (error) {
    throw unreachable(connection.url, error);
  }
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = undefined;
  }
  if (response.ok && body !== undefined) return body;
  if (response.ok) throw new CliError(EXIT.refused, `${method} ${path}: the server answered ${response.status} with something other than JSON`);
  const requestId = response.headers.get('x-request-id');
  const error = body?.error;
  if (error && typeof error.code === 'string') {
    const fields = Array.isArray(error.fields) ? error.fields.map((/** @type {any} */ f) => `  ${f.path}: ${f.message}`) : [];
    const retry = response.headers.get('retry-after');
    if (retry) fields.push(`  retry after ${retry} s`);
    if (requestId) fields.push(`  request id: ${requestId}`);
    throw Object.assign(new CliError(EXIT.refused, `${response.status} ${error.code}: ${error.message}`, fields), {
      code: error.code,
      retryAfter: Number(retry) || undefined,
    });
  }
  throw new CliError(EXIT.refused, `${response.status} ${response.statusText}: ${text.slice(0, 200)}`);
}

/** Answers after which the same request, under the same Idempotency-Key, may be sent again. */
const RETRYABLE = new Set(['store-unavailable', 'write-outcome-unknown', 'write-not-replicated', 'idempotency-key-in-use']);

/**
 * `call`, sent again (after the server's Retry-After, at most 5 s) while the
 * server cannot say what became of it or cannot be reached, until
 * `deadlineMs` has passed. Only for requests that are safe to repeat: a
 * publish under an Idempotency-Key, a correction (the same version again is
 * `unchanged`), a kill (a kill already made answers `410`). A failure that
 * ends it carries `attempts`.
 * @param {Connection} connection
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, auth?: boolean, idempotencyKey?: string, deadlineMs: number, onRetry?: (why: string) => void }} options
 * @returns {Promise<{ answer: any, attempts: number }>}
 */
export async function callWithRetries(connection, method, path, options) {
  const deadline = Date.now() + options.deadlineMs;
  for (let attempts = 1; ; attempts++) {
    try {
      return { answer: await call(connection, method, path, options), attempts };
    } catch (error) {
      const e = /** @type {any} */ (error);
      const again = e instanceof CliError && (e.exitCode === EXIT.unreachable || RETRYABLE.has(e.code));
      const waitMs = Math.min(5, e.retryAfter ?? 1) * 1000;
      if (!again || Date.now() + waitMs > deadline) throw Object.assign(e, { attempts });
      options.onRetry?.(e.message);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * @param {string} url
 * @param {unknown} error
 */
function unreachable(url, error) {
  const cause = /** @type {any} */ (error)?.cause;
  const timedOut = /** @type {any} */ (error)?.name === 'TimeoutError';
  const why = timedOut ? 'no answer in time' : cause?.code ?? cause?.message ?? /** @type {any} */ (error)?.message ?? String(error);
  return new CliError(EXIT.unreachable, `cannot reach the server at ${url}: ${why}`);
}
