// The reader page: first paint lists the latest items (server-rendered), then
// the browser client keeps it live over the WebSocket.
import type { Item } from '../domain/item.ts';
import { html, type Markup, trusted } from './html.ts';

export interface ReaderPageOptions {
  siteTitle: string;
  topics: string[] | null;
  items: Item[];
  cursor: string;
}

export function itemCard(item: Item): Markup {
  const urgent = item.priority === 'flash' || item.priority === 'bulletin';
  return html`<article class="item priority-${item.priority}" id="item-${item.id}" data-id="${item.id}" data-version="${item.version}">
  <header>
    ${urgent ? html`<span class="badge">${item.priority.toUpperCase()}</span>` : ''}
    <h2><a href="${item.url ?? `/items/${encodeURIComponent(item.id)}`}">${item.headline}</a></h2>
    <p class="meta"><time datetime="${item.publishedAt}">${item.publishedAt}</time>${item.source ? html` · ${item.source}` : ''}${item.version > 1 ? html` · <span class="updated">updated${item.changeNote ? html`: ${item.changeNote}` : ''}</span>` : ''}</p>
  </header>
  ${item.summary ? html`<p class="summary">${item.summary}</p>` : ''}
</article>`;
}

export function readerPage(options: ReaderPageOptions): string {
  const topicKey = options.topics ? options.topics.join(',') : 'all';
  const feedTopic = options.topics?.length === 1 ? options.topics[0] : 'all';
  const title = options.topics ? `${options.siteTitle}: ${options.topics.join(', ')}` : options.siteTitle;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="alternate" type="application/rss+xml" title="${title} (RSS)" href="/feeds/${feedTopic}.rss">
<link rel="alternate" type="application/atom+xml" title="${title} (Atom)" href="/feeds/${feedTopic}.atom">
<link rel="alternate" type="application/feed+json" title="${title} (JSON Feed)" href="/feeds/${feedTopic}.json">
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<header class="masthead"><h1>${title}</h1><p id="status" class="status" role="status" data-state="connecting">connecting…</p></header>
<main id="items" aria-live="polite" data-topics="${topicKey}" data-cursor="${options.cursor}">
${options.items.map(itemCard)}
</main>
<script type="module" src="/assets/reader.js"></script>
</body>
</html>`.value;
}

export function itemPage(siteTitle: string, item: Item): string {
  return html`<!doctype html>
<html lang="${item.language ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${item.headline} · ${siteTitle}</title>
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<header class="masthead"><p><a href="/">${siteTitle}</a></p></header>
<main class="story">
  <h1>${item.headline}</h1>
  <p class="meta"><time datetime="${item.publishedAt}">${item.publishedAt}</time>${item.byline ? html` · ${item.byline}` : ''}${item.source ? html` · ${item.source}` : ''}</p>
  ${item.image ? html`<figure><img src="${item.image.url}" alt="${item.image.alt}"></figure>` : ''}
  ${item.body ? trusted(item.body) : item.summary ? html`<p>${item.summary}</p>` : ''}
</main>
</body>
</html>`.value;
}
