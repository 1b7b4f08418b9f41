// Calls to the newsroom API. Writes carry the publisher token as a Bearer
// header; no request ever sends cookies.

export class NetworkError extends Error {}

/**
 * Returns { status, body, headers }; throws NetworkError when the server could
 * not be reached (the write may or may not have happened).
 */
export async function request(method, path, { body, token } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  let parsed = null;
  const text = await response.text();
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: { code: 'bad-response', message: text.slice(0, 200) } };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/**
 * The token itself was refused (none, unknown or revoked): ask for it again.
 * A key that may not do this one thing (forbidden-action, forbidden-topic)
 * is kept: the message says what it lacks.
 */
export function tokenRefused(response) {
  const code = response.body?.error?.code;
  return response.status === 401 || (response.status === 403 && code !== 'forbidden-action' && code !== 'forbidden-topic');
}

/** One sentence for any failed response, for where no field fits. */
export function describeFailure(response) {
  const error = response.body?.error ?? {};
  switch (response.status) {
    case 401:
      return 'The server needs a publisher token for this: enter it above.';
    case 403:
      if (error.code === 'forbidden-action' || error.code === 'forbidden-topic') {
        return `Your key may not do this: ${error.message}. Ask an administrator for a key that may.`;
      }
      return 'The server refused this token: check it and enter it again.';
    case 404:
      return 'There is no item with this id (it may have expired).';
    case 409:
      if (error.code === 'already-published') return 'Readers already have this item: an embargo cannot hold it back now.';
      return 'An item with this id already exists with other content: use “Correct” on it instead.';
    case 410:
      return 'This item was withdrawn and can no longer change.';
    case 413:
      return 'The item is too large for the server.';
    case 429: {
      const wait = response.headers.get('retry-after');
      return `Too many writes for now${wait ? `: retry in ${wait} s` : ''}.`;
    }
    case 503:
      // The store may have made the write: say so, never "nothing was saved".
      if (error.code === 'write-outcome-unknown' || error.code === 'write-not-replicated') {
        return 'The server could not confirm this: it may or may not be saved, and readers may already have it. Try again in a moment: a retry never saves it twice.';
      }
      return 'The server cannot save right now. Nothing was saved: try again in a moment.';
    default:
      return error.message ? `${error.message} (${response.status})` : `The server answered ${response.status}.`;
  }
}
