// The page shell every page shares: head, masthead, footer. Scripts and styles
// come from /assets only: the Content-Security-Policy allows nothing inline.
import { html, type Markup } from './html.ts';

export interface FeedLink {
  title: string;
  topic: string;
}

export interface ShellOptions {
  siteTitle: string;
  title: string;
  lang?: string;
  description?: string;
  bodyClass: string;
  /** Module scripts under /assets/. */
  scripts?: string[];
  stylesheets?: string[];
  feeds?: FeedLink[];
  /** Extra markup for the masthead's right-hand side. */
  tools?: Markup;
  /** Rendered below the masthead bar (section links). */
  nav?: Markup;
  robots?: string;
  /** Extra head markup: canonical link, structured data, link-preview tags. */
  head?: Markup;
  /** A line under the name, e.g. the date. */
  dateline?: string;
  body: Markup;
  footer?: Markup;
}

export function shell(options: ShellOptions): string {
  return html`<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
${options.description ? html`<meta name="description" content="${options.description}">` : ''}
${options.robots ? html`<meta name="robots" content="${options.robots}">` : ''}
${options.head ?? ''}<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#ffffff">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${(options.feeds ?? []).map(
  (feed) => html`<link rel="alternate" type="application/rss+xml" title="${feed.title} (RSS)" href="/feeds/${feed.topic}.rss">
<link rel="alternate" type="application/atom+xml" title="${feed.title} (Atom)" href="/feeds/${feed.topic}.atom">
<link rel="alternate" type="application/feed+json" title="${feed.title} (JSON Feed)" href="/feeds/${feed.topic}.json">
`,
)}${(options.stylesheets ?? ['site.css']).map((sheet) => html`<link rel="stylesheet" href="/assets/${sheet}">
`)}${(options.scripts ?? []).map((script) => html`<script type="module" src="/assets/${script}"></script>
`)}</head>
<body class="${options.bodyClass}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="masthead">
<div class="masthead-bar">
<div class="brand-block"><a class="brand" href="/">${options.siteTitle}</a>${options.dateline ? html`<p class="dateline">${options.dateline}</p>` : ''}</div>
${options.tools ?? ''}
</div>
${options.nav ?? ''}
</header>
${options.body}
<footer class="site-footer">${options.footer ?? html`<p><a href="/">${options.siteTitle}</a></p>`}</footer>
</body>
</html>`.value;
}

/** The connection indicator: the client module updates it; it starts as "connecting". */
export function connectionStatus(): Markup {
  return html`<p id="connection" class="connection" role="status" data-state="connecting"><span class="connection-dot" aria-hidden="true"></span><span class="connection-text">Connecting…</span></p>`;
}

export function notFoundPage(siteTitle: string): string {
  return shell({
    siteTitle,
    title: `Not found · ${siteTitle}`,
    bodyClass: 'page-message',
    robots: 'noindex',
    body: html`<main id="main" class="message"><h1>Story not found</h1><p>There is no story at this address. It may have expired.</p><p><a href="/">Back to the latest news</a></p></main>`,
  });
}

export function withdrawnPage(siteTitle: string, reason: string | undefined): string {
  return shell({
    siteTitle,
    title: `Withdrawn · ${siteTitle}`,
    bodyClass: 'page-message',
    robots: 'noindex',
    body: html`<main id="main" class="message"><h1>This story was withdrawn</h1>${
      reason ? html`<p class="withdrawn-reason">${reason}</p>` : ''
    }<p><a href="/">Back to the latest news</a></p></main>`,
  });
}

export function badRequestPage(siteTitle: string, problem: string): string {
  return shell({
    siteTitle,
    title: `Page not available · ${siteTitle}`,
    bodyClass: 'page-message',
    robots: 'noindex',
    body: html`<main id="main" class="message"><h1>This page cannot be shown</h1><p class="request-problem">${problem}</p><p><a href="/">Back to the latest news</a></p></main>`,
  });
}
