// The reader page: first paint lists the latest items (server-rendered), then
// /assets/reader.js keeps it live over the WebSocket from the page's cursor.
import type { Item } from '../domain/item.ts';
import { bylineText, sourceText } from '../shared/credit.js';
import type { HistoryEntry } from '../store/store.ts';
import { isAlert, itemHref, priorityLabel, storyCard, timeTag, topicHref, topicName } from './cards.ts';
import { storyHistory } from './history.ts';
import { html, type Markup, trusted } from './html.ts';
import { listingHead, type SiteInfo, storyHead } from '../seo/structured-data.ts';
import { connectionStatus, type FeedLink, shell } from './layout.ts';
import { absoluteTime } from './time.ts';

export interface ReaderPageOptions {
  siteTitle: string;
  topics: string[] | null;
  items: Item[];
  /** The latest items of every topic, for the section links (a topic page's own items name only its topics). */
  sectionItems?: Item[];
  cursor: string;
  now?: number;
  /** The public base for the canonical link and link previews. */
  baseUrl: string;
}

/** A breaking banner on first paint when an alert is this fresh. */
const BANNER_MAX_AGE_MS = 60 * 60_000;
const SECTION_LINKS = 8;
/** Places kept for the newest topics: one that has just appeared has too few stories to rank. */
const NEWEST_LINKS = 2;

/** The topics most present in the latest items, then the newest ones, for the section links. */
function sections(items: Item[], current: string[] | null): string[] {
  const counts = new Map<string, number>();
  const newest: string[] = [];
  for (const item of items) {
    for (const topic of item.topics) {
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
      if (newest.length < NEWEST_LINKS && !newest.includes(topic)) newest.push(topic);
    }
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t);
  const picked = new Set([...(current ?? []), ...ranked.slice(0, SECTION_LINKS - NEWEST_LINKS), ...newest, ...ranked]);
  return [...picked].slice(0, Math.max(SECTION_LINKS, current?.length ?? 0));
}

function sectionNav(items: Item[], current: string[] | null): Markup {
  const only = current?.length === 1 ? current[0] : undefined;
  return html`<nav class="sections" aria-label="Sections"><ul><li><a href="/"${current ? '' : html` aria-current="page"`}>All news</a></li>${sections(items, current).map(
    (topic) => html`<li><a href="${topicHref(topic)}" data-topic="${topic}"${topic === only ? html` aria-current="page"` : ''}>${topicName(topic)}</a></li>`,
  )}</ul></nav>`;
}

function banner(items: Item[], now: number): Markup {
  const alert = items.find((item) => isAlert(item) && now - Date.parse(item.publishedAt) < BANNER_MAX_AGE_MS);
  return html`<aside id="breaking" class="breaking${alert ? html` breaking-${alert.priority}` : ''}" aria-label="Breaking news"${alert ? html` data-id="${alert.id}"` : ' hidden'}><div class="breaking-inner"><span class="breaking-label">${alert ? (alert.priority === 'flash' ? 'Flash' : 'Bulletin') : 'Breaking'}</span><a class="breaking-headline" href="${alert ? itemHref(alert) : '/'}">${alert?.headline ?? ''}</a>${
    alert ? timeTag(alert.publishedAt, now, 'rel breaking-time') : html`<time class="rel breaking-time"></time>`
  }<button type="button" class="breaking-close"><span aria-hidden="true">×</span><span class="visually-hidden">Dismiss the breaking news banner</span></button></div></aside>`;
}

function feedLinks(topics: string[] | null, siteTitle: string): FeedLink[] {
  if (!topics) return [{ title: siteTitle, topic: 'all' }];
  return topics.map((topic) => ({ title: `${siteTitle}: ${topicName(topic)}`, topic }));
}

const PUSH_LEVELS: [string, string][] = [
  ['flash', 'Flash only'],
  ['bulletin', 'Flash and bulletins'],
  ['urgent', 'Also urgent stories'],
  ['routine', 'Every story'],
];

/** The choices of alerts with the page closed (public/push.js keeps it working). */
function pushDialog(topics: string[] | null): Markup {
  return html`<dialog id="push-dialog" class="dialog" aria-labelledby="push-title">
<form method="dialog">
<h2 id="push-title">Alerts when this page is closed</h2>
<fieldset><legend>Which stories may interrupt you</legend>${PUSH_LEVELS.map(
    ([value, label]) => html`<label class="choice"><input type="radio" name="minPriority" value="${value}"${value === 'bulletin' ? ' checked' : ''}> ${label}</label>`,
  )}</fieldset>
${
  topics
    ? html`<fieldset><legend>About</legend><label class="choice"><input type="radio" name="scope" value="page" checked> ${topics.map(topicName).join(', ')}</label><label class="choice"><input type="radio" name="scope" value="all"> Every topic</label></fieldset>`
    : ''
}
<p role="status" class="push-status"></p>
<div class="form-actions"><button type="submit" class="button button-primary">Turn alerts on</button><button type="button" class="button" data-action="off" hidden>Turn alerts off</button><button type="button" class="button button-quiet" data-action="close">Close</button></div>
</form>
</dialog>`;
}

export function readerPage(options: ReaderPageOptions): string {
  const { siteTitle, topics, items } = options;
  const now = options.now ?? Date.now();
  const named = topics ? topics.map(topicName).join(', ') : 'Latest news';
  const heading = named.charAt(0).toUpperCase() + named.slice(1);
  const feeds = feedLinks(topics, siteTitle);
  const title = topics ? `${heading} · ${siteTitle}` : `${siteTitle}: latest news`;
  const description = `Breaking news as it happens${topics ? `: ${heading}` : ''}.`;
  return shell({
    siteTitle,
    title,
    description,
    head: listingHead({ siteTitle, baseUrl: options.baseUrl }, topics, title, description),
    bodyClass: 'reader',
    dateline: new Date(now).toLocaleDateString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }),
    scripts: ['reader.js'],
    feeds,
    tools: html`<div class="masthead-tools">${connectionStatus()}<button type="button" id="alerts-toggle" class="button button-quiet" aria-pressed="false" hidden>Desktop alerts</button><button type="button" id="push-toggle" class="button button-quiet" aria-pressed="false" aria-haspopup="dialog" hidden>Alerts</button></div>`,
    nav: sectionNav(options.sectionItems ?? items, topics),
    body: html`${banner(items, now)}
<main id="main" class="latest" tabindex="-1">
<div class="latest-head"><h1>${heading}</h1><p class="latest-note">New stories appear here as they are published.</p></div>
<p id="stale" class="stale-note" hidden>The live connection was lost. Reconnecting: anything published meanwhile will appear here as soon as it is back.</p>
<button type="button" id="new-stories" class="new-stories" hidden>New stories</button>
<div id="stories" class="stories" data-topics="${topics ? topics.join(',') : 'all'}" data-cursor="${options.cursor}">${items.map((item) => storyCard(item, now))}</div>
<p id="empty" class="empty"${items.length ? ' hidden' : ''}>No stories yet. This page updates by itself: keep it open.</p>
</main>
${pushDialog(topics)}
<div id="announce-polite" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<div id="announce-assertive" class="visually-hidden" aria-live="assertive" aria-atomic="true"></div>`,
    footer: html`<p>Follow ${topics ? heading : 'every story'} in a feed reader: ${feeds.map(
      (feed, index) =>
        // Each topic is named only when there are several to tell apart.
        html`${index ? ' · ' : ''}${feeds.length > 1 ? html`${topicName(feed.topic)}: ` : ''}<a href="/feeds/${feed.topic}.rss">RSS</a>, <a href="/feeds/${feed.topic}.atom">Atom</a>, <a href="/feeds/${feed.topic}.json">JSON Feed</a>`,
    )}</p>`,
  });
}

/** `history`: the item's versions (public part), shown as its update history. */
export function itemPage(site: SiteInfo, item: Item, history: readonly HistoryEntry[] = []): string {
  const { siteTitle } = site;
  const lang = item.language ?? 'en';
  return shell({
    siteTitle,
    title: `${item.headline} · ${siteTitle}`,
    description: item.summary,
    head: storyHead(item, site),
    lang: 'en',
    bodyClass: 'article-page',
    scripts: ['item.js'],
    feeds: item.topics.map((topic) => ({ title: `${siteTitle}: ${topicName(topic)}`, topic })),
    tools: html`<div class="masthead-tools">${connectionStatus()}</div>`,
    body: html`<main id="main" class="article priority-${item.priority}" data-id="${item.id}" data-version="${item.version}">
<p id="article-notice" class="article-notice" hidden></p>
<article lang="${lang}">
<p class="story-kicker">${priorityLabel(item)}${item.topics.map((topic) => html`<a class="topic" href="${topicHref(topic)}">${topicName(topic)}</a>`)}</p>
<h1 class="article-headline">${item.headline}</h1>
${item.summary ? html`<p class="article-standfirst">${item.summary}</p>` : ''}
<p class="article-meta">${item.byline ? html`<span class="byline">${bylineText(item.byline)}</span>` : ''}${item.source ? html`<span class="source">${sourceText(item.source)}</span>` : ''}<span>Published <time datetime="${item.publishedAt}">${absoluteTime(item.publishedAt)}</time></span></p>
${
  item.version > 1
    ? html`<p class="story-update"><strong class="updated-mark">Updated</strong> <time datetime="${item.updatedAt}">${absoluteTime(item.updatedAt)}</time>${
        item.changeNote ? html`<span class="change-note">${item.changeNote}</span>` : ''
      }</p>`
    : ''
}
${item.image ? html`<figure class="article-figure story-media"><img src="${item.image.url}" alt="${item.image.alt}"></figure>` : ''}
<div class="article-body">${item.body ? trusted(item.body) : ''}</div>
${item.url ? html`<p class="article-source-link"><a href="${item.url}" rel="noopener noreferrer">Read the original story</a></p>` : ''}
</article>
${storyHistory(history)}
<p class="article-back"><a href="/">← Latest news</a></p>
</main>
<div id="announce-polite" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<div id="announce-assertive" class="visually-hidden" aria-live="assertive" aria-atomic="true"></div>`,
  });
}
