// Tagged template for server-rendered pages: every interpolation is escaped
// unless it is explicitly marked as trusted markup.
import { escapeHtml } from '../domain/item.ts';

export class Markup {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Marks already-safe markup (sanitized item bodies, nested templates). */
export const trusted = (value: string) => new Markup(value);

type Part = string | number | Markup | undefined | null | false | readonly Part[];

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return '';
  if (part instanceof Markup) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Markup {
  let out = strings[0] ?? '';
  for (let i = 0; i < parts.length; i++) out += render(parts[i] as Part) + (strings[i + 1] ?? '');
  return new Markup(out);
}
