// The newsroom console: token, item form, recent items with correct and
// withdraw, and a live view of what readers see.
import { NewsClient } from './client.js';
import { findCard, markFresh, remove, upsert } from './live-list.js';
import { describeFailure, NetworkError, request } from './newsroom-api.js';
import { clearErrors, fillItem, readItem, showErrors } from './newsroom-form.js';
import { absoluteTime, dropExpired, itemHref, refreshTimes, relativeTime, storyCard } from './render.js';
import { connectionIndicator } from './status.js';

const TOKEN_KEY = 'newswire:publisher-token';
const RECENT_MAX = 50;
const PREVIEW_MAX = 20;
const LABELS = { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent' };

const $ = (id) => document.getElementById(id);
const form = $('item-form');
const summary = $('error-summary');
const formStatus = $('form-status');
const submit = $('submit');
const recentList = $('recent-list');
const recentStatus = $('recent-status');
const preview = $('preview');
const dialog = $('withdraw-dialog');
const withdrawForm = $('withdraw-form');
const reasonInput = $('withdraw-reason');
const reasonError = $('withdraw-reason-error');
const withdrawError = $('withdraw-error');

/** Current items by id, for loading one into the form. */
const items = new Map();
/** The item being corrected, or null when publishing a new one. */
let editing = null;
/** Id made for a new item without one, kept until it is saved, so a retry cannot publish twice. */
let pendingId = null;
let withdrawing = null;
let busy = false;
let client = null;

// ---- token: this tab only ----

let memoryToken = null;
function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

function setToken(token) {
  memoryToken = token;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives in this page only
  }
  renderToken();
}

function renderToken(error) {
  const token = getToken();
  $('token-panel').hidden = Boolean(token) && !error;
  $('token-state').hidden = !token;
  const message = $('token-error');
  message.textContent = error ?? '';
  message.hidden = !error;
  $('token').toggleAttribute('aria-invalid', Boolean(error));
}

/** The server refused the token (or there is none): ask for it again. */
function tokenProblem(message) {
  setToken(null);
  renderToken(message);
  $('token').focus();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('token');
  const token = input.value.trim();
  if (!token) {
    renderToken('Enter the publisher token you were given.');
    input.focus();
    return;
  }
  input.value = '';
  setToken(token);
  say('Token set for this tab.');
  form.elements.namedItem('headline').focus();
});

$('token-forget').addEventListener('click', () => {
  setToken(null);
  $('token').focus();
});

// ---- status line ----

function say(text, tone = 'ok') {
  formStatus.textContent = text;
  formStatus.dataset.tone = tone;
}

function setBusy(value, label) {
  busy = value;
  submit.disabled = value;
  submit.setAttribute('aria-busy', String(value));
  submit.textContent = value ? label : editing ? 'Publish correction' : 'Publish';
}

// ---- editing mode ----

function enterCorrection(item) {
  editing = { id: item.id, version: item.version, embargoUntil: item.embargoUntil };
  pendingId = null;
  clearErrors(form, summary);
  fillItem(form, item);
  form.elements.namedItem('id').readOnly = true;
  $('change-note-field').hidden = false;
  $('editor-title').textContent = 'Correct an item';
  const tag = $('editor-mode');
  tag.textContent = `Correcting version ${item.version}`;
  tag.hidden = false;
  $('cancel-correction').hidden = false;
  submit.textContent = 'Publish correction';
  say(`Loaded “${item.headline}” for correction.`);
  markEditing();
  $('editor-title').scrollIntoView({ block: 'start' });
  form.elements.namedItem('headline').focus({ preventScroll: true });
}

function clearForm() {
  editing = null;
  pendingId = null;
  form.reset();
  clearErrors(form, summary);
  form.elements.namedItem('id').readOnly = false;
  $('change-note-field').hidden = true;
  $('editor-title').textContent = 'New item';
  $('editor-mode').hidden = true;
  $('cancel-correction').hidden = true;
  submit.textContent = 'Publish';
  markEditing();
}

function markEditing() {
  for (const row of recentList.children) row.classList.toggle('editing', row.dataset.id === editing?.id);
}

$('cancel-correction').addEventListener('click', () => {
  clearForm();
  say('Correction cancelled.');
  form.elements.namedItem('headline').focus();
});

$('clear').addEventListener('click', () => {
  clearForm();
  say('');
  form.elements.namedItem('headline').focus();
});

function makeId() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const random = Array.from(bytes, (b) => (b % 36).toString(36)).join('');
  return `nw-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${random}`;
}

// ---- publish and correct ----

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (busy) return;
  const token = getToken();
  if (!token) {
    showErrors(form, summary, [], null, ['Enter your publisher token first.']);
    tokenProblem('Enter your publisher token to publish.');
    return;
  }
  const input = readItem(form);
  let method = 'POST';
  let path = '/api/v1/items';
  let body = input;
  const correcting = editing;
  if (correcting) {
    method = 'PUT';
    path = `/api/v1/items/${encodeURIComponent(correcting.id)}`;
    body = { ...input, id: correcting.id };
    // The form has no embargo field: a correction keeps the one the item had.
    if (correcting.embargoUntil) body.embargoUntil = correcting.embargoUntil;
    const note = form.elements.namedItem('changeNote').value.trim();
    if (note) body.changeNote = note;
  } else if (!input.id) {
    pendingId ??= makeId();
    body = { ...input, id: pendingId };
  }

  setBusy(true, correcting ? 'Publishing correction…' : 'Publishing…');
  say('');
  let response;
  try {
    response = await request(method, path, { body, token });
  } catch (error) {
    setBusy(false);
    if (!(error instanceof NetworkError)) throw error;
    showErrors(form, summary, [], null, [
      'The server could not be reached, so the item may or may not be saved. Press the button again: a retry never publishes twice.',
    ]);
    return;
  }
  setBusy(false);

  if (response.status === 200 || response.status === 201) {
    const item = response.body.item;
    clearForm();
    if (response.body.unchanged) say(`No change: “${item.headline}” already reads like this.`, 'info');
    else if (correcting) say(`Correction published: “${item.headline}” is now version ${item.version}.`);
    else say(`Published: “${item.headline}” (id ${item.id}).`);
    apply({ event: response.status === 201 ? 'published' : 'updated', item });
    return;
  }
  if (response.status === 400 && Array.isArray(response.body?.error?.fields)) {
    showErrors(form, summary, response.body.error.fields, body);
    return;
  }
  if (response.status === 401 || response.status === 403) {
    showErrors(form, summary, [], null, [describeFailure(response)]);
    tokenProblem(describeFailure(response));
    return;
  }
  if (response.status === 409 && form.elements.namedItem('id').value.trim()) {
    showErrors(form, summary, [{ path: 'id', message: 'is taken by an item with other content: use “Correct” on that item instead' }], body);
    return;
  }
  showErrors(form, summary, [], null, [describeFailure(response)]);
});

// ---- recent items ----

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function recentRow(item) {
  const row = el('li', `recent-item priority-${item.priority}`);
  row.dataset.id = item.id;
  row.dataset.version = String(item.version);
  row.dataset.published = item.publishedAt;

  const main = el('div', 'recent-main');
  const kicker = el('p', 'recent-kicker');
  if (LABELS[item.priority]) kicker.append(el('span', `label label-${item.priority}`, LABELS[item.priority]));
  kicker.append(el('span', 'recent-topics', item.topics.join(' · ')));
  const headline = el('p', 'recent-headline');
  const link = el('a', undefined, item.headline);
  link.href = itemHref(item);
  link.target = '_blank';
  link.rel = 'noopener';
  headline.append(link);
  const meta = el('p', 'recent-meta');
  const time = el('time', 'rel', relativeTime(item.publishedAt));
  time.dateTime = item.publishedAt;
  time.title = absoluteTime(item.publishedAt);
  meta.append(time, el('span', undefined, `v${item.version}`), el('code', 'recent-id', item.id));
  if (item.version > 1 && item.changeNote) meta.append(el('span', 'recent-note', `Updated: ${item.changeNote}`));
  main.append(kicker, headline, meta);

  const actions = el('div', 'recent-actions');
  const correct = el('button', 'button button-small', 'Correct');
  correct.type = 'button';
  correct.dataset.action = 'correct';
  correct.setAttribute('aria-label', `Correct “${item.headline}”`);
  const withdraw = el('button', 'button button-small button-danger-outline', 'Withdraw');
  withdraw.type = 'button';
  withdraw.dataset.action = 'withdraw';
  withdraw.setAttribute('aria-label', `Withdraw “${item.headline}”`);
  actions.append(correct, withdraw);
  row.append(main, actions);
  if (editing?.id === item.id) row.classList.add('editing');
  return row;
}

recentList.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const item = items.get(button.closest('li').dataset.id);
  if (!item) return;
  if (button.dataset.action === 'correct') enterCorrection(item);
  else openWithdraw(item);
});

function updateCount() {
  recentStatus.textContent = items.size
    ? `${items.size} item${items.size === 1 ? '' : 's'}, newest first. Changes appear here live.`
    : 'Nothing published yet.';
}

/** Applies one change to every view, ignoring anything older than what is shown. */
function apply({ event, item }) {
  if (event === 'retracted') {
    items.delete(item.id);
    remove(recentList, item.id);
    remove(preview, item.id);
    if (editing?.id === item.id) {
      clearForm();
      showErrors(form, summary, [], null, ['The item you were correcting was withdrawn meanwhile; your correction was not sent.']);
    }
    updateCount();
    return;
  }
  const known = items.get(item.id);
  if (known && known.version > item.version) return;
  const changed = !known || known.version !== item.version;
  items.set(item.id, item);
  const row = upsert(recentList, item, recentRow, RECENT_MAX).card;
  const card = upsert(preview, item, storyCard, PREVIEW_MAX).card;
  if (changed) {
    if (row) markFresh(row);
    if (card) markFresh(card);
  }
  if (editing?.id === item.id && item.version > editing.version) {
    editing.version = item.version;
    $('editor-mode').textContent = `Correcting version ${item.version}`;
    say(`This item changed meanwhile (now version ${item.version}): publishing your correction replaces that version.`, 'warn');
  }
  for (const id of [...items.keys()]) if (!findCard(recentList, id)) items.delete(id);
  updateCount();
}

function replaceAll(list) {
  items.clear();
  for (const item of list) items.set(item.id, item);
  recentList.replaceChildren(...list.slice(0, RECENT_MAX).map(recentRow));
  preview.replaceChildren(...list.slice(0, PREVIEW_MAX).map(storyCard));
  updateCount();
}

async function load() {
  client?.close();
  client = null;
  recentStatus.textContent = 'Loading…';
  let response;
  try {
    response = await request('GET', `/api/v1/items?limit=${RECENT_MAX}`);
  } catch {
    recentStatus.textContent = 'The server could not be reached. Retrying…';
    setTimeout(load, 3_000);
    return;
  }
  if (response.status !== 200) {
    recentStatus.textContent = describeFailure(response);
    return;
  }
  replaceAll(response.body.items);
  // Follow every topic from the list's own cursor: nothing between the two is missed.
  client = new NewsClient({
    cursor: response.body.cursor,
    onEvent: apply,
    onReset: (frame) => replaceAll(frame.items),
    onState: connectionIndicator($('connection')),
  });
  client.start();
}

$('refresh').addEventListener('click', load);

// ---- withdraw ----

function openWithdraw(item) {
  withdrawing = item;
  $('withdraw-headline').textContent = item.headline;
  reasonInput.value = '';
  reasonInput.removeAttribute('aria-invalid');
  reasonError.hidden = true;
  withdrawError.hidden = true;
  dialog.showModal();
  reasonInput.focus();
}

$('withdraw-cancel').addEventListener('click', () => dialog.close());

function dialogError(message) {
  withdrawError.textContent = message;
  withdrawError.hidden = false;
}

withdrawForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (busy || !withdrawing) return;
  const item = withdrawing;
  const token = getToken();
  if (!token) {
    dialog.close();
    tokenProblem('Enter your publisher token to withdraw items.');
    return;
  }
  reasonError.hidden = true;
  withdrawError.hidden = true;
  reasonInput.removeAttribute('aria-invalid');
  const confirm = $('withdraw-confirm');
  busy = true;
  confirm.disabled = true;
  let response;
  try {
    response = await request('DELETE', `/api/v1/items/${encodeURIComponent(item.id)}`, {
      body: { reason: reasonInput.value.trim() },
      token,
    });
  } catch {
    dialogError('The server could not be reached: the item may or may not be withdrawn. Try again.');
    return;
  } finally {
    busy = false;
    confirm.disabled = false;
  }
  if (response.status === 200) {
    dialog.close();
    apply({ event: 'retracted', item: { id: item.id } });
    say(`Withdrawn: “${item.headline}”.`);
    return;
  }
  const fields = response.body?.error?.fields;
  if (response.status === 400 && Array.isArray(fields)) {
    const reason = fields.filter((f) => f.path === 'reason').map((f) => f.message);
    if (reason.length) {
      reasonError.textContent = reason.join(' · ');
      reasonError.hidden = false;
      reasonInput.setAttribute('aria-invalid', 'true');
      reasonInput.focus();
    }
    const other = fields.filter((f) => f.path !== 'reason');
    if (other.length) dialogError(other.map((f) => `${f.path}: ${f.message}`).join(' · '));
    return;
  }
  if (response.status === 401 || response.status === 403) {
    dialog.close();
    tokenProblem(describeFailure(response));
    return;
  }
  dialogError(describeFailure(response));
});

// ---- start ----

renderToken();
load();
setInterval(() => {
  refreshTimes(document);
  dropExpired(preview);
}, 15_000);
