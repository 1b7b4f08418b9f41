// The newsroom console: token, item form, recent items with correct and
// withdraw (scheduled items too, with edit and cancel), and a live view of
// what readers see.
import { NewsClient } from './client.js';
import { findCard, markFresh, remove, upsert } from './live-list.js';
import { describeFailure, NetworkError, request, tokenRefused } from './newsroom-api.js';
import { createDesk } from './newsroom-desk.js';
import { historyButton, showHistory } from './newsroom-history.js';
import { clearErrors, fillItem, readItem, showErrors } from './newsroom-form.js';
import { absoluteTime, dropExpired, itemHref, refreshTimes, relativeTime, storyCard } from './render.js';
import { connectionIndicator } from './status.js';

const TOKEN_KEY = 'newswire:publisher-token';
const RECENT_MAX = 50;
const PREVIEW_MAX = 20;
const LABELS = { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent' };
/** The API wants a reason for every DELETE; a held item keeps none, so the console gives one. */
const CANCEL_REASON = 'Cancelled before its embargo lifted';

/** Held until its embargo lifts: only the newsroom sees it. */
const isHeld = (item) => item.status === 'scheduled';

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
/** The item being corrected or edited ({ id, version, status, item }), or null when publishing a new one. */
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
  void loadScheduled();
  desk.refresh();
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

/** After an action whose control is gone (a reset form, a closed dialog): focus lands on what happened. */
function sayAndFocus(text, tone) {
  say(text, tone);
  formStatus.focus();
}

/** What the button will do: publish, schedule, or (for a held item) save it or publish it now. */
function submitLabel() {
  const embargo = Date.parse(form.elements.namedItem('embargoUntil').value);
  const future = embargo > Date.now();
  if (!editing) return future ? 'Schedule' : 'Publish';
  if (editing.status === 'scheduled') return future ? 'Save scheduled item' : 'Publish now';
  return 'Publish correction';
}

function setBusy(value, label) {
  busy = value;
  submit.disabled = value;
  submit.setAttribute('aria-busy', String(value));
  submit.textContent = value ? label : submitLabel();
}

form.elements.namedItem('embargoUntil').addEventListener('input', () => {
  if (!busy) submit.textContent = submitLabel();
});

// ---- editing mode ----

/** Title, tag and change note of the editor for the item being edited. */
function renderEditing() {
  const held = editing.status === 'scheduled';
  // Readers never saw a held item, so there is nothing a change note could explain.
  $('change-note-field').hidden = held;
  $('editor-title').textContent = held ? 'Edit a scheduled item' : 'Correct an item';
  const tag = $('editor-mode');
  tag.textContent = held ? `Scheduled for ${absoluteTime(editing.item.embargoUntil)}` : `Correcting version ${editing.version}`;
  tag.hidden = false;
  submit.textContent = submitLabel();
}

function enterCorrection(item) {
  editing = { id: item.id, version: item.version, status: item.status, item };
  pendingId = null;
  clearErrors(form, summary);
  fillItem(form, item);
  form.elements.namedItem('id').readOnly = true;
  $('cancel-correction').hidden = false;
  renderEditing();
  say(isHeld(item) ? `Loaded “${item.headline}” (scheduled) for editing.` : `Loaded “${item.headline}” for correction.`);
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
  submit.textContent = submitLabel();
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
  const correcting = editing;
  const input = readItem(form, correcting?.item);
  let method = 'POST';
  let path = '/api/v1/items';
  let body = input;
  if (correcting) {
    method = 'PUT';
    path = `/api/v1/items/${encodeURIComponent(correcting.id)}`;
    body = { ...input, id: correcting.id };
    const note = form.elements.namedItem('changeNote').value.trim();
    if (note && correcting.status !== 'scheduled') body.changeNote = note;
    if (form.elements.namedItem('notify').checked && correcting.status !== 'scheduled') body.notify = true;
  } else if (!input.id) {
    pendingId ??= makeId();
    body = { ...input, id: pendingId };
  }
  // A flash interrupts every reader: it goes out only once confirmed (a correction of one does not re-alert).
  if (body.priority === 'flash' && correcting?.item.priority !== 'flash' && !(await desk.confirmFlash(body))) {
    say('Not sent: the flash was cancelled.', 'info');
    return;
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

  if ((response.status === 200 || response.status === 202) && isHeld(response.body.item)) {
    const item = response.body.item;
    clearForm();
    const when = absoluteTime(item.embargoUntil);
    if (response.body.unchanged) sayAndFocus(`No change: “${item.headline}” is already scheduled like this.`, 'info');
    else sayAndFocus(`Scheduled: “${item.headline}” goes out ${when}. Readers see nothing until then.`);
    apply({ event: 'scheduled', item });
    return;
  }
  if (response.status === 200 || response.status === 201) {
    const item = response.body.item;
    clearForm();
    if (response.body.unchanged) sayAndFocus(`No change: “${item.headline}” already reads like this.`, 'info');
    else if (correcting && item.version > 1) sayAndFocus(`Correction published: “${item.headline}” is now version ${item.version}.`);
    else sayAndFocus(`Published: “${item.headline}” (id ${item.id}).`);
    apply({ event: item.version === 1 ? 'published' : 'updated', item });
    return;
  }
  if (response.status === 409 && response.body?.error?.code === 'already-published') {
    showErrors(form, summary, [{ path: 'embargoUntil', message: 'is in the future, but readers already have this item: an embargo cannot take it back' }], body);
    return;
  }
  if (response.status === 400 && Array.isArray(response.body?.error?.fields)) {
    showErrors(form, summary, response.body.error.fields, body);
    return;
  }
  if (response.body?.error?.code === 'forbidden-topic') {
    showErrors(form, summary, [{ path: 'topics', message: response.body.error.message }], body);
    return;
  }
  if (tokenRefused(response)) {
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

/** "Goes out in 5 min (27 May 2026, 14:05)": when a held item will be published. */
function releaseText(iso, now = Date.now()) {
  const at = absoluteTime(iso);
  const minutes = Math.ceil((Date.parse(iso) - now) / 60_000);
  if (minutes <= 0) return `Going out now (${at})`;
  if (minutes < 60) return `Goes out in ${minutes} min (${at})`;
  if (minutes < 24 * 60) return `Goes out in ${Math.round(minutes / 60)} h (${at})`;
  return `Goes out ${at}`;
}

function refreshReleaseTimes() {
  for (const time of recentList.querySelectorAll('time.until')) time.textContent = releaseText(time.dateTime);
}

function actionButton(label, action, headline, className = 'button button-small') {
  const button = el('button', className, label);
  button.type = 'button';
  button.dataset.action = action;
  button.setAttribute('aria-label', `${label} “${headline}”`);
  return button;
}

function recentRow(item) {
  const held = isHeld(item);
  const row = el('li', `recent-item priority-${item.priority}${held ? ' scheduled' : ''}`);
  row.dataset.id = item.id;
  row.dataset.version = String(item.version ?? 0);
  row.dataset.published = held ? item.embargoUntil : item.publishedAt;

  const main = el('div', 'recent-main');
  const kicker = el('p', 'recent-kicker');
  if (held) kicker.append(el('span', 'label label-scheduled', 'Scheduled'));
  if (LABELS[item.priority]) kicker.append(el('span', `label label-${item.priority}`, LABELS[item.priority]));
  kicker.append(el('span', 'recent-topics', item.topics.join(' · ')));
  const headline = el('p', 'recent-headline');
  if (held) {
    // Its page does not exist for readers yet.
    headline.textContent = item.headline;
  } else {
    const link = el('a', undefined, item.headline);
    link.href = itemHref(item);
    link.target = '_blank';
    link.rel = 'noopener';
    headline.append(link);
  }
  const meta = el('p', 'recent-meta');
  if (held) {
    const time = el('time', 'until', releaseText(item.embargoUntil));
    time.dateTime = item.embargoUntil;
    meta.append(time, el('code', 'recent-id', item.id));
  } else {
    const time = el('time', 'rel', relativeTime(item.publishedAt));
    time.dateTime = item.publishedAt;
    time.title = absoluteTime(item.publishedAt);
    meta.append(time, el('span', undefined, `v${item.version}`), el('code', 'recent-id', item.id));
    if (item.version > 1 && item.changeNote) meta.append(el('span', 'recent-note', `Updated: ${item.changeNote}`));
  }
  main.append(kicker, headline, meta);

  const actions = el('div', 'recent-actions');
  if (held) {
    actions.append(
      actionButton('Edit', 'correct', item.headline),
      actionButton('Cancel', 'withdraw', item.headline, 'button button-small button-danger-outline'),
    );
  } else {
    actions.append(
      actionButton('Correct', 'correct', item.headline),
      historyButton(item),
      actionButton('Withdraw', 'withdraw', item.headline, 'button button-small button-danger-outline'),
    );
  }
  row.append(main, actions);
  if (editing?.id === item.id) row.classList.add('editing');
  return row;
}

recentList.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const item = items.get(button.closest('li').dataset.id);
  if (!item) return;
  if (button.dataset.action === 'history') return void showHistory(item, getToken());
  if (button.dataset.action !== 'correct') {
    openWithdraw(item);
    return;
  }
  // Lists carry cards (no body): a correction starts from the whole item as it is now.
  const whole = isHeld(item) ? item : await loadWhole(item);
  if (whole) enterCorrection(whole);
});

/** The whole current item (with its body), or null after saying why it cannot be corrected. */
async function loadWhole(item) {
  let response;
  try {
    response = await request('GET', `/api/v1/items/${encodeURIComponent(item.id)}`, { token: getToken() });
  } catch {
    say(`The server could not be reached to load “${item.headline}”. Try again.`, 'warn');
    return null;
  }
  if (response.status === 200) return response.body.item;
  if (response.status === 410) {
    apply({ event: 'retracted', item: { id: item.id } });
    say(`“${item.headline}” was withdrawn meanwhile.`, 'warn');
    return null;
  }
  say(describeFailure(response), 'warn');
  return null;
}

function updateCount() {
  const held = [...items.values()].filter(isHeld).length;
  recentStatus.textContent = items.size
    ? `${items.size} item${items.size === 1 ? '' : 's'}${held ? ` (${held} scheduled, on top)` : ''}, newest first. Changes appear here live.`
    : 'Nothing published yet.';
}

/** Applies one change to every view, ignoring anything older than what is shown. */
function apply({ event, item }) {
  if (event === 'retracted') desk.killed(item.id, items.get(item.id)?.headline);
  if (event === 'retracted' || event === 'cancelled') {
    items.delete(item.id);
    remove(recentList, item.id);
    remove(preview, item.id);
    if (editing?.id === item.id) {
      clearForm();
      showErrors(form, summary, [], null, [
        event === 'cancelled'
          ? 'The scheduled item you were editing was cancelled meanwhile; your changes were not sent.'
          : 'The item you were correcting was withdrawn meanwhile; your correction was not sent.',
      ]);
    }
    updateCount();
    return;
  }
  const known = items.get(item.id);
  const held = isHeld(item);
  // Once out, an item is never held again: a held copy is older news.
  if (known && !isHeld(known) && held) return;
  if (known && known.version > item.version) return;
  const changed = !known || known.version !== item.version || held;
  // Released: it leaves the scheduled rows for its place among the published ones.
  if (known && isHeld(known) && !held) remove(recentList, item.id);
  items.set(item.id, item);
  const row = upsert(recentList, item, recentRow, RECENT_MAX).card;
  const card = held ? null : upsert(preview, item, storyCard, PREVIEW_MAX).card;
  if (changed) {
    if (row) markFresh(row);
    if (card) markFresh(card);
  }
  if (editing?.id === item.id && editing.status === 'scheduled' && !held) {
    editing = { id: item.id, version: item.version, status: item.status, item };
    renderEditing();
    say('This item was published meanwhile (its embargo lifted): saving now corrects what readers see.', 'warn');
  } else if (editing?.id === item.id && held) {
    editing.item = item;
    renderEditing();
  } else if (editing?.id === item.id && item.version > editing.version) {
    editing.version = item.version;
    editing.item = item;
    $('editor-mode').textContent = `Correcting version ${item.version}`;
    say(`This item changed meanwhile (now version ${item.version}): publishing your correction replaces that version.`, 'warn');
  }
  for (const id of [...items.keys()]) if (!findCard(recentList, id)) items.delete(id);
  updateCount();
}

/** Replaces the published items; held ones stay (they are loaded on their own, see loadScheduled). */
function replaceAll(list) {
  const out = new Set(list.map((item) => item.id));
  const held = [...items.values()].filter((item) => isHeld(item) && !out.has(item.id));
  held.sort((a, b) => (a.embargoUntil < b.embargoUntil ? 1 : -1));
  items.clear();
  for (const item of [...held, ...list]) items.set(item.id, item);
  recentList.replaceChildren(...[...held, ...list].slice(0, RECENT_MAX).map(recentRow));
  preview.replaceChildren(...list.slice(0, PREVIEW_MAX).map(storyCard));
  updateCount();
}

/** Held items come only from this list (no event tells of them): needs the token. */
async function loadScheduled() {
  const token = getToken();
  if (!token) return;
  let response;
  try {
    response = await request('GET', `/api/v1/items?status=scheduled&limit=${RECENT_MAX}`, { token });
  } catch {
    return;
  }
  // A refused token is reported when the editor next writes; the published list stands on its own.
  if (response.status !== 200) return;
  const listed = new Set(response.body.items.map((item) => item.id));
  // Not held any more: cancelled elsewhere, or released (its event brings it back as published).
  for (const item of [...items.values()]) {
    if (isHeld(item) && !listed.has(item.id)) {
      items.delete(item.id);
      remove(recentList, item.id);
    }
  }
  for (const item of response.body.items) apply({ event: 'scheduled', item });
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
  items.clear();
  replaceAll(response.body.items);
  // Follow every topic from the list's own cursor: nothing between the two is missed.
  client = new NewsClient({
    cursor: response.body.cursor,
    onEvent: apply,
    onReset: (frame) => {
      replaceAll(frame.items);
      void loadScheduled();
    },
    onState: connectionIndicator($('connection')),
  });
  client.start();
  // After the published list: an item released in between arrives as an event and wins over its held copy.
  await loadScheduled();
}

$('refresh').addEventListener('click', load);

// ---- withdraw ----

function openWithdraw(item) {
  withdrawing = item;
  const held = isHeld(item);
  $('withdraw-title').textContent = held ? 'Cancel this scheduled item?' : 'Withdraw this item?';
  $('withdraw-hint').textContent = held
    ? 'It will not be published, and readers never learn it existed. This cannot be undone.'
    : 'It disappears from every open page and every feed at once. This cannot be undone.';
  $('withdraw-reason-field').hidden = held;
  $('withdraw-confirm').textContent = held ? 'Cancel item' : 'Withdraw item';
  $('withdraw-headline').textContent = item.headline;
  reasonInput.value = '';
  reasonInput.removeAttribute('aria-invalid');
  reasonError.hidden = true;
  withdrawError.hidden = true;
  dialog.showModal();
  (held ? $('withdraw-confirm') : reasonInput).focus();
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
      body: { reason: isHeld(item) ? CANCEL_REASON : reasonInput.value.trim() },
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
    const cancelled = response.body?.item?.status === 'cancelled';
    apply({ event: cancelled ? 'cancelled' : 'retracted', item: { id: item.id } });
    if (cancelled) sayAndFocus(`Cancelled: “${item.headline}” will not be published.`);
    // The embargo lifted just before the cancel arrived: the server withdrew it instead.
    else if (isHeld(item)) sayAndFocus(`“${item.headline}” had just been published, so it was withdrawn.`, 'warn');
    else sayAndFocus(`Withdrawn: “${item.headline}”.`);
    return;
  }
  // Gone already: a retry whose first attempt (its answer lost) withdrew it, or another editor did.
  if (response.status === 410) {
    dialog.close();
    apply({ event: 'retracted', item: { id: item.id } });
    sayAndFocus(`Withdrawn: “${item.headline}” (it already was).`);
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
  if (tokenRefused(response)) {
    dialog.close();
    tokenProblem(describeFailure(response));
    return;
  }
  dialogError(describeFailure(response));
});

// ---- the flash path ----

let pendingFlash = null;

/** Sends a headline-only flash once confirmed; true once the server holds it. */
async function publishFlash(input) {
  const token = getToken();
  if (!token) {
    tokenProblem('Enter your publisher token to send a flash.');
    return false;
  }
  if (busy) return false;
  if (!(await desk.confirmFlash(input))) {
    say('Not sent: the flash was cancelled.', 'info');
    $('flash-headline').focus();
    return false;
  }
  // The same words retried keep their id: a retry after a lost answer never sends twice.
  if (pendingFlash?.headline !== input.headline) pendingFlash = { headline: input.headline, id: makeId() };
  busy = true;
  let response;
  try {
    response = await request('POST', '/api/v1/items', { body: { ...input, id: pendingFlash.id }, token });
  } catch {
    sayAndFocus('The server could not be reached: the flash may or may not be out. Send it again: a retry never sends twice.', 'warn');
    return false;
  } finally {
    busy = false;
  }
  if (response.status === 200 || response.status === 201) {
    pendingFlash = null;
    const item = response.body.item;
    apply({ event: 'published', item });
    sayAndFocus(`Flash sent: “${item.headline}” (${item.topics.join(', ')}).`);
    return true;
  }
  // A key that may not send this (its action or topics) keeps its token: the reason shows by the flash.
  if (tokenRefused(response)) {
    tokenProblem(describeFailure(response));
    return false;
  }
  const fields = response.body?.error?.fields;
  const problem = Array.isArray(fields) ? fields.map((f) => `${f.path}: ${f.message}`).join(' · ') : describeFailure(response);
  const error = $('flash-error');
  error.textContent = problem;
  error.hidden = false;
  $('flash-headline').focus();
  return false;
}

const desk = createDesk({ getToken, publish: publishFlash });

// ---- start ----

renderToken();
load();
desk.refresh();
setInterval(() => {
  refreshTimes(document);
  refreshReleaseTimes();
  dropExpired(preview);
}, 15_000);
