// What a breaking desk needs beside the item form: the flash path (a
// headline-only form reached with one key, the desk's topics remembered on
// this device), a confirmation before any flash goes out, the kill list, and
// how many readers are connected per topic.
import { request } from './newsroom-api.js';
import { parseTopics } from './newsroom-form.js';
import { absoluteTime, el, timeElement } from './render.js';

const TOPICS_KEY = 'newswire:desk-topics';
const SINGLE_KEY = 'newswire:flash-single-key';
const KILLED_KEY = 'newswire:killed-headlines';
/** Headlines of killed items remembered on this device (the server keeps none). */
const KILLED_REMEMBERED = 200;
const KILL_LIST_MAX = 50;
const READERS_EVERY_MS = 5_000;
const READERS_SHOWN = 12;

const $ = (id) => document.getElementById(id);

function stored(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : JSON.parse(value);
  } catch {
    return fallback;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage disabled or full: remembered for this page only
  }
}

/** Typing in a field: a single-letter shortcut would steal the key. */
function typing(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

/** Who killed it: the key's name from the audit trail, when one was recorded. */
function killedBy(item) {
  return item.killedBy?.name ?? '';
}

/**
 * `publish(input)` sends an item the way the main form does and resolves with
 * true once it is saved; `getToken()` is this tab's publisher token.
 */
export function createDesk({ getToken, publish }) {
  const flashForm = $('flash-form');
  const flashHeadline = $('flash-headline');
  const flashTopics = $('flash-topics');
  const flashError = $('flash-error');
  const confirmDialog = $('flash-dialog');
  const killList = $('kill-list');
  const killStatus = $('kill-status');
  const readersList = $('readers-list');
  const readersTotal = $('readers-total');
  let killedHeadlines = new Map(stored(KILLED_KEY, []));
  let lastReaders = null;
  /** Kills already taken into the list, by id. */
  const reported = new Set();

  flashTopics.value = stored(TOPICS_KEY, []).join(', ');
  // A single-letter shortcut can be set off by speech input or stray keys: it can be turned off (WCAG 2.1.4).
  const singleKey = $('flash-single-key');
  singleKey.checked = stored(SINGLE_KEY, true) !== false;
  singleKey.addEventListener('change', () => store(SINGLE_KEY, singleKey.checked));

  // ---- the flash path ----

  function focusFlash() {
    flashHeadline.scrollIntoView({ block: 'nearest' });
    flashHeadline.focus();
  }

  document.addEventListener('keydown', (event) => {
    const key = event.key.toLowerCase();
    const anywhere = event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey && (key === 'f' || event.code === 'KeyF');
    const bare = singleKey.checked && key === 'f' && !event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey && !typing(event.target);
    // An open dialog keeps its keys, whichever shortcut was pressed.
    if ((!anywhere && !bare) || document.querySelector('dialog[open]')) return;
    event.preventDefault();
    focusFlash();
  });

  // A headline has no line breaks: Enter sends (after the confirmation), Shift+Enter is ignored too.
  flashHeadline.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      flashForm.requestSubmit();
    }
  });

  function flashProblem(message) {
    flashError.textContent = message;
    flashError.hidden = !message;
    flashHeadline.toggleAttribute('aria-invalid', Boolean(message));
  }

  flashForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const headline = flashHeadline.value.trim();
    const topics = parseTopics(flashTopics.value);
    if (!headline) {
      flashProblem('Type the flash headline first.');
      flashHeadline.focus();
      return;
    }
    if (topics.length === 0) {
      flashProblem('Name at least one topic (they are remembered for the next flash).');
      flashTopics.focus();
      return;
    }
    flashProblem('');
    const saved = await publish({ headline, topics, priority: 'flash' });
    if (saved) {
      store(TOPICS_KEY, topics);
      flashHeadline.value = '';
    }
  });

  /**
   * Asks before a flash goes out: it interrupts every reader. Enter confirms
   * (the send button has focus), Escape cancels. Resolves true to send.
   */
  function confirmFlash(input) {
    $('flash-confirm-headline').textContent = input.headline;
    const topics = input.topics ?? [];
    const readers = lastReaders ? readersOf(lastReaders, topics) : null;
    $('flash-confirm-reach').textContent =
      readers === null
        ? `It interrupts every reader of ${topics.join(', ') || 'every topic'} at once: banner, spoken alert and alerts on their devices.`
        : `It interrupts every reader of ${topics.join(', ')} at once (${readers} connected now): banner, spoken alert and alerts on their devices.`;
    confirmDialog.returnValue = '';
    confirmDialog.showModal();
    $('flash-confirm-send').focus();
    return new Promise((resolve) => {
      confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'send'), { once: true });
    });
  }

  // ---- readers now ----

  /** Readers who follow any of `topics` (or every topic): an upper bound, a reader of two topics counts twice. */
  function readersOf(counts, topics) {
    let sum = counts.everyTopic ?? 0;
    for (const topic of topics) sum += counts.topics?.[topic] ?? 0;
    return sum;
  }

  async function loadReaders() {
    const token = getToken();
    if (!token || document.hidden) return;
    let response;
    try {
      response = await request('GET', '/api/v1/readers', { token });
    } catch {
      return;
    }
    if (response.status !== 200) return;
    lastReaders = response.body;
    renderReaders(response.body);
  }

  function renderReaders(counts) {
    readersTotal.textContent = `${counts.total} connected`;
    const entries = Object.entries(counts.topics).slice(0, READERS_SHOWN);
    if (counts.everyTopic) entries.unshift(['every topic', counts.everyTopic]);
    const rows = entries.map(([topic, count]) => {
      const item = el('li', 'readers-row');
      item.append(el('span', 'readers-topic', topic), el('span', 'readers-count', String(count)));
      return item;
    });
    readersList.replaceChildren(...(rows.length ? rows : [el('li', 'readers-none', 'No reader connected.')]));
  }

  setInterval(loadReaders, READERS_EVERY_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void loadReaders();
  });

  // ---- kill list ----

  function rememberKilled(id, headline) {
    if (!headline) return;
    killedHeadlines.delete(id);
    killedHeadlines.set(id, headline);
    if (killedHeadlines.size > KILLED_REMEMBERED) killedHeadlines = new Map([...killedHeadlines].slice(-KILLED_REMEMBERED));
    store(KILLED_KEY, [...killedHeadlines]);
  }

  function killRow(item) {
    const row = el('li', 'kill-item');
    row.dataset.id = item.id;
    const headline = killedHeadlines.get(item.id);
    row.append(el('p', 'kill-headline', headline ?? item.id));
    row.append(el('p', 'kill-reason', item.reason));
    const meta = el('p', 'kill-meta');
    meta.append(el('span', undefined, 'Killed '), timeElement(item.updatedAt, 'rel'));
    const by = killedBy(item);
    // Who killed it (the key's name from the audit trail); hidden for kills made before keys were recorded.
    const who = el('span', 'kill-by', by ? `by ${by}` : '');
    who.hidden = !by;
    meta.append(who, el('span', 'recent-topics', item.topics.join(' · ')));
    if (headline) meta.append(el('code', 'recent-id', item.id));
    row.append(meta);
    return row;
  }

  async function loadKills() {
    const token = getToken();
    if (!token) {
      killStatus.textContent = 'Enter the publisher token to see what was killed.';
      killList.replaceChildren();
      return;
    }
    let response;
    try {
      response = await request('GET', `/api/v1/items?status=retracted&limit=${KILL_LIST_MAX}`, { token });
    } catch {
      killStatus.textContent = 'The server could not be reached: the kill list may be out of date.';
      return;
    }
    if (response.status !== 200) {
      killStatus.textContent = 'The kill list could not be loaded.';
      return;
    }
    const { items, since } = response.body;
    killList.replaceChildren(...items.map(killRow));
    killStatus.textContent = items.length
      ? `${items.length} killed since ${absoluteTime(since)}, the latest first.`
      : `Nothing killed since ${absoluteTime(since)}.`;
  }

  return {
    confirmFlash,
    focusFlash,
    /** The token changed (or the list was reloaded): read what needs it again. */
    refresh() {
      void loadKills();
      void loadReaders();
    },
    /** An item was withdrawn (here or elsewhere): its headline is kept for the kill list. */
    killed(id, headline) {
      // A kill made here is told twice (the server's answer, then the live event): the list is read once.
      if (reported.has(id)) return;
      reported.add(id);
      rememberKilled(id, headline);
      void loadKills();
    },
  };
}
