// `newswire tail`: the live stream in a terminal, through the same client
// module the browser pages use (public/client.js), which resumes from the last
// cursor after a drop and drops anything it has seen already.
import { readFileSync, writeFileSync } from 'node:fs';
import { NewsClient } from '../../public/client.js';
import { eventLine, itemLine } from './format.js';
import { EXIT, usageError } from './http.js';

/**
 * @typedef {object} TailOptions
 * @property {string} url The server's base URL.
 * @property {string[] | null} topics
 * @property {string | null} cursor
 * @property {string | null} cursorFile
 * @property {boolean} json
 * @property {import('./main.js').Io} io
 */

/** Node 22 has a WebSocket of its own; Node 20 uses the `ws` package the server depends on. */
async function webSocketClass() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  try {
    return (await import('ws')).default;
  } catch {
    throw usageError('tail needs a WebSocket: Node 22 or newer, or the "ws" package installed beside this command');
  }
}

/** ws(s)://host/prefix/ws for http(s)://host/prefix. @param {string} base */
export function liveUrl(base) {
  const url = new URL(base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.search = '';
  return url.toString();
}

/**
 * Follows the stream until interrupted (exit 0, printing the cursor to resume
 * from) or refused for good (exit 1).
 * @param {TailOptions} options
 * @returns {Promise<number>}
 */
export async function tail(options) {
  const { io } = options;
  let cursor = options.cursor;
  if (!cursor && options.cursorFile) {
    try {
      cursor = readFileSync(options.cursorFile, 'utf8').trim() || null;
    } catch (error) {
      if (/** @type {any} */ (error).code !== 'ENOENT') throw usageError(`cannot read --cursor-file: ${/** @type {Error} */ (error).message}`);
    }
  }
  const WebSocket = await webSocketClass();
  const url = liveUrl(options.url);
  const keep = () => {
    if (options.cursorFile && client.cursor) writeFileSync(options.cursorFile, `${client.cursor}\n`);
  };
  const out = (/** @type {string} */ text) => io.stdout.write(`${text}\n`);
  const note = (/** @type {string} */ text) => io.stderr.write(`${text}\n`);

  /** @type {(code: number) => void} */
  let finish = () => {};
  const finished = new Promise((resolve) => {
    finish = resolve;
  });

  const client = new NewsClient({
    url,
    WebSocket,
    topics: options.topics,
    cursor,
    onEvent(frame) {
      out(options.json ? JSON.stringify(frame) : eventLine(frame));
      keep();
    },
    onReset(frame) {
      if (options.json) out(JSON.stringify(frame));
      else {
        out(`-- the stream could not resume (${frame.reason}): the latest ${frame.items.length} items --`);
        for (const item of frame.items) out(itemLine(item));
        out('-- live --');
      }
      keep();
    },
    onError(error) {
      note(`server error ${error.code}: ${error.message}`);
    },
    onState(state, info) {
      if (state === 'live') note(`live: ${url}${options.topics ? ` (topics ${options.topics.join(',')})` : ''}${client.cursor ? `, cursor ${client.cursor}` : ''}`);
      else if (state === 'reconnecting') {
        note(`connection lost${info.code ? ` (${info.code}${info.reason ? ` ${info.reason}` : ''})` : ''}: reconnecting in ${info.delayMs} ms${client.cursor ? ` from cursor ${client.cursor}` : ''}`);
      } else if (state === 'offline') {
        note(`refused: ${info.reason ?? 'the server will not take this request'}${info.code ? ` (${info.code})` : ''}`);
        finish(EXIT.refused);
      }
    },
  });

  const stop = () => finish(EXIT.ok);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A closed pipe (tail ... | head) is an ordinary end.
  const stdoutStream = /** @type {any} */ (io.stdout);
  if (typeof stdoutStream.on === 'function') stdoutStream.on('error', stop);

  note(`connecting to ${url}${cursor ? ` from cursor ${cursor}` : ''}`);
  client.start();
  const code = await finished;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const last = client.cursor;
  client.close();
  keep();
  if (last) note(`last cursor ${last} (resume: newswire tail${options.topics ? ` --topics ${options.topics.join(',')}` : ''} --cursor ${last})`);
  return code;
}
