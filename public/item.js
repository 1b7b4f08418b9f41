// The story page follows its own item by id, whatever its topics become:
// a correction is shown in place with its change note, and a kill removes
// the story, leaving only a withdrawal notice with the reason.
import { createAnnouncer } from './announce.js';
import { renderArticle, withdrawArticle } from './article.js';
import { NewsClient } from './client.js';
import { isAlert, priorityLabel } from './render.js';
import { connectionIndicator } from './status.js';

const main = document.getElementById('main');
const article = main.querySelector('article');
const notice = document.getElementById('article-notice');
const id = main.dataset.id;
let version = Number(main.dataset.version);
let withdrawn = false;
let priority = [...main.classList].find((name) => name.startsWith('priority-'))?.slice('priority-'.length);
// The visible notice is not a live region: each change is spoken once, from these.
const announcer = createAnnouncer(document.getElementById('announce-polite'), document.getElementById('announce-assertive'));

function tell(text, kind) {
  notice.textContent = text;
  notice.classList.toggle('withdrawn', kind === 'withdrawn');
  notice.hidden = false;
}

function correct(item) {
  if (withdrawn || item.version <= version) return;
  version = item.version;
  main.dataset.version = String(version);
  const raised = isAlert(item) && !isAlert({ priority });
  main.classList.replace(`priority-${priority}`, `priority-${item.priority}`);
  priority = item.priority;
  renderArticle(article, item);
  document.title = `${item.headline} · ${document.title.split(' · ').pop()}`;
  const text = `This story was updated${item.changeNote ? `: ${item.changeNote}` : '.'}`;
  tell(text, 'updated');
  // A story raised to flash or bulletin interrupts; any other correction waits its turn.
  if (raised) announcer.alert(`${priorityLabel(item)}: ${item.headline}. ${text}`);
  else announcer.now(text);
}

function withdraw(reason) {
  if (withdrawn) return;
  withdrawn = true;
  main.classList.add('withdrawn');
  withdrawArticle(article, reason);
  document.title = `Withdrawn · ${document.title.split(' · ').pop()}`;
  // Nothing of the story stays in the head either: no structured data, no preview tags.
  for (const node of document.head.querySelectorAll(
    'script[type="application/ld+json"], meta[name="description"], meta[property^="og:"], meta[property^="article:"], meta[name^="twitter:"]',
  )) {
    node.remove();
  }
  const text = `This story was withdrawn${reason ? `: ${reason}` : '.'}`;
  tell(text, 'withdrawn');
  announcer.now(text);
  client.close();
}

/** After a reset the item may be gone: ask what became of it. */
async function recheck() {
  try {
    const response = await fetch(`/api/v1/items/${encodeURIComponent(id)}`);
    const body = await response.json();
    if (response.status === 410) withdraw(body.error?.item?.reason);
    else if (response.ok) correct(body.item);
    else if (response.status === 404) tell('This story is no longer available.', 'withdrawn');
  } catch {
    // The connection indicator already tells the reader the page may be behind.
  }
}

const client = new NewsClient({
  items: [id],
  detail: 'full',
  onState: connectionIndicator(document.getElementById('connection')),
  onEvent(frame) {
    if (frame.item.id !== id) return;
    if (frame.event === 'retracted') withdraw(frame.item.reason);
    else correct(frame.item);
  },
  onReset(frame) {
    const item = frame.items.find((candidate) => candidate.id === id);
    if (item) correct(item);
    else void recheck();
  },
});
client.start();
