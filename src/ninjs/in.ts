// ninjs documents of every generation read into our item fields: 1.x
// (guid/uri, headline, body_html, description_text, subject, associations as
// an object), 2.x (headlines, bodies, descriptions, subjects, associations as
// an array) and 3.x (the same in camelCase: pubStatus, versionCreated,
// edNote, infoSources...). Unknown properties are ignored; what we read is
// checked, and every problem names its path in the document.
import sanitizeHtml from 'sanitize-html';
import type { FieldError } from '../api/errors.ts';
import { ID_PATTERN, LIMITS, type Priority, shortHash, TOPIC_PATTERN } from '../domain/item.ts';
import type { NinjsSettings } from './config.ts';

export type PubStatus = 'usable' | 'withheld' | 'canceled';

export interface ImageRef {
  /** Where the document says the picture is. */
  href?: string;
  /** The sender's media id (Superdesk), looked up among uploaded media first. */
  mediaId?: string;
  alt: string;
  /** Path of the rendition in the document, for errors. */
  path: string;
}

export interface NinjsIntake {
  uri: string;
  version: number;
  pubstatus: PubStatus;
  /** Editorial note: a correction's change note, a kill's reason. */
  note?: string;
  /** Our item input, without id and image (the image is resolved against uploaded media). */
  fields: Record<string, unknown>;
  image?: ImageRef;
  /** Our field name → where it came from in the document, so our errors point into it. */
  paths: Record<string, string>;
}

type Doc = Record<string, unknown>;

const isObject = (value: unknown): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Urgency (1 most urgent … 9) → our priority; the same table reads Superdesk's `priority` when there is no urgency. */
function priorityOfUrgency(urgency: number): Priority {
  if (urgency <= 1) return 'flash';
  if (urgency === 2) return 'bulletin';
  if (urgency === 3) return 'urgent';
  return 'routine';
}

/**
 * Our item id for a ninjs uri: the uri itself when it already is a valid id
 * of at most 128 characters, otherwise a readable slug of it plus 12
 * characters of its SHA-256, so that two uris never share an id.
 */
export function itemIdForUri(uri: string): string {
  if (uri.length <= LIMITS.idLength && ID_PATTERN.test(uri)) return uri;
  const hash = shortHash(uri).slice(0, 12);
  const slug = uri
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/[^A-Za-z0-9._:-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 100)
    .replace(/[^A-Za-z0-9]+$/, '');
  return slug ? `${slug}-${hash}` : `ninjs-${hash}`;
}

/** A topic slug from a subject's name, code or keyword; null when nothing usable is left. */
export function slugTopic(value: string): string | null {
  let slug = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length > LIMITS.topicLength) slug = slug.slice(0, LIMITS.topicLength).replace(/-[^-]*$/, '').replace(/-+$/, '');
  return slug && slug !== 'all' && TOPIC_PATTERN.test(slug) ? slug : null;
}

/** Reads a document; either what it says, or every problem found. */
export function readNinjs(doc: unknown, settings: Pick<NinjsSettings, 'topicMap' | 'fallbackTopic'>): NinjsIntake | { errors: FieldError[] } {
  if (!isObject(doc)) return { errors: [{ path: '(body)', message: 'must be a ninjs document (a JSON object)' }] };
  const errors: FieldError[] = [];
  const paths: Record<string, string> = {};
  const fields: Record<string, unknown> = {};

  /** The first of the names the document uses (lowercase for 1.x/2.x, camelCase for 3.x). */
  const named = (...names: string[]): [string, unknown] | undefined => {
    for (const name of names) if (doc[name] !== undefined && doc[name] !== null) return [name, doc[name]];
    return undefined;
  };
  const text = (...names: string[]): [string, string] | undefined => {
    const found = named(...names);
    if (!found) return undefined;
    if (typeof found[1] !== 'string') {
      errors.push({ path: found[0], message: 'must be a string' });
      return undefined;
    }
    return found as [string, string];
  };

  const uriField = text('uri', 'guid');
  let uri = '';
  if (!uriField || uriField[1].trim() === '') errors.push({ path: 'uri', message: 'is required: the identifier of the news object (1.x: guid)' });
  else if (uriField[1].length > LIMITS.urlLength) errors.push({ path: uriField[0], message: `must be at most ${LIMITS.urlLength} characters` });
  else uri = uriField[1].trim();

  let version = 1;
  const versionField = named('version');
  if (versionField) {
    const raw = versionField[1];
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d{1,15}\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1) errors.push({ path: 'version', message: 'must be a whole number from 1 (a string, e.g. "2", or a number)' });
    else version = value;
  }

  let pubstatus: PubStatus = 'usable';
  const status = text('pubstatus', 'pubStatus');
  if (status) {
    if (status[1] === 'usable' || status[1] === 'withheld' || status[1] === 'canceled') pubstatus = status[1];
    else errors.push({ path: status[0], message: 'must be usable, withheld or canceled' });
  }

  const note = text('ednote', 'edNote');

  // Headline: 1.x headline, 2.x/3.x headlines[] (role "main" first), then title.
  const headline = pickValue(doc, 'headlines', ['main'], errors) ?? text('headline') ?? text('title');
  if (headline) take(fields, paths, 'headline', headline);

  // Summary: 1.x description_text (or description_html as text), 2.x/3.x descriptions[].
  const summary = text('description_text') ?? htmlAsText(text('description_html')) ?? htmlAsText(pickValue(doc, 'descriptions', ['summary', 'description', 'abstract'], errors));
  if (summary) take(fields, paths, 'summary', summary);

  // Body: 1.x body_html or body_text, 2.x/3.x bodies[] (HTML preferred).
  const body = text('body_html') ?? pickValue(doc, 'bodies', ['main'], errors, /html/i) ?? text('body_text');
  if (body) take(fields, paths, 'body', body);

  const language = text('language');
  if (language) take(fields, paths, 'language', language);
  const byline = text('byline', 'by');
  if (byline) take(fields, paths, 'byline', byline);
  const source = text('copyrightholder', 'copyrightHolder') ?? firstName(doc, errors, 'infosources', 'infoSources') ?? text('source');
  if (source) take(fields, paths, 'source', source);

  const embargo = text('embargoed', 'embargoedUntil');
  if (embargo) take(fields, paths, 'embargoUntil', embargo);
  const expires = text('expires');
  if (expires) take(fields, paths, 'expiresAt', expires);

  const urgency = named('urgency') ?? named('priority');
  if (urgency) {
    // Some senders write numbers as strings ("3").
    const value = typeof urgency[1] === 'string' && /^\s*\d\s*$/.test(urgency[1]) ? Number(urgency[1]) : urgency[1];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 9) {
      errors.push({ path: urgency[0], message: 'must be a whole number from 1 (most urgent) to 9' });
    } else {
      fields.priority = priorityOfUrgency(value);
      paths.priority = urgency[0];
    }
  }

  fields.topics = readTopics(doc, settings, errors);
  paths.topics = doc.subjects !== undefined ? 'subjects' : 'subject';

  const image = readImage(doc, errors);

  if (errors.length) return { errors };
  const intake: NinjsIntake = { uri, version, pubstatus, fields, paths };
  if (note?.[1].trim()) intake.note = note[1].trim();
  if (image) intake.image = image;
  return intake;
}

function take(fields: Record<string, unknown>, paths: Record<string, string>, field: string, [path, value]: [string, string]): void {
  fields[field] = value;
  paths[field] = path;
}

const plainText = (html: string) => sanitizeHtml(html, { allowedTags: [], allowedAttributes: {} }).replace(/\s+/g, ' ').trim();

function htmlAsText(found: [string, string] | undefined): [string, string] | undefined {
  if (!found) return undefined;
  return /<[a-z!/]/i.test(found[1]) ? [found[0], plainText(found[1])] : found;
}

/**
 * The value of an array of {role?, contenttype?/contentType?, value} (2.x/3.x
 * headlines, bodies, descriptions): one with a preferred role, else one of a
 * preferred content type, else the first.
 */
function pickValue(doc: Doc, name: string, roles: string[], errors: FieldError[], preferType?: RegExp): [string, string] | undefined {
  const list = doc[name];
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) {
    errors.push({ path: name, message: 'must be an array of objects with a "value"' });
    return undefined;
  }
  let chosen = -1;
  let score = -1;
  list.forEach((entry, index) => {
    if (!isObject(entry) || typeof entry.value !== 'string') {
      errors.push({ path: `${name}.${index}.value`, message: 'must be a string' });
      return;
    }
    const type = String(entry.contenttype ?? entry.contentType ?? '');
    const points = (typeof entry.role === 'string' && roles.includes(entry.role.toLowerCase()) ? 2 : 0) + (preferType?.test(type) ? 1 : 0);
    if (points > score) {
      score = points;
      chosen = index;
    }
  });
  if (chosen < 0) return undefined;
  const entry = list[chosen] as Doc;
  return [`${name}.${chosen}.value`, entry.value as string];
}

function firstName(doc: Doc, errors: FieldError[], ...names: string[]): [string, string] | undefined {
  for (const name of names) {
    const list = doc[name];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      errors.push({ path: name, message: 'must be an array' });
      return undefined;
    }
    const index = list.findIndex((entry) => isObject(entry) && typeof entry.name === 'string' && entry.name.trim() !== '');
    if (index >= 0) return [`${name}.${index}.name`, (list[index] as Doc).name as string];
  }
  return undefined;
}

/**
 * Topics from 1.x `subject` [{code, name, scheme}], 2.x/3.x `subjects`
 * [{uri, literal, name}] and `keywords` [string]. Each subject is looked up
 * in NINJS_TOPIC_MAP by its uri, scheme:code, code, literal and name, in
 * that order; one not in the map becomes the slug of its name (or literal,
 * code, or the last part of its uri). At most 12, deduplicated; none at all
 * gives the fallback topic.
 */
function readTopics(doc: Doc, settings: Pick<NinjsSettings, 'topicMap' | 'fallbackTopic'>, errors: FieldError[]): string[] {
  const topics = new Set<string>();
  const { topicMap } = settings;
  for (const name of ['subject', 'subjects']) {
    const list = doc[name];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      errors.push({ path: name, message: 'must be an array of subjects' });
      continue;
    }
    list.forEach((subject, index) => {
      if (!isObject(subject)) {
        errors.push({ path: `${name}.${index}`, message: 'must be an object' });
        return;
      }
      const str = (key: string) => (typeof subject[key] === 'string' && (subject[key] as string).trim() ? (subject[key] as string).trim() : undefined);
      const code = str('code') ?? str('qcode');
      const scheme = str('scheme');
      const keys = [str('uri'), scheme && code ? `${scheme}:${code}` : undefined, code, str('literal'), str('name')].filter((key) => key !== undefined);
      const mapped = keys.find((key) => topicMap.has(key));
      if (mapped !== undefined) {
        const topic = topicMap.get(mapped);
        if (topic) topics.add(topic);
        return;
      }
      const uriTail = str('uri')?.split(/[/#:]/).filter(Boolean).pop();
      const slug = [str('name'), str('literal'), code, uriTail].map((value) => (value ? slugTopic(value) : null)).find(Boolean);
      if (slug) topics.add(slug);
    });
  }
  const keywords = doc.keywords;
  if (Array.isArray(keywords)) {
    for (const keyword of keywords) {
      if (typeof keyword !== 'string') continue;
      const mapped = topicMap.get(keyword);
      const topic = mapped !== undefined ? mapped : slugTopic(keyword);
      if (topic) topics.add(topic);
    }
  }
  const list = [...topics].slice(0, LIMITS.topicsPerItem);
  return list.length ? list : [settings.fallbackTopic];
}

const RENDITION_PREFERENCE = ['original', 'baseimage', 'viewimage', 'hires', 'preview', 'thumbnail'];

/**
 * The feature picture: 1.x associations is an object (Superdesk's
 * "featuremedia" first), 2.x/3.x an array of ninjs objects; renditions are an
 * object of named renditions (1.x) or an array with names (2.x/3.x).
 */
function readImage(doc: Doc, errors: FieldError[]): ImageRef | undefined {
  const associations = doc.associations;
  let candidates: [string, Doc][];
  // A picture pushed on its own (Superdesk sends pictures as items too) is its own image.
  if ((doc.type === 'picture' || doc.type === 'graphic') && doc.renditions) {
    candidates = [['', doc]];
  } else if (associations === undefined || associations === null) {
    return undefined;
  } else if (Array.isArray(associations)) {
    candidates = associations.flatMap((assoc, index) => (isObject(assoc) ? [[`associations.${index}`, assoc] as [string, Doc]] : []));
  } else if (isObject(associations)) {
    candidates = Object.entries(associations)
      .filter((entry): entry is [string, Doc] => isObject(entry[1]))
      .sort(([a], [b]) => Number(b === 'featuremedia') - Number(a === 'featuremedia'))
      .map(([key, assoc]) => [`associations.${key}`, assoc]);
  } else {
    errors.push({ path: 'associations', message: 'must be an array (2.x, 3.x) or an object (1.x)' });
    return undefined;
  }
  const picture = candidates.find(([, assoc]) => assoc.type === 'picture' || assoc.type === 'graphic') ?? candidates.find(([, assoc]) => assoc.renditions);
  if (!picture) return undefined;
  const [assocPath, assoc] = picture;
  const at = assocPath ? `${assocPath}.` : '';
  const renditions = assoc.renditions;
  let named: [string, Doc][] = [];
  if (Array.isArray(renditions)) {
    named = renditions.flatMap((r, index) => (isObject(r) ? [[`${at}renditions.${index}`, r] as [string, Doc]] : []));
  } else if (isObject(renditions)) {
    named = Object.entries(renditions)
      .filter((entry): entry is [string, Doc] => isObject(entry[1]))
      .map(([key, r]) => [`${at}renditions.${key}`, { name: key, ...r }]);
  }
  const rank = (r: Doc) => {
    const index = RENDITION_PREFERENCE.indexOf(String(r.name ?? '').toLowerCase());
    return index < 0 ? RENDITION_PREFERENCE.length : index;
  };
  named.sort(([, a], [, b]) => rank(a) - rank(b));
  const chosen = named.find(([, r]) => typeof r.href === 'string' || typeof r.media === 'string');
  const altSource =
    [assoc.description_text, assoc.alt_text, assoc.headline, assoc.title, assoc.body_text].find((v) => typeof v === 'string' && v.trim()) ??
    (Array.isArray(assoc.descriptions) && isObject(assoc.descriptions[0]) ? assoc.descriptions[0].value : undefined) ??
    (Array.isArray(assoc.headlines) && isObject(assoc.headlines[0]) ? assoc.headlines[0].value : undefined);
  const alt = typeof altSource === 'string' ? plainText(altSource).slice(0, LIMITS.shortTextLength * 2) : '';
  if (!chosen) {
    if (assocPath && typeof assoc.uri === 'string' && /^https?:/i.test(assoc.uri)) return { href: assoc.uri, alt, path: `${at}uri` };
    return undefined;
  }
  const [path, rendition] = chosen;
  const image: ImageRef = { alt, path: typeof rendition.href === 'string' ? `${path}.href` : `${path}.media` };
  if (typeof rendition.href === 'string') image.href = rendition.href;
  if (typeof rendition.media === 'string') image.mediaId = rendition.media;
  return image;
}
