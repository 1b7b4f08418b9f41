// A story's update history on its page: each correction with its time and
// change note, newest first, then the first publication. Only what readers
// may see: no key names, no request ids.
import type { HistoryEntry } from '../store/store.ts';
import { html, type Markup } from './html.ts';
import { absoluteTime } from './time.ts';

export function storyHistory(versions: readonly HistoryEntry[]): Markup | '' {
  const updates = versions.filter((v) => v.event === 'updated');
  if (updates.length === 0) return '';
  const published = versions.find((v) => v.event === 'published');
  return html`<section class="story-history" aria-labelledby="story-history-title">
<h2 id="story-history-title">Updated ${updates.length === 1 ? 'once' : `${updates.length} times`}</h2>
<ol class="story-history-list">${[...updates].reverse().map(
    (v) =>
      html`<li><strong class="updated-mark">Updated</strong> <time datetime="${v.at}">${absoluteTime(v.at)}</time>${
        v.changeNote ? html` <span class="change-note">${v.changeNote}</span>` : ''
      }</li>`,
  )}${published ? html`<li><strong class="published-mark">Published</strong> <time datetime="${published.at}">${absoluteTime(published.at)}</time></li>` : ''}</ol>
</section>`;
}
