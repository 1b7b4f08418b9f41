// Items as IPTC ninjs 2.1 documents (https://iptc.org/std/ninjs/). The
// output validates against the IPTC's JSON Schema for 2.1: the 1.x names
// (headline, body_html, description_text, subject) are not part of 2.x,
// whose arrays (headlines, bodies, descriptions, subjects) carry them.
import type { Item, Priority, RetractedItem, ScheduledItem } from '../domain/item.ts';
import type { StoredItem } from '../store/store.ts';
import { typeOfName } from '../media/sniff.ts';

export const NINJS_CONTENT_TYPE = 'application/ninjs+json; charset=utf-8';
const NINJS_VERSION = '2.1';
const STANDARD = { name: 'ninjs', version: NINJS_VERSION, schema: 'http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json' };

/** Our priorities as ninjs urgency (1 most urgent, 9 least). */
const URGENCY_OF: Record<Priority, number> = { flash: 1, bulletin: 2, urgent: 3, routine: 5 };

export type NinjsDocument = Record<string, unknown>;

/** The ninjs uri of an item: its stable address under PUBLIC_URL. */
function ninjsUri(base: string, id: string): string {
  return `${base}/items/${encodeURIComponent(id)}`;
}

/** Whether a request asked for ninjs: `Accept: application/ninjs+json` or `?format=ninjs`. */
export function wantsNinjs(accept: string | undefined, format: string | undefined): boolean {
  return format === 'ninjs' || (accept !== undefined && /\bapplication\/ninjs\+json\b/i.test(accept));
}

const subjects = (base: string, topics: readonly string[]) =>
  topics.map((topic) => ({ name: topic, literal: topic, uri: `${base}/?topics=${topic}` }));

function common(base: string, item: { id: string; topics: string[]; updatedAt: string }) {
  return {
    uri: ninjsUri(base, item.id),
    standard: STANDARD,
    type: 'text',
    altids: [{ role: 'newswire-id', value: item.id }],
    subjects: subjects(base, item.topics),
    versioncreated: item.updatedAt,
  };
}

/** A published, held or retracted item as ninjs 2.1. */
export function toNinjs(item: StoredItem, base: string): NinjsDocument {
  if (item.status === 'retracted') return retracted(item, base);
  return content(item, base);
}

function content(item: Item | ScheduledItem, base: string): NinjsDocument {
  const doc: NinjsDocument = {
    ...common(base, item),
    representationtype: 'full',
    pubstatus: item.status === 'published' ? 'usable' : 'withheld',
    urgency: URGENCY_OF[item.priority],
    headlines: [{ role: 'main', value: item.headline }],
  };
  if (item.status === 'published') {
    doc.version = String(item.version);
    doc.firstcreated = item.publishedAt;
  }
  if (item.embargoUntil) doc.embargoed = item.embargoUntil;
  if (item.expiresAt) doc.expires = item.expiresAt;
  if (item.language) doc.language = item.language;
  if (item.summary) doc.descriptions = [{ role: 'summary', contenttype: 'text/plain', value: item.summary }];
  if (item.body) doc.bodies = [{ role: 'main', contenttype: 'text/html', value: item.body }];
  if (item.byline) doc.by = item.byline;
  if (item.source) {
    doc.copyrightholder = item.source;
    doc.infosources = [{ name: item.source, role: 'source' }];
  }
  if (item.status === 'published' && item.changeNote) doc.ednote = item.changeNote;
  if (item.url) (doc.altids as unknown[]).push({ role: 'url', value: item.url });
  if (item.image) {
    const { url, alt } = item.image;
    const rendition: Record<string, unknown> = { name: 'original', href: url };
    const type = typeOfName(new URL(url).pathname);
    if (type) rendition.contenttype = type;
    doc.associations = [
      {
        name: 'featureimage',
        uri: url,
        type: 'picture',
        descriptions: [{ role: 'alt', contenttype: 'text/plain', value: alt }],
        renditions: [rendition],
      },
    ];
  }
  return doc;
}

/** A kill: pubstatus canceled, the reason as the editorial note, no content. */
function retracted(item: RetractedItem, base: string): NinjsDocument {
  return {
    ...common(base, item),
    representationtype: 'partial',
    version: String(item.version),
    firstcreated: item.publishedAt,
    pubstatus: 'canceled',
    ednote: item.reason,
  };
}
