// What the ninjs tests share: the IPTC's ninjs 2.1 schema compiled by ajv,
// images as real bytes, and a client that speaks exactly as Superdesk's
// HTTP Push transmitter (superdesk/publish/transmitters/http_push.py) does.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

const schema = JSON.parse(readFileSync(new URL('../fixtures/ninjs-schema_2.1.json', import.meta.url), 'utf8'));

/** The schema's one outside reference ($ref of places[].geojson): we never write places, so any value is let through. */
const GEOJSON_PLACEHOLDER = { $id: 'https://geojson.org/schema/GeoJSON.json' };

const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);
ajv.addSchema(GEOJSON_PLACEHOLDER);
const validate = ajv.compile(schema);

/** Fails the test with ajv's own words when the document is not valid ninjs 2.1. */
export function expectValidNinjs(doc: unknown): void {
  const valid = validate(doc);
  expect(valid ? [] : validate.errors, JSON.stringify(doc)).toEqual([]);
}

export function isValidNinjs(doc: unknown): boolean {
  return validate(doc) === true;
}

/** A 1×1 PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
/** JPEG markers around filler: what a sniffer reads is the start. */
export const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]);

export function signature(secret: string, body: Uint8Array | string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/** Python's json.dumps: ", " and ": " separators, non-ASCII escaped: the bytes Superdesk signs. */
export function pythonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(pythonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, v]) => `${pyString(key)}: ${pythonDumps(v)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string') return pyString(value);
  return JSON.stringify(value);
}
const pyString = (value: string) => JSON.stringify(value).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * A multipart body as a browser (or Superdesk) encodes it, with its content
 * type; a file is a Blob, or a Blob and its file name.
 */
export async function multipart(fields: Record<string, string | Blob | [Blob, string]>): Promise<{ bytes: Buffer<ArrayBuffer>; type: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value)) form.append(name, value[0], value[1]);
    else form.append(name, value);
  }
  const encoded = new Request('http://localhost/', { method: 'POST', body: form });
  return { bytes: Buffer.from(await encoded.arrayBuffer()), type: encoded.headers.get('content-type') as string };
}

export interface PushLog {
  method: string;
  url: string;
  status: number;
  body: any;
}

/**
 * One publish by Superdesk's HTTP Push transmitter: for every rendition of
 * the item and of its associations, GET <assets_url>/<media_id> (200 or 404
 * expected); on 404 a signed multipart POST to <assets_url> with media_id and
 * media (201 expected); then the signed JSON POST of the item to
 * <resource_url>. Returns every exchange, in order.
 */
export async function superdeskTransmit(
  base: string,
  secret: string,
  item: Record<string, any>,
  files: Record<string, Buffer>,
): Promise<PushLog[]> {
  const assetsUrl = `${base}/api/v1/superdesk/assets`;
  const resourceUrl = `${base}/api/v1/superdesk/items`;
  const log: PushLog[] = [];
  const copy = JSON.parse(JSON.stringify(item));
  const renditions: Record<string, any> = { ...(copy.renditions ?? {}) };
  for (const assoc of Object.values<any>(copy.associations ?? {})) Object.assign(renditions, assoc?.renditions ?? {});
  for (const rendition of Object.values<any>(renditions)) {
    const check = await fetch(`${assetsUrl}/${rendition.media}`);
    log.push({ method: 'GET', url: `${assetsUrl}/${rendition.media}`, status: check.status, body: await check.json() });
    if (check.status !== 200 && check.status !== 404) throw new Error(`Error querying the assets service ${assetsUrl}`);
    if (check.status === 200) continue;
    const { bytes, type } = await multipart({
      media_id: rendition.media,
      media: [new Blob([new Uint8Array(files[rendition.media] as Buffer)], { type: rendition.mimetype }), rendition.media],
    });
    const upload = await fetch(assetsUrl, {
      method: 'POST',
      headers: { 'content-type': type, 'x-superdesk-signature': signature(secret, bytes) },
      body: bytes,
    });
    log.push({ method: 'POST', url: assetsUrl, status: upload.status, body: await upload.json() });
    if (upload.status !== 201) return log;
  }
  const data = pythonDumps(item);
  const push = await fetch(resourceUrl, {
    method: 'POST',
    headers: { 'Content-type': 'application/json', Accept: 'application/json', 'x-superdesk-signature': signature(secret, data) },
    body: data,
  });
  log.push({ method: 'POST', url: resourceUrl, status: push.status, body: await push.json() });
  return log;
}
