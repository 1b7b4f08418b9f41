// The newsroom console: publish, correct and withdraw items, and watch what
// readers see. Everything dynamic is done by /assets/newsroom.js; this is the
// static shell, so it holds no token and no data.
import { PRIORITIES, LIMITS } from '../domain/item.ts';
import { html, type Markup } from './html.ts';
import { connectionStatus, shell } from './layout.ts';

interface FieldSpec {
  name: string;
  label: string;
  hint?: string;
  kind?: 'text' | 'textarea' | 'url' | 'datetime-local';
  rows?: number;
  maxLength?: number;
  required?: boolean;
  placeholder?: string;
  inputmode?: string;
}

function field(spec: FieldSpec): Markup {
  const id = `f-${spec.name}`;
  const described = [spec.hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  const common = html`id="${id}" name="${spec.name}" aria-describedby="${described}"${spec.required ? html` aria-required="true"` : ''}${
    spec.maxLength ? html` maxlength="${spec.maxLength}"` : ''
  }${spec.placeholder ? html` placeholder="${spec.placeholder}"` : ''}`;
  const control =
    spec.kind === 'textarea'
      ? html`<textarea ${common} rows="${spec.rows ?? 3}"></textarea>`
      : html`<input ${common} type="${spec.kind ?? 'text'}"${spec.inputmode ? html` inputmode="${spec.inputmode}"` : ''} autocomplete="off" spellcheck="${spec.kind === 'url' || spec.name === 'id' || spec.name === 'topics' ? 'false' : 'true'}">`;
  return html`<div class="field field-${spec.name}" data-field="${spec.name}">
<label for="${id}">${spec.label}${spec.required ? html` <span class="required">required</span>` : ''}</label>
${spec.hint ? html`<p class="hint" id="${id}-hint">${spec.hint}</p>` : ''}
<p class="field-error" id="${id}-error" hidden></p>
${control}
</div>`;
}

const PRIORITY_HINTS: Record<(typeof PRIORITIES)[number], string> = {
  flash: 'Interrupts: banner, spoken alert, desktop alert',
  bulletin: 'Breaking: banner, spoken alert, desktop alert',
  urgent: 'Marked as urgent in the list',
  routine: 'Everything else',
};

function priorityField(): Markup {
  return html`<fieldset class="field field-priority" data-field="priority" aria-describedby="f-priority-error">
<legend>Priority</legend>
<p class="field-error" id="f-priority-error" hidden></p>
<div class="priority-options">${PRIORITIES.map(
    (priority) => html`<label class="priority-option priority-option-${priority}"><input type="radio" name="priority" value="${priority}"${
      priority === 'routine' ? ' checked' : ''
    }><span class="priority-name">${priority}</span><span class="priority-hint">${PRIORITY_HINTS[priority]}</span></label>`,
  )}</div>
</fieldset>`;
}

export function newsroomPage(siteTitle: string): string {
  return shell({
    siteTitle,
    title: `Newsroom · ${siteTitle}`,
    bodyClass: 'newsroom',
    robots: 'noindex, nofollow',
    scripts: ['newsroom.js'],
    stylesheets: ['site.css', 'newsroom.css'],
    footer: html`<p><a href="/">${siteTitle}</a> · <a href="/docs/api">API reference</a></p>`,
    tools: html`<span class="desk-name">Newsroom</span><div class="masthead-tools">${connectionStatus()}<p id="token-state" class="token-state" hidden><span>Token set for this tab</span> <button type="button" id="token-forget" class="button button-quiet">Forget token</button></p></div>`,
    body: html`<main id="main" class="console" tabindex="-1">
<h1 class="visually-hidden">Newsroom console</h1>
<section id="token-panel" class="panel token-panel" aria-labelledby="token-title">
<h2 id="token-title">Publisher token</h2>
<form id="token-form" class="token-form">
<p class="hint" id="token-hint">Writes are sent with this token as <code>Authorization: Bearer</code>. It stays in this browser tab only and is forgotten when the tab closes.</p>
<p class="field-error" id="token-error" hidden></p>
<div class="token-row"><label for="token" class="visually-hidden">Publisher token</label><input id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-hint token-error"><button type="submit" class="button button-primary">Use token</button></div>
</form>
</section>
<div class="console-grid">
<section class="panel editor" aria-labelledby="editor-title">
<form id="flash-form" class="flash-form" aria-labelledby="flash-title" novalidate>
<div class="flash-head"><h2 id="flash-title">Flash</h2><p class="shortcut-hint" id="flash-shortcut">Press <kbd>F</kbd> from anywhere (<kbd>Alt</kbd>+<kbd>Shift</kbd>+<kbd>F</kbd> while typing); <kbd>Enter</kbd> sends, after a confirmation</p></div>
<label for="flash-headline">Flash headline</label>
<p class="field-error" id="flash-error" hidden></p>
<textarea id="flash-headline" name="flash-headline" rows="2" maxlength="${LIMITS.headlineLength}" aria-keyshortcuts="F Alt+Shift+F" aria-describedby="flash-shortcut flash-error" spellcheck="true"></textarea>
<div class="flash-row"><label for="flash-topics">Topics</label><input id="flash-topics" name="flash-topics" type="text" autocomplete="off" spellcheck="false" aria-describedby="flash-topics-hint" placeholder="world"><button type="submit" class="button button-danger">Send flash…</button></div>
<p class="hint" id="flash-topics-hint">The desk’s topics for every flash, remembered on this device.</p>
<label class="checkbox shortcut-choice"><input type="checkbox" id="flash-single-key" checked> <kbd>F</kbd> alone opens this form (turn off if it gets in the way of your keyboard or speech software)</label>
</form>
<div class="panel-head"><h2 id="editor-title">New item</h2><span id="editor-mode" class="mode-tag" hidden></span></div>
<div id="error-summary" class="error-summary" role="alert" tabindex="-1" hidden><h3>The item was not saved</h3><ul id="error-list"></ul></div>
<form id="item-form" class="item-form" novalidate>
${field({ name: 'headline', label: 'Headline', required: true, kind: 'textarea', rows: 2, maxLength: LIMITS.headlineLength })}
${priorityField()}
${field({ name: 'topics', label: 'Topics', required: true, hint: 'Comma-separated slugs, e.g. world, politics', placeholder: 'world, politics' })}
${field({ name: 'summary', label: 'Summary', kind: 'textarea', rows: 3, maxLength: LIMITS.summaryLength })}
${field({ name: 'body', label: 'Body', kind: 'textarea', rows: 6, hint: 'Plain text (blank lines make paragraphs) or simple HTML; the server keeps only safe markup' })}
<div class="field-row">
${field({ name: 'source', label: 'Source', maxLength: LIMITS.shortTextLength })}
${field({ name: 'byline', label: 'Byline', maxLength: LIMITS.shortTextLength })}
</div>
${field({ name: 'url', label: 'Link to the original story', kind: 'url', placeholder: 'https://', inputmode: 'url' })}
<div class="field-row">
${field({ name: 'image-url', label: 'Image URL', kind: 'url', placeholder: 'https://', inputmode: 'url' })}
${field({ name: 'image-alt', label: 'Image description (alt text)' })}
</div>
<details class="more-fields" id="schedule-fields">
<summary>Embargo and expiry</summary>
<div class="field-row">
${field({ name: 'embargoUntil', label: 'Embargo until', kind: 'datetime-local', hint: 'Your local time. Held out of sight until then, then published by the server' })}
${field({ name: 'expiresAt', label: 'Expires', kind: 'datetime-local', hint: 'Your local time. Readers stop seeing it then' })}
</div>
</details>
<div class="field-row">
${field({ name: 'language', label: 'Language', hint: 'BCP 47 tag, e.g. en, pt-BR', placeholder: 'en' })}
</div>
${field({ name: 'id', label: 'Item id', hint: 'Your own id, or leave empty: one is made for you, so a retry never publishes twice', maxLength: LIMITS.idLength })}
<div id="change-note-field" hidden>
${field({ name: 'changeNote', label: 'Change note', kind: 'textarea', rows: 2, hint: 'Shown to readers next to the “Updated” mark', maxLength: LIMITS.changeNoteLength })}
<div class="field field-notify"><label class="checkbox"><input type="checkbox" id="f-notify" name="notify"> Alert readers again <span class="hint">(those who were alerted to this story with the page closed get the correction as a new alert)</span></label></div>
</div>
<div class="form-actions">
<button type="submit" id="submit" class="button button-primary">Publish</button>
<button type="button" id="cancel-correction" class="button" hidden>Cancel correction</button>
<button type="button" id="clear" class="button button-quiet">Clear form</button>
</div>
<p id="form-status" class="form-status" role="status" tabindex="-1"></p>
</form>
</section>
<div class="desk-column">
<section class="panel recent" aria-labelledby="recent-title">
<div class="panel-head"><h2 id="recent-title">Recent items</h2><button type="button" id="refresh" class="button button-quiet">Refresh</button></div>
<p id="recent-status" class="panel-note" role="status">Loading…</p>
<ol id="recent-list" class="recent-list"></ol>
</section>
<section class="panel readers" aria-labelledby="readers-title">
<div class="panel-head"><h2 id="readers-title">Readers now</h2><span id="readers-total" class="readers-total"></span></div>
<ul id="readers-list" class="readers-list"><li class="readers-none">Counted once the token is set.</li></ul>
</section>
<section class="panel kills" aria-labelledby="kills-title">
<div class="panel-head"><h2 id="kills-title">Killed</h2></div>
<p id="kill-status" class="panel-note" role="status"></p>
<ol id="kill-list" class="kill-list"></ol>
</section>
</div>
<section class="panel preview" aria-labelledby="preview-title">
<div class="panel-head"><h2 id="preview-title">What readers see</h2><a href="/" target="_blank" rel="noopener" class="panel-link">Open the reader page</a></div>
<div id="preview" class="stories preview-stories" aria-live="off"></div>
</section>
</div>
</main>
<dialog id="withdraw-dialog" class="dialog" aria-labelledby="withdraw-title">
<form id="withdraw-form" method="dialog" novalidate>
<h2 id="withdraw-title">Withdraw this item?</h2>
<p id="withdraw-headline" class="withdraw-headline"></p>
<p class="hint" id="withdraw-hint">It disappears from every open page and every feed at once. This cannot be undone.</p>
<p id="withdraw-error" class="form-error" role="alert" hidden></p>
<div class="field" data-field="reason" id="withdraw-reason-field">
<label for="withdraw-reason">Reason <span class="required">required</span></label>
<p class="field-error" id="withdraw-reason-error" hidden></p>
<textarea id="withdraw-reason" name="reason" rows="3" maxlength="${LIMITS.reasonLength}" aria-describedby="withdraw-reason-error"></textarea>
</div>
<div class="form-actions">
<button type="submit" id="withdraw-confirm" class="button button-danger">Withdraw item</button>
<button type="button" id="withdraw-cancel" class="button">Keep it</button>
</div>
</form>
</dialog>
<dialog id="flash-dialog" class="dialog dialog-flash" aria-labelledby="flash-confirm-title" aria-describedby="flash-confirm-reach">
<form method="dialog">
<h2 id="flash-confirm-title">Send this flash?</h2>
<p id="flash-confirm-headline" class="withdraw-headline"></p>
<p class="hint" id="flash-confirm-reach"></p>
<div class="form-actions">
<button type="submit" value="send" id="flash-confirm-send" class="button button-danger">Send flash</button>
<button type="submit" value="cancel" class="button">Cancel</button>
</div>
</form>
</dialog>`,
  });
}
