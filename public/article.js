// The story page's article: the same markup the server renders
// (itemPage in src/pages/reader.ts), built in the browser when a correction
// arrives, and the withdrawal notice that replaces it after a kill.
import { bylineText, el, exactTimeElement, sourceText, storyKicker, updateLine } from './render.js';

/** Replaces the article's content with the item's (a whole item, with its body). */
export function renderArticle(article, item) {
  article.lang = item.language ?? 'en';
  const parts = [storyKicker(item), el('h1', 'article-headline', item.headline)];
  if (item.summary) parts.push(el('p', 'article-standfirst', item.summary));
  const meta = el('p', 'article-meta');
  if (item.byline) meta.append(el('span', 'byline', bylineText(item.byline)));
  if (item.source) meta.append(el('span', 'source', sourceText(item.source)));
  const published = el('span', undefined, 'Published ');
  published.append(exactTimeElement(item.publishedAt));
  meta.append(published);
  parts.push(meta);
  if (item.version > 1) parts.push(updateLine(item, exactTimeElement(item.updatedAt)));
  if (item.image?.url) {
    const figure = el('figure', 'article-figure story-media');
    const img = el('img');
    img.src = item.image.url;
    img.alt = item.image.alt ?? '';
    // The description is the image's alt text, for those who cannot see it: no caption repeats it.
    figure.append(img);
    parts.push(figure);
  }
  const body = el('div', 'article-body');
  // The body is HTML the server reduced to an allowlist when it was
  // written (sanitize-html, no scripts, no handlers); the page's CSP allows
  // no inline script either.
  if (item.body) body.innerHTML = item.body;
  parts.push(body);
  if (item.url) {
    const source = el('p', 'article-source-link');
    const link = el('a', undefined, 'Read the original story');
    link.href = item.url;
    link.rel = 'noopener noreferrer';
    source.append(link);
    parts.push(source);
  }
  article.replaceChildren(...parts);
}

/** A kill: headline, summary, body and image leave the page; only the notice stays. */
export function withdrawArticle(article, reason) {
  const heading = el('h1', 'article-headline', 'This story was withdrawn');
  const parts = [heading];
  if (reason) parts.push(el('p', 'withdrawn-reason', reason));
  article.removeAttribute('lang');
  article.replaceChildren(...parts);
}
