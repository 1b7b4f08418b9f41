// What search engines and link previews read in a page's head: the canonical
// URL, schema.org NewsArticle JSON-LD, Open Graph and Twitter card tags.
// Built from the same item the page shows, once per render of the page.
import type { Item } from '../domain/item.ts';
import { itemHref, topicName } from '../pages/cards.ts';
import { html, type Markup, trusted } from '../pages/html.ts';

/** The site's own mark: the favicon is the only logo a deployment is sure to have. */
export const LOGO_PATH = '/assets/favicon.svg';

export interface SiteInfo {
  siteTitle: string;
  /** PUBLIC_URL (or the settled origin), without a trailing slash. */
  baseUrl: string;
}

export function storyUrl(baseUrl: string, id: string): string {
  return `${baseUrl}${itemHref({ id })}`;
}

/**
 * JSON for a <script type="application/ld+json"> block. An HTML parser ends
 * the block at the first "</script" whatever JSON thinks of it, so "<", ">"
 * and "&" are written as \u escapes (still the same JSON), and U+2028/U+2029
 * too, for consumers that read it as JavaScript.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** "By Jane Doe" names Jane Doe. */
function authorName(byline: string): string {
  return byline.replace(/^by\s+/i, '').trim() || byline;
}

export function publisher(site: SiteInfo): Record<string, unknown> {
  return {
    '@type': 'Organization',
    name: site.siteTitle,
    url: `${site.baseUrl}/`,
    logo: { '@type': 'ImageObject', url: `${site.baseUrl}${LOGO_PATH}` },
  };
}

/** schema.org NewsArticle of a live story (Google's Article rich result properties and more). */
export function newsArticle(item: Item, site: SiteInfo): Record<string, unknown> {
  const url = storyUrl(site.baseUrl, item.id);
  const article: Record<string, unknown> = {
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    '@id': `${url}#article`,
    headline: item.headline,
    url,
    mainEntityOfPage: { '@type': 'WebPage', '@id': url },
    datePublished: item.publishedAt,
    dateModified: item.updatedAt,
    author: item.byline
      ? [{ '@type': 'Person', name: authorName(item.byline) }]
      : [{ '@type': 'Organization', name: item.source ?? site.siteTitle, ...(item.source ? {} : { url: `${site.baseUrl}/` }) }],
    publisher: publisher(site),
    isAccessibleForFree: true,
    inLanguage: item.language ?? 'en',
    articleSection: item.topics.map(topicName),
  };
  if (item.summary) article.description = item.summary;
  if (item.image) article.image = [item.image.url];
  if (item.source && item.byline) article.sourceOrganization = { '@type': 'Organization', name: item.source };
  if (item.url) article.isBasedOn = item.url;
  return article;
}

/** Open Graph wants a locale like en_GB; a bare language is fine for it too. */
function ogLocale(language: string): string {
  return language.replace('-', '_');
}

/** Canonical, JSON-LD, Open Graph and Twitter tags of a story page. */
export function storyHead(item: Item, site: SiteInfo): Markup {
  const url = storyUrl(site.baseUrl, item.id);
  const description = item.summary ?? item.headline;
  return html`<link rel="canonical" href="${url}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="${site.siteTitle}">
<meta property="og:title" content="${item.headline}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${url}">
<meta property="og:locale" content="${ogLocale(item.language ?? 'en')}">
${item.image ? html`<meta property="og:image" content="${item.image.url}">
<meta property="og:image:alt" content="${item.image.alt}">` : html`<meta property="og:image" content="${site.baseUrl}${LOGO_PATH}">`}
<meta property="article:published_time" content="${item.publishedAt}">
<meta property="article:modified_time" content="${item.updatedAt}">
${item.topics.map((topic) => html`<meta property="article:tag" content="${topicName(topic)}">
`)}${item.byline ? html`<meta property="article:author" content="${authorName(item.byline)}">
` : ''}<meta name="twitter:card" content="${item.image ? 'summary_large_image' : 'summary'}">
<meta name="twitter:title" content="${item.headline}">
<meta name="twitter:description" content="${description}">
${item.image ? html`<meta name="twitter:image" content="${item.image.url}">
<meta name="twitter:image:alt" content="${item.image.alt}">
` : ''}<script type="application/ld+json">${trusted(scriptSafeJson(newsArticle(item, site)))}</script>
`;
}

/** Canonical and Open Graph basics of the front page and topic pages. */
export function listingHead(site: SiteInfo, topics: string[] | null, title: string, description: string): Markup {
  const url = topics ? `${site.baseUrl}/?topics=${topics.map(encodeURIComponent).join(',')}` : `${site.baseUrl}/`;
  return html`<link rel="canonical" href="${url}">
<meta property="og:type" content="website">
<meta property="og:site_name" content="${site.siteTitle}">
<meta property="og:title" content="${title}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${url}">
<meta property="og:image" content="${site.baseUrl}${LOGO_PATH}">
<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="${title}">
<meta name="twitter:description" content="${description}">
`;
}
