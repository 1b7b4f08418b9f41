// Server-rendered story card. public/render.js builds the same markup in the
// browser for live items; keep the two in step.
import type { Item } from '../domain/item.ts';
import { bylineText, sourceText } from '../shared/credit.js';
import { html, type Markup } from './html.ts';
import { absoluteTime, relativeTime } from './time.ts';

const LABELS: Partial<Record<Item['priority'], string>> = { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent' };

export const isAlert = (item: Item) => item.priority === 'flash' || item.priority === 'bulletin';
export const itemHref = (item: Pick<Item, 'id'>) => `/items/${encodeURIComponent(item.id)}`;
export const topicHref = (topic: string) => `/?topics=${encodeURIComponent(topic)}`;
export const topicName = (topic: string) => topic.replaceAll('-', ' ');

export function timeTag(iso: string, now: number, className = 'rel'): Markup {
  return html`<time class="${className}" datetime="${iso}" title="${absoluteTime(iso)}">${relativeTime(iso, now)}</time>`;
}

export function priorityLabel(item: Item): Markup | '' {
  const label = LABELS[item.priority];
  return label ? html`<span class="label label-${item.priority}">${label}</span>` : '';
}

export function storyCard(item: Item, now = Date.now()): Markup {
  const lang = item.language;
  return html`<article class="story priority-${item.priority}" id="item-${item.id}" data-id="${item.id}" data-version="${item.version}"${item.expiresAt ? html` data-expires="${item.expiresAt}"` : ''} aria-labelledby="headline-${item.id}"><div class="story-text"><p class="story-kicker">${priorityLabel(item)}${item.topics.map(
    (topic) => html`<a class="topic" href="${topicHref(topic)}">${topicName(topic)}</a>`,
  )}</p><h2 class="story-headline" id="headline-${item.id}"><a href="${itemHref(item)}"${lang ? html` lang="${lang}"` : ''}>${item.headline}</a></h2>${
    item.summary ? html`<p class="story-summary"${lang ? html` lang="${lang}"` : ''}>${item.summary}</p>` : ''
  }<p class="story-meta">${timeTag(item.publishedAt, now)}${item.source ? html`<span class="source">${sourceText(item.source)}</span>` : ''}${
    item.byline ? html`<span class="byline">${bylineText(item.byline)}</span>` : ''
  }</p>${
    item.version > 1
      ? html`<p class="story-update"><strong class="updated-mark">Updated</strong> ${timeTag(item.updatedAt, now)}${
          item.changeNote ? html`<span class="change-note">${item.changeNote}</span>` : ''
        }</p>`
      : ''
  }</div>${
    item.image?.url
      ? html`<div class="story-media"><img src="${item.image.url}" alt="${item.image.alt}" loading="lazy" decoding="async"></div>`
      : ''
  }</article>`;
}
