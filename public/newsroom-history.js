// The newsroom console's view of an item's history: every version with who
// made it (the key's name), when, its change note or reason, and the request
// id, in a dialog opened from the recent list.
import { describeFailure, NetworkError, request } from './newsroom-api.js';
import { el, exactTimeElement } from './render.js';

const EVENTS = { published: 'Published', updated: 'Corrected', retracted: 'Withdrawn' };

/** The dialog and the parts each opening fills, made on first use. */
let parts = null;

function ensureDialog() {
  if (parts) return parts;
  const dialog = el('dialog', 'dialog history-dialog');
  dialog.id = 'history-dialog';
  dialog.setAttribute('aria-labelledby', 'history-title');
  const title = el('h2', undefined, 'History');
  title.id = 'history-title';
  const headline = el('p', 'history-headline');
  headline.id = 'history-headline';
  const status = el('p', 'panel-note');
  status.id = 'history-status';
  status.setAttribute('role', 'status');
  const list = el('ol', 'history-list');
  list.id = 'history-list';
  const close = el('button', 'button', 'Close');
  close.type = 'button';
  close.addEventListener('click', () => dialog.close());
  const actions = el('div', 'form-actions');
  actions.append(close);
  dialog.append(title, headline, status, list, actions);
  document.body.append(dialog);
  parts = { dialog, headline, status, list };
  return parts;
}

function versionRow(version) {
  const row = el('li', `history-version history-${version.event}`);
  row.dataset.version = String(version.version);
  const head = el('p', 'history-head');
  head.append(el('strong', undefined, `v${version.version} ${EVENTS[version.event] ?? version.event}`), ' ', exactTimeElement(version.at));
  row.append(head);
  const who = el('p', 'history-by');
  if (version.by) {
    who.append('by ', el('span', 'history-key', version.by.name), ' ', el('code', undefined, version.by.key));
  } else {
    who.textContent = 'by an unrecorded key (written before keys were recorded)';
  }
  row.append(who);
  if (version.changeNote) row.append(el('p', 'history-note', `Change note: ${version.changeNote}`));
  if (version.reason) row.append(el('p', 'history-note', `Reason: ${version.reason}`));
  if (version.requestId) {
    const id = el('p', 'history-request');
    id.append('Request ', el('code', undefined, version.requestId));
    row.append(id);
  }
  return row;
}

/** A "History" button for a row of the recent list (the console routes its clicks here). */
export function historyButton(item) {
  const button = el('button', 'button button-small', 'History');
  button.type = 'button';
  button.dataset.action = 'history';
  button.setAttribute('aria-label', `History of “${item.headline}”`);
  return button;
}

/** Opens the dialog and loads the item's versions, newest first, with the editor's key. */
export async function showHistory(item, token) {
  const { dialog, headline, status, list } = ensureDialog();
  headline.textContent = item.headline;
  list.replaceChildren();
  status.textContent = 'Loading…';
  status.dataset.tone = 'info';
  if (!dialog.open) dialog.showModal();
  let response;
  try {
    response = await request('GET', `/api/v1/items/${encodeURIComponent(item.id)}/history`, { token });
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    status.textContent = 'The server could not be reached. Try again.';
    status.dataset.tone = 'warn';
    return;
  }
  if (response.status !== 200) {
    status.textContent = describeFailure(response);
    status.dataset.tone = 'warn';
    return;
  }
  const versions = response.body.versions ?? [];
  status.textContent = versions.length
    ? `${versions.length} version${versions.length === 1 ? '' : 's'}, newest first.`
    : 'No versions recorded yet.';
  status.dataset.tone = 'ok';
  list.replaceChildren(...[...versions].reverse().map(versionRow));
}
