// The `newswire` command: publish, correct, kill, list, get and tail news,
// and manage publisher keys, against a Newswire server's HTTP API.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { itemDetails, itemLine } from './format.js';
import { CliError, call, callWithRetries, EXIT, usageError } from './http.js';
import { tail } from './tail.js';

/**
 * @typedef {object} Io
 * @property {Record<string, string | undefined>} env
 * @property {NodeJS.ReadableStream & { isTTY?: boolean }} stdin
 * @property {{ write(text: string): unknown }} stdout
 * @property {{ write(text: string): unknown }} stderr
 */

const COMMON = {
  url: { type: 'string' },
  key: { type: 'string' },
  timeout: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
};

/** Item fields given as flags: flag name → field name. */
const ITEM_FLAGS = {
  id: 'id',
  headline: 'headline',
  summary: 'summary',
  body: 'body',
  url: 'url',
  byline: 'byline',
  source: 'source',
  language: 'language',
  priority: 'priority',
  'embargo-until': 'embargoUntil',
  'expires-at': 'expiresAt',
};

const ITEM_OPTIONS = {
  ...Object.fromEntries(Object.keys(ITEM_FLAGS).map((flag) => [flag, { type: 'string' }])),
  topics: { type: 'string' },
  'body-file': { type: 'string' },
  'image-url': { type: 'string' },
  'image-alt': { type: 'string' },
  json: { type: 'string' },
};

/** Fields a client may send; the server adds the others (version, dates, status). */
const INPUT_FIELDS = ['id', 'headline', 'summary', 'body', 'url', 'topics', 'priority', 'language', 'source', 'byline', 'image', 'embargoUntil', 'expiresAt'];

const GLOBAL_HELP = `newswire: publish and follow breaking news on a Newswire server

Usage: newswire <command> [options]

Commands:
  publish            publish an item (flags, or a JSON document on stdin or --json FILE)
  correct <id>       correct an item: the changed fields and a --note
  kill <id>          withdraw an item from every page and feed (--reason required)
  list               the latest items (--topic, --limit, --scheduled)
  get <id>           one whole item
  tail               follow the live stream, resuming by cursor after a drop
  keys create|list|revoke   publisher keys

Options for every command:
  --url URL          the server (default: $NEWSWIRE_URL, else http://localhost:3000)
  --key KEY          the publisher key or token (default: $NEWSWIRE_KEY)
  --timeout SECONDS  how long to wait for an answer (default 15)
  -o, --output json  print the server's JSON answer instead of text
  -h, --help         help for a command: newswire <command> --help

Exit codes:
  0  done
  1  the server refused the request (its error code, message and field reasons are printed)
  2  usage error (unknown command or option, missing argument, no key)
  3  the server could not be reached
`;

const PUBLISH_HELP = `Usage: newswire publish --headline TEXT --topics a,b [fields]
       newswire publish --json FILE        (or a JSON document on stdin)

Publishes an item. Fields come from flags, or from a JSON document (the API's
item fields) in --json FILE ("-" for stdin), or on stdin when no --headline is
given and stdin is not a terminal; flags override the document's fields.

  --headline TEXT       required
  --topics a,b          one or more topic slugs (required)
  --priority P          flash | bulletin | urgent | routine (default routine)
  --summary TEXT        --body HTML   --body-file FILE
  --id ID               your own id (retrying with the same id and content is safe)
  --idempotency-key K   the key this publish is sent under (default: a new one);
                        give the same key when a script runs the command again
  --retry-for SECONDS   keep sending it while the server cannot say whether it
                        was saved or cannot be reached (default 30; 0: never)
  --byline TEXT         --source TEXT   --language TAG   --url URL
  --image-url URL       --image-alt TEXT
  --embargo-until ISO   hold the item until then   --expires-at ISO

Every publish goes under an Idempotency-Key, so sending it again is safe:
a lost answer (503 write-outcome-unknown), a store out of reach or a dropped
connection is retried with the same key, and the item is published once.
Prints the item's id, version and cursor (-o json: the server's answer).
`;

const CORRECT_HELP = `Usage: newswire correct <id> [changed fields] --note TEXT [--notify]

Corrects a published item: reads it, applies the changed fields (the flags of
"publish", or a JSON document with --json FILE) and sends the whole new
version. Readers see it replace the old one in place.

  --note TEXT     the change note readers see ("Updated: ...")
  --notify        alert readers who were alerted to the item again
  --retry-for S   send it again while the server cannot say whether it was
                  saved or cannot be reached (default 30; 0: never): the same
                  version sent twice is one correction
`;

const KILL_HELP = `Usage: newswire kill <id> --reason TEXT

Withdraws an item: it leaves every page, feed and open reader, and only a
notice with the reason remains.

  --retry-for S   send it again while the server cannot say whether it was
                  done or cannot be reached (default 30; 0: never); a kill
                  found already made by the first attempt counts as done
`;

const LIST_HELP = `Usage: newswire list [--topic T] [--limit N] [--scheduled]

The latest items, newest first, one line each: time, priority, id, headline.

  --topic T       one topic (default: every topic)
  --limit N       how many (default 20, at most 100)
  --scheduled     items held under an embargo, earliest first (needs a key)
`;

const GET_HELP = `Usage: newswire get <id>

One whole item: its fields, then its body.
`;

const TAIL_HELP = `Usage: newswire tail [--topics a,b] [--cursor C] [--cursor-file FILE] [--json]

Follows the live stream: one line per event (time, priority, event, id,
headline). After a drop or a server restart it reconnects with the last
cursor it saw, so nothing is missed or shown twice; when the server cannot
resume (a new log, a cursor too old) it says so and shows the latest items.
On Ctrl-C it prints the cursor to resume from.

  --topics a,b        topics to follow (default: every topic)
  --cursor C          start after this cursor (events since then are replayed)
  --cursor-file FILE  read the cursor from FILE at start, keep the last one in it
  --json              print each event and reset frame as a JSON line
`;

const KEYS_HELP = `Usage:
  newswire keys create --name NAME --actions publish,correct[,kill] [--topics a,b]
  newswire keys list
  newswire keys revoke <id>

Publisher keys (needs a key that may manage keys). "create" prints the new
key's token once: keep it, the server does not show it again.
`;

/** @type {Record<string, string>} */
const HELP = {
  publish: PUBLISH_HELP,
  correct: CORRECT_HELP,
  kill: KILL_HELP,
  list: LIST_HELP,
  get: GET_HELP,
  tail: TAIL_HELP,
  keys: KEYS_HELP,
};

/**
 * Runs one command line; resolves with the exit code.
 * @param {string[]} argv
 * @param {Io} io
 * @returns {Promise<number>}
 */
export async function main(argv, io) {
  const commandIndex = commandPosition(argv);
  const command = commandIndex < 0 ? undefined : argv[commandIndex];
  const rest = commandIndex < 0 ? argv : [...argv.slice(0, commandIndex), ...argv.slice(commandIndex + 1)];
  try {
    if (command === undefined || command === 'help') {
      const topic = command === 'help' ? rest.find((arg) => !arg.startsWith('-')) : undefined;
      io.stdout.write(topic && HELP[topic] ? HELP[topic] : GLOBAL_HELP);
      return rest.length === 0 || command === 'help' || rest.includes('--help') || rest.includes('-h') ? EXIT.ok : EXIT.usage;
    }
    const run = COMMANDS[command];
    if (!run) throw usageError(`unknown command "${command}": see newswire --help`);
    return await run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`newswire: ${error.message}\n${error.details.map((line) => `${line}\n`).join('')}`);
      return error.exitCode;
    }
    if (/** @type {any} */ (error)?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      io.stderr.write(`newswire: ${/** @type {Error} */ (error).message}\nsee newswire ${command} --help\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** Where the command is: the first argument that is neither an option nor the value of a common option before it. @param {string[]} argv */
function commandPosition(argv) {
  for (let index = 0; index < argv.length; index++) {
    const arg = /** @type {string} */ (argv[index]);
    if (!arg.startsWith('-')) return index;
    if (/^(--(url|key|timeout|output)|-o)$/.test(arg)) index++;
  }
  return -1;
}

/**
 * Parses a command's options (with the common ones); null when --help was asked and printed.
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, any>} options
 * @param {Io} io
 */
function parse(command, args, options, io) {
  const parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  if (parsed.values.help) {
    io.stdout.write(HELP[command] ?? GLOBAL_HELP);
    return null;
  }
  const values = /** @type {Record<string, any>} */ (parsed.values);
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw usageError('--output must be "text" or "json"');
  const timeoutSeconds = values.timeout === undefined ? 15 : Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw usageError('--timeout must be a number of seconds above 0');
  const url = (values.url ?? io.env.NEWSWIRE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url)) throw usageError(`--url (or NEWSWIRE_URL) must be an http(s) URL, not "${url}"`);
  return {
    values,
    positionals: parsed.positionals,
    json: output === 'json',
    connection: { url, key: values.key ?? io.env.NEWSWIRE_KEY ?? undefined, timeoutMs: timeoutSeconds * 1000 },
  };
}

/** @param {string[]} positionals @param {string} what */
function onePositional(positionals, what) {
  if (positionals.length !== 1) throw usageError(positionals.length ? `expected one ${what}, got ${positionals.length}` : `missing ${what}`);
  return /** @type {string} */ (positionals[0]);
}

/** @param {unknown} value @param {Io} io */
function printJson(value, io) {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** @param {string} value */
const list = (value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/**
 * A JSON document from a file, or stdin for "-".
 * @param {string} source
 * @param {Io} io
 */
async function readDocument(source, io) {
  let text;
  try {
    text = source === '-' ? await readAll(io.stdin) : await readFile(source, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${source === '-' ? 'stdin' : source}: ${/** @type {Error} */ (error).message}`);
  }
  // Nothing piped in (an empty stdin) is no document, not a broken one.
  if (source === '-' && text.trim() === '') return {};
  try {
    const value = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return /** @type {Record<string, unknown>} */ (value);
  } catch (error) {
    throw usageError(`${source === '-' ? 'stdin' : source} is not a JSON object: ${/** @type {Error} */ (error).message}`);
  }
}

/** @param {NodeJS.ReadableStream} stream */
async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Item fields from flags, over a JSON document when one is given.
 * @param {Record<string, any>} values
 * @param {Io} io
 * @param {boolean} stdinDocument Read a document from stdin when no --json and no --headline is given.
 */
async function itemFields(values, io, stdinDocument) {
  /** @type {Record<string, unknown>} */
  let fields = {};
  if (values.json !== undefined) fields = await readDocument(values.json, io);
  else if (stdinDocument && values.headline === undefined && !io.stdin.isTTY) fields = await readDocument('-', io);
  for (const [flag, field] of Object.entries(ITEM_FLAGS)) if (values[flag] !== undefined) fields[field] = values[flag];
  if (values.topics !== undefined) fields.topics = list(values.topics);
  if (values['body-file'] !== undefined) {
    if (values.body !== undefined) throw usageError('give --body or --body-file, not both');
    try {
      fields.body = await readFile(values['body-file'], 'utf8');
    } catch (error) {
      throw usageError(`cannot read --body-file: ${/** @type {Error} */ (error).message}`);
    }
  }
  if (values['image-url'] !== undefined || values['image-alt'] !== undefined) {
    const image = typeof fields.image === 'object' && fields.image !== null ? fields.image : {};
    fields.image = {
      ...image,
      ...(values['image-url'] !== undefined ? { url: values['image-url'] } : {}),
      ...(values['image-alt'] !== undefined ? { alt: values['image-alt'] } : {}),
    };
  }
  return fields;
}

/** @param {string} id */
const itemPath = (id) => `/api/v1/items/${encodeURIComponent(id)}`;

/** `--retry-for`, taken by every write command. */
const RETRY_OPTION = { 'retry-for': { type: /** @type {const} */ ('string') } };

/**
 * How long a write is sent again while its outcome is unknown (`--retry-for`, default 30 s), in ms.
 * @param {Record<string, unknown>} values
 */
function retryFor(values) {
  const seconds = Number(values['retry-for'] ?? 30);
  if (!(seconds >= 0)) throw usageError('--retry-for must be a number of seconds, 0 or more');
  return seconds * 1000;
}

/** @type {Record<string, (args: string[], io: Io) => Promise<number>>} */
const COMMANDS = {
  async publish(args, io) {
    const options = parse('publish', args, { ...ITEM_OPTIONS, ...RETRY_OPTION, 'idempotency-key': { type: 'string' } }, io);
    if (!options) return EXIT.ok;
    if (options.positionals.length) throw usageError(`publish takes no arguments (got "${options.positionals[0]}"): use --headline and the other flags`);
    const fields = await itemFields(options.values, io, true);
    if (Object.keys(fields).length === 0) throw usageError('nothing to publish: give --headline and --topics, or a JSON document (see newswire publish --help)');
    const idempotencyKey = options.values['idempotency-key'] ?? randomUUID();
    const { answer, attempts } = await callWithRetries(options.connection, 'POST', '/api/v1/items', {
      body: fields,
      auth: true,
      idempotencyKey,
      deadlineMs: retryFor(options.values),
      onRetry: (why) => io.stderr.write(`${why}\n  sending it again under Idempotency-Key ${idempotencyKey}\n`),
    });
    if (options.json) printJson(answer, io);
    else {
      const { item } = answer;
      // Found unchanged on a retry: the first attempt had published it.
      const ours = attempts > 1 && answer.unchanged;
      const what = item.status === 'scheduled' ? `scheduled for ${item.embargoUntil}` : answer.unchanged && !ours ? 'already published (unchanged)' : 'published';
      io.stdout.write(`${what}: ${item.id} v${item.version ?? '-'}${answer.cursor ? `  cursor ${answer.cursor}` : ''}\n`);
    }
    return EXIT.ok;
  },

  async correct(args, io) {
    const options = parse('correct', args, { ...ITEM_OPTIONS, ...RETRY_OPTION, note: { type: 'string' }, notify: { type: 'boolean' } }, io);
    if (!options) return EXIT.ok;
    const id = onePositional(options.positionals, 'item id');
    const changes = await itemFields(options.values, io, false);
    if (changes.id !== undefined && changes.id !== id) throw usageError('the id of a correction is the one in the command: do not pass --id');
    // The API takes the whole new version: read the current one, change what was asked.
    const { item } = await call(options.connection, 'GET', itemPath(id), { auth: true });
    const next = Object.fromEntries(INPUT_FIELDS.filter((field) => item[field] !== undefined && item[field] !== null).map((field) => [field, item[field]]));
    Object.assign(next, changes, { id });
    if (options.values.note !== undefined) next.changeNote = options.values.note;
    if (options.values.notify) next.notify = true;
    // The same new version sent again is acknowledged unchanged: safe to repeat.
    const { answer } = await callWithRetries(options.connection, 'PUT', itemPath(id), {
      body: next,
      auth: true,
      deadlineMs: retryFor(options.values),
      onRetry: (why) => io.stderr.write(`${why}\n  sending the correction again\n`),
    });
    if (options.json) printJson(answer, io);
    else io.stdout.write(`corrected: ${answer.item.id} v${answer.item.version ?? '-'}${answer.cursor ? `  cursor ${answer.cursor}` : ''}\n`);
    return EXIT.ok;
  },

  async kill(args, io) {
    const options = parse('kill', args, { ...RETRY_OPTION, reason: { type: 'string' } }, io);
    if (!options) return EXIT.ok;
    const id = onePositional(options.positionals, 'item id');
    const reason = options.values.reason;
    if (!reason) throw usageError('kill needs --reason: readers see it in place of the item');
    let answer;
    try {
      ({ answer } = await callWithRetries(options.connection, 'DELETE', itemPath(id), {
        body: { reason },
        auth: true,
        deadlineMs: retryFor(options.values),
        onRetry: (why) => io.stderr.write(`${why}\n  sending the kill again\n`),
      }));
    } catch (error) {
      // Gone on a retry: the first attempt, whose answer was lost, made the kill.
      const e = /** @type {any} */ (error);
      if (!(e instanceof CliError && e.code === 'gone' && e.attempts > 1)) throw error;
      if (options.json) printJson({ item: { id, status: 'retracted' }, confirmedOnRetry: true }, io);
      else io.stdout.write(`withdrawn: ${id}  (the first attempt made it; its answer was lost)\n`);
      return EXIT.ok;
    }
    if (options.json) printJson(answer, io);
    else io.stdout.write(`${answer.item?.status === 'cancelled' ? 'cancelled' : 'withdrawn'}: ${id}  cursor ${answer.cursor}\n`);
    return EXIT.ok;
  },

  async list(args, io) {
    const options = parse('list', args, { topic: { type: 'string' }, limit: { type: 'string' }, scheduled: { type: 'boolean' } }, io);
    if (!options) return EXIT.ok;
    if (options.positionals.length) throw usageError('list takes no arguments: use --topic');
    const query = new URLSearchParams();
    if (options.values.topic) query.set('topic', options.values.topic);
    if (options.values.limit) query.set('limit', options.values.limit);
    if (options.values.scheduled) query.set('status', 'scheduled');
    const answer = await call(options.connection, 'GET', `/api/v1/items${query.size ? `?${query}` : ''}`, {
      auth: Boolean(options.values.scheduled),
    });
    if (options.json) printJson(answer, io);
    else io.stdout.write(answer.items.map((/** @type {any} */ item) => `${itemLine(item)}\n`).join('') || 'no items\n');
    return EXIT.ok;
  },

  async get(args, io) {
    const options = parse('get', args, {}, io);
    if (!options) return EXIT.ok;
    const id = onePositional(options.positionals, 'item id');
    // A key, when there is one, also shows items held under an embargo.
    const answer = await call(options.connection, 'GET', itemPath(id), { auth: Boolean(options.connection.key) });
    if (options.json) printJson(answer, io);
    else io.stdout.write(`${itemDetails(answer.item)}\n`);
    return EXIT.ok;
  },

  async tail(args, io) {
    const options = parse('tail', args, { topics: { type: 'string' }, cursor: { type: 'string' }, 'cursor-file': { type: 'string' }, json: { type: 'boolean' } }, io);
    if (!options) return EXIT.ok;
    if (options.positionals.length) throw usageError('tail takes no arguments: use --topics a,b');
    return tail({
      url: options.connection.url,
      topics: options.values.topics ? list(options.values.topics) : null,
      cursor: options.values.cursor ?? null,
      cursorFile: options.values['cursor-file'] ?? null,
      json: Boolean(options.values.json) || options.json,
      io,
    });
  },

  async keys(args, io) {
    const options = parse('keys', args, { name: { type: 'string' }, actions: { type: 'string' }, topics: { type: 'string' } }, io);
    if (!options) return EXIT.ok;
    const [action, ...more] = options.positionals;
    if (action === 'create') {
      if (more.length) throw usageError('keys create takes no arguments: use --name, --actions and --topics');
      const { name, actions, topics } = options.values;
      if (!name || !actions) throw usageError('keys create needs --name and --actions (e.g. --actions publish,correct)');
      const body = { name, actions: list(actions), ...(topics ? { topics: list(topics) } : {}) };
      const answer = await call(options.connection, 'POST', '/api/v1/keys', { body, auth: true });
      if (options.json) printJson(answer, io);
      else io.stdout.write(`created key ${answer.key.id} (${answer.key.name}): ${answer.key.actions.join(',')}${answer.key.topics ? ` on ${answer.key.topics.join(',')}` : ''}\ntoken (shown once): ${answer.token}\n`);
      return EXIT.ok;
    }
    if (action === 'list') {
      if (more.length) throw usageError('keys list takes no arguments');
      const answer = await call(options.connection, 'GET', '/api/v1/keys', { auth: true });
      if (options.json) printJson(answer, io);
      else {
        const lines = answer.keys.map(
          (/** @type {any} */ key) =>
            `${key.id}  ${key.name}  ${(key.actions ?? []).join(',')}  ${key.topics ? key.topics.join(',') : 'all topics'}  ${key.createdAt ?? ''}${key.revokedAt ? `  revoked ${key.revokedAt}` : ''}\n`,
        );
        for (const key of answer.environment ?? []) {
          lines.push(`${key.id}  PUBLISHER_TOKENS  ${key.actions.join(',')}  all topics  (remove it from the environment to revoke it)\n`);
        }
        io.stdout.write(lines.join('') || 'no keys\n');
      }
      return EXIT.ok;
    }
    if (action === 'revoke') {
      const id = onePositional(more, 'key id');
      const answer = await call(options.connection, 'DELETE', `/api/v1/keys/${encodeURIComponent(id)}`, { auth: true });
      if (options.json) printJson(answer, io);
      else io.stdout.write(`revoked key ${answer.key?.id ?? id}\n`);
      return EXIT.ok;
    }
    throw usageError(action ? `unknown keys command "${action}": create, list or revoke` : 'keys needs create, list or revoke');
  },
};
