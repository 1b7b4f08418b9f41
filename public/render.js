// Builds the DOM for a story card: the same markup the server renders
// (src/pages/cards.ts), built with textContent only, so untrusted text can
// never become markup.

import { bylineText, sourceText } from './shared/credit.js';
import { absoluteTime, relativeTime } from './shared/time.js';

export { absoluteTime, bylineText, relativeTime, sourceText };

const LABELS = { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent' };

/** "Flash", "Bulletin" or "Urgent"; none for a routine item. */
export function priorityLabel(item) {
  return LABELS[item.priority];
}

/** Flash and bulletin interrupt; the rest wait their turn. */
export function isAlert(item) {
  return item.priority === 'flash' || item.priority === 'bulletin';
}

export function topicHref(topic) {
  return `/?topics=${encodeURIComponent(topic)}`;
}

/** A topic slug as readers see it (src/pages/cards.ts topicName). */
export function topicName(topic) {
  return topic.replaceAll('-', ' ');
}

export function itemHref(item) {
  return `/items/${encodeURIComponent(item.id)}`;
}

/** An element with a class and text (never markup). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A relative time ("5 min ago") with the exact one as its title. */
export function timeElement(iso, className) {
  const time = el('time', className, relativeTime(iso));
  time.dateTime = iso;
  time.title = absoluteTime(iso);
  return time;
}

/** An exact time, as the story page and an item's history show it. */
export function exactTimeElement(iso) {
  const time = el('time', undefined, absoluteTime(iso));
  time.dateTime = iso;
  return time;
}

/** Refreshes every relative time under `root`. */
export function refreshTimes(root, now = Date.now()) {
  for (const time of root.querySelectorAll('time[datetime]')) {
    if (!time.classList.contains('rel')) continue;
    time.textContent = relativeTime(time.dateTime, now);
  }
}

/** No event marks an expiry: drop cards whose time is up. Returns how many went. */
export function dropExpired(root, now = Date.now()) {
  let dropped = 0;
  for (const card of root.querySelectorAll('[data-expires]')) {
    if (Date.parse(card.dataset.expires) <= now) {
      card.remove();
      dropped++;
    }
  }
  return dropped;
}

/** Server-rendered images may fail before any script runs: hide those too. */
export function guardImage(img) {
  const hide = () => img.closest('.story-media')?.remove();
  if (img.complete && img.naturalWidth === 0 && img.getAttribute('src')) hide();
  else img.addEventListener('error', hide, { once: true });
}

/** The line above a headline: the priority label (flash, bulletin, urgent), then a link per topic. */
export function storyKicker(item) {
  const kicker = el('p', 'story-kicker');
  const label = priorityLabel(item);
  if (label) kicker.append(el('span', `label label-${item.priority}`, label));
  for (const topic of item.topics) {
    const link = el('a', 'topic', topicName(topic));
    link.href = topicHref(topic);
    kicker.append(link);
  }
  return kicker;
}

/** "Updated", its time (`time`: relative on cards, absolute on the story page) and the change note. */
export function updateLine(item, time) {
  const update = el('p', 'story-update');
  update.append(el('strong', 'updated-mark', 'Updated'), ' ', time);
  if (item.changeNote) update.append(el('span', 'change-note', item.changeNote));
  return update;
}

/** A story card for a live item. */
export function storyCard(item) {
  const article = el('article', `story priority-${item.priority}`);
  article.id = `item-${item.id}`;
  article.dataset.id = item.id;
  article.dataset.version = String(item.version);
  if (item.expiresAt) article.dataset.expires = item.expiresAt;
  article.setAttribute('aria-labelledby', `headline-${item.id}`);

  const text = el('div', 'story-text');
  text.append(storyKicker(item));

  const h2 = el('h2', 'story-headline');
  h2.id = `headline-${item.id}`;
  const link = el('a', undefined, item.headline);
  link.href = itemHref(item);
  if (item.language) link.lang = item.language;
  h2.append(link);
  text.append(h2);

  if (item.summary) {
    const summary = el('p', 'story-summary', item.summary);
    if (item.language) summary.lang = item.language;
    text.append(summary);
  }

  const meta = el('p', 'story-meta');
  meta.append(timeElement(item.publishedAt, 'rel'));
  if (item.source) meta.append(el('span', 'source', sourceText(item.source)));
  if (item.byline) meta.append(el('span', 'byline', bylineText(item.byline)));
  text.append(meta);

  if (item.version > 1) text.append(updateLine(item, timeElement(item.updatedAt, 'rel')));
  article.append(text);

  if (item.image?.url) {
    const figure = el('div', 'story-media');
    const img = el('img');
    img.src = item.image.url;
    img.alt = item.image.alt ?? '';
    img.loading = 'lazy';
    img.decoding = 'async';
    guardImage(img);
    figure.append(img);
    article.append(figure);
  }
  return article;
}
