// The item form: reading it into an API body, filling it from an item, and
// showing the server's field errors next to the fields they belong to.

const TEXT_FIELDS = ['summary', 'url', 'language', 'source', 'byline'];

const DATE_FIELDS = ['embargoUntil', 'expiresAt'];

/** Comma-separated topics as typed, as the API's list (blanks dropped). */
export function parseTopics(text) {
  return text
    .split(',')
    .map((topic) => topic.trim())
    .filter(Boolean);
}

/**
 * The form's values as the API's item input; empty optional fields are left
 * out. With the item being edited, a date left as loaded keeps its exact
 * time (the input shows only minutes).
 */
export function readItem(form, original) {
  const value = (name) => form.elements.namedItem(name).value.trim();
  const item = {
    headline: value('headline'),
    topics: parseTopics(value('topics')),
    priority: form.elements.namedItem('priority').value || 'routine',
  };
  for (const name of TEXT_FIELDS) if (value(name)) item[name] = value(name);
  const body = form.elements.namedItem('body').value;
  if (body.trim()) item.body = body;
  const imageUrl = value('image-url');
  const imageAlt = value('image-alt');
  if (imageUrl || imageAlt) item.image = { url: imageUrl, alt: imageAlt };
  for (const name of DATE_FIELDS) {
    const typed = value(name);
    if (!typed) continue;
    if (original?.[name] && toLocalInput(original[name]) === typed) {
      item[name] = original[name];
      continue;
    }
    const date = new Date(typed);
    // An unreadable date goes as typed: the server says what is wrong with it.
    item[name] = Number.isNaN(date.getTime()) ? typed : date.toISOString();
  }
  const id = value('id');
  if (id) item.id = id;
  return item;
}

/** ISO time → the value of a datetime-local input, in local time. */
function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * The body as the editor would have typed it: the server turns plain text
 * into paragraphs, so a body of plain paragraphs goes back to plain text
 * (blank lines between them). Any other markup is shown as it is.
 */
export function editableBody(html) {
  if (!html) return '';
  const template = document.createElement('template');
  template.innerHTML = html;
  const blocks = [...template.content.childNodes].filter((node) => !(node.nodeType === Node.TEXT_NODE && !node.textContent.trim()));
  const plain = blocks.every(
    (node) => node.nodeName === 'P' && node.attributes.length === 0 && [...node.childNodes].every((child) => child.nodeType === Node.TEXT_NODE),
  );
  return plain ? blocks.map((node) => node.textContent).join('\n\n') : html;
}

export function fillItem(form, item) {
  const set = (name, value) => {
    form.elements.namedItem(name).value = value ?? '';
  };
  set('headline', item.headline);
  set('topics', item.topics.join(', '));
  for (const name of TEXT_FIELDS) set(name, item[name]);
  set('body', editableBody(item.body));
  set('image-url', item.image?.url);
  set('image-alt', item.image?.alt);
  for (const name of DATE_FIELDS) set(name, item[name] ? toLocalInput(item[name]) : '');
  // Dates wait behind a disclosure; an item that has one shows them.
  const dates = form.querySelector('#schedule-fields');
  if (dates) dates.open = DATE_FIELDS.some((name) => item[name]);
  set('id', item.id);
  set('changeNote', '');
  for (const radio of form.querySelectorAll('input[name="priority"]')) radio.checked = radio.value === item.priority;
}

const LABELS = {
  id: 'Item id',
  headline: 'Headline',
  summary: 'Summary',
  body: 'Body',
  url: 'Link',
  topics: 'Topics',
  priority: 'Priority',
  language: 'Language',
  source: 'Source',
  byline: 'Byline',
  'image-url': 'Image URL',
  'image-alt': 'Image description',
  expiresAt: 'Expires',
  embargoUntil: 'Embargo until',
  changeNote: 'Change note',
};

/** Which form field an API error path belongs to ("image.url" → "image-url"). */
export function fieldFor(path) {
  const [head, next] = path.split('.');
  if (head === 'image') return next === 'alt' ? 'image-alt' : 'image-url';
  return head in LABELS ? head : null;
}

function describe(error, sent) {
  const [head, index] = error.path.split('.');
  if (head === 'topics' && index !== undefined && /^\d+$/.test(index)) {
    const topic = sent?.topics?.[Number(index)];
    return `“${topic ?? `topic ${Number(index) + 1}`}” ${error.message}`;
  }
  return error.message;
}

export function clearErrors(form, summary) {
  for (const message of form.querySelectorAll('.field-error')) {
    message.hidden = true;
    message.textContent = '';
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const field of form.querySelectorAll('.field.has-error')) field.classList.remove('has-error');
  if (summary) {
    summary.hidden = true;
    summary.querySelector('ul').replaceChildren();
  }
}

/**
 * Puts each error next to its field and lists them all in the summary.
 * `extra` holds messages that belong to no field. Focuses the summary.
 */
export function showErrors(form, summary, errors, sent, extra = []) {
  clearErrors(form, summary);
  const list = summary.querySelector('ul');
  const byField = new Map();
  for (const error of errors) {
    const name = fieldFor(error.path);
    const text = describe(error, sent);
    if (name && form.querySelector(`[data-field="${name}"]`)) {
      byField.set(name, [...(byField.get(name) ?? []), text]);
    } else {
      extra.push(`${error.path}: ${text}`);
    }
  }
  for (const [name, messages] of byField) {
    const field = form.querySelector(`[data-field="${name}"]`);
    // A field with an error is never left behind a closed disclosure.
    const disclosure = field.closest('details');
    if (disclosure) disclosure.open = true;
    const message = field.querySelector('.field-error');
    message.textContent = messages.join(' · ');
    message.hidden = false;
    field.classList.add('has-error');
    const control = field.querySelector('input, textarea, select');
    if (control && field.tagName !== 'FIELDSET') control.setAttribute('aria-invalid', 'true');
    if (field.tagName === 'FIELDSET') field.setAttribute('aria-invalid', 'true');
    const li = document.createElement('li');
    const link = document.createElement('a');
    link.href = `#${control?.id ?? ''}`;
    link.textContent = `${LABELS[name]}: ${messages.join(' · ')}`;
    link.addEventListener('click', (event) => {
      event.preventDefault();
      control?.focus();
    });
    li.append(link);
    list.append(li);
  }
  for (const text of extra) {
    const li = document.createElement('li');
    li.textContent = text;
    list.append(li);
  }
  summary.hidden = list.children.length === 0;
  if (!summary.hidden) summary.focus();
}
