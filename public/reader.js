// The reader page: keeps the server-rendered list live from the page's cursor.
import { createAnnouncer } from './announce.js';
import { NewsClient } from './client.js';
import { findCard, markFresh, remove, upsert } from './live-list.js';
import { desktopAlerts } from './notify.js';
import { pushAlerts } from './push.js';
import { absoluteTime, dropExpired, el, guardImage, isAlert, itemHref, refreshTimes, relativeTime, storyCard, topicHref, topicName } from './render.js';
import { connectionIndicator } from './status.js';

const LABEL = { flash: 'Flash', bulletin: 'Bulletin' };
const MAX_STORIES = 100;
/** Section links a live page may grow to: a topic that appears after the first paint gets one. */
const MAX_SECTION_LINKS = 12;

const list = document.getElementById('stories');
const empty = document.getElementById('empty');
const banner = document.getElementById('breaking');
const newStories = document.getElementById('new-stories');
const announcer = createAnnouncer(
  document.getElementById('announce-polite'),
  document.getElementById('announce-assertive'),
);
const alerts = desktopAlerts(document.getElementById('alerts-toggle'));
const topics = list.dataset.topics === 'all' ? null : list.dataset.topics.split(',');
pushAlerts({ button: document.getElementById('push-toggle'), dialog: document.getElementById('push-dialog'), pageTopics: topics ?? [] });
const baseTitle = document.title;
let unseen = 0;
let unseenAbove = [];

for (const img of document.querySelectorAll('.story-media img')) guardImage(img);
function tick() {
  refreshTimes(document);
  if (dropExpired(list)) {
    if (banner.dataset.id && !findCard(list, banner.dataset.id)) hideBannerFor(banner.dataset.id);
    showEmpty();
  }
  scheduleExpiry();
}

let expiryTimer = null;
/** Wakes up when the next story expires, so it leaves on time. */
function scheduleExpiry() {
  clearTimeout(expiryTimer);
  let next = Number.POSITIVE_INFINITY;
  for (const card of list.querySelectorAll('[data-expires]')) next = Math.min(next, Date.parse(card.dataset.expires));
  if (!Number.isFinite(next)) return;
  expiryTimer = setTimeout(tick, Math.min(Math.max(0, next - Date.now()) + 50, 2 ** 31 - 1));
}

function cardFor(id) {
  return findCard(list, id);
}

function headlineOf(card) {
  return card?.querySelector('.story-headline')?.textContent ?? '';
}

function showEmpty() {
  empty.hidden = list.children.length > 0;
}

function isAbove(card) {
  return card.getBoundingClientRect().bottom < 0;
}

function noteUnseen(card) {
  if (document.hidden) {
    unseen++;
    document.title = `(${unseen}) ${baseTitle}`;
  }
  if (isAbove(card)) {
    unseenAbove.push(card.dataset.id);
    newStories.textContent = `↑ ${unseenAbove.length} new ${unseenAbove.length === 1 ? 'story' : 'stories'}`;
    newStories.hidden = false;
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    unseen = 0;
    document.title = baseTitle;
  }
});

window.addEventListener(
  'scroll',
  () => {
    if (!newStories.hidden && window.scrollY < list.offsetTop) {
      newStories.hidden = true;
      unseenAbove = [];
    }
  },
  { passive: true },
);

newStories.addEventListener('click', () => {
  const first = unseenAbove.length ? cardFor(unseenAbove[unseenAbove.length - 1]) : list.firstElementChild;
  newStories.hidden = true;
  unseenAbove = [];
  window.scrollTo({ top: 0 });
  first?.querySelector('.story-headline a')?.focus({ preventScroll: true });
});

function showBanner(item) {
  banner.dataset.id = item.id;
  banner.classList.toggle('breaking-bulletin', item.priority === 'bulletin');
  banner.classList.toggle('breaking-flash', item.priority === 'flash');
  banner.querySelector('.breaking-label').textContent = LABEL[item.priority];
  const link = banner.querySelector('.breaking-headline');
  link.textContent = item.headline;
  link.href = itemHref(item);
  const time = banner.querySelector('.breaking-time');
  time.dateTime = item.publishedAt;
  time.title = absoluteTime(item.publishedAt);
  time.textContent = relativeTime(item.publishedAt);
  banner.hidden = false;
  banner.classList.remove('arrived');
  void banner.offsetWidth;
  banner.classList.add('arrived');
}

function hideBannerFor(id) {
  if (banner.dataset.id === id) {
    banner.hidden = true;
    delete banner.dataset.id;
  }
}

banner.querySelector('.breaking-close').addEventListener('click', () => {
  banner.hidden = true;
  document.getElementById('main').focus({ preventScroll: true });
});

function alertReaders(item) {
  const label = LABEL[item.priority];
  showBanner(item);
  announcer.alert(`${label}: ${item.headline}`);
  alerts.show(item, label, () => cardFor(item.id)?.scrollIntoView({ block: 'center' }));
}

/** A correction can move a story out of the topics this page follows. */
function leftThisPage(item) {
  return topics !== null && !item.topics.some((topic) => topics.includes(topic));
}

const sectionList = document.querySelector('nav.sections ul');
/** Topics the section links name: read once from the first paint, then kept here. */
const linkedTopics = new Set(sectionList ? [...sectionList.querySelectorAll('a[data-topic]')].map((link) => link.dataset.topic) : []);

/** A story in a topic the section links do not name yet: link it (the server's next render ranks it). */
function linkNewTopics(item) {
  if (!sectionList) return;
  for (const topic of item.topics) {
    // One more than the topics: the first link is "All news".
    if (linkedTopics.has(topic) || sectionList.children.length >= MAX_SECTION_LINKS + 1) continue;
    const link = el('a', undefined, topicName(topic));
    link.href = topicHref(topic);
    link.dataset.topic = topic;
    const entry = el('li');
    entry.append(link);
    sectionList.append(entry);
    linkedTopics.add(topic);
  }
}

function onEvent(frame) {
  const { item } = frame;
  if (frame.event === 'published') linkNewTopics(item);
  if (frame.event === 'updated' && leftThisPage(item)) {
    remove(list, item.id);
    hideBannerFor(item.id);
    showEmpty();
    return;
  }
  if (frame.event === 'retracted') {
    const removed = remove(list, item.id);
    if (!removed) return;
    hideBannerFor(item.id);
    showEmpty();
    announcer.polite('retracted', `Withdrawn: ${headlineOf(removed)}`);
    return;
  }
  const { card, previous } = upsert(list, item, storyCard, MAX_STORIES);
  showEmpty();
  if (!card) return;
  markFresh(card);
  const wasAlert = previous?.classList.contains('priority-flash') || previous?.classList.contains('priority-bulletin');
  // Interrupt for a new alert, or for a story raised to flash or bulletin.
  if (isAlert(item) && (previous ? !wasAlert : frame.event === 'published')) {
    alertReaders(item);
  } else {
    if (banner.dataset.id === item.id) {
      if (isAlert(item)) showBanner(item);
      else hideBannerFor(item.id);
    }
    announcer.polite(
      previous ? 'updated' : 'published',
      previous ? `Updated: ${item.headline}${item.changeNote ? `. ${item.changeNote}` : ''}` : `New story: ${item.headline}`,
    );
  }
  if (!previous) noteUnseen(card);
  if (item.expiresAt) scheduleExpiry();
}

function onReset(frame) {
  list.replaceChildren(...frame.items.slice(0, MAX_STORIES).map(storyCard));
  if (banner.dataset.id && !cardFor(banner.dataset.id)) hideBannerFor(banner.dataset.id);
  showEmpty();
  scheduleExpiry();
  announcer.now('The list of stories was refreshed.');
}

let storage = null;
try {
  storage = window.sessionStorage;
} catch {
  // storage disabled: the cursor lives in memory only
}

const indicator = connectionIndicator(document.getElementById('connection'));
const stale = document.getElementById('stale');
tick();
setInterval(() => refreshTimes(document), 30_000);

const client = new NewsClient({
  topics,
  // The server-rendered list matches the page's cursor, so it wins over a stored one:
  // the stored cursor only serves when the page came without one.
  cursor: list.dataset.cursor || null,
  storage,
  onEvent,
  onReset,
  onState: (state, info) => {
    indicator(state, info);
    // The list may be behind while the link is down: say so where the reader looks.
    stale.hidden = state !== 'reconnecting' && state !== 'offline';
  },
});
client.start();

// Coming back from the back/forward cache: the socket was closed while frozen.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) client.reconnectNow();
});
