// Content codings for documents made once and sent many times (feeds,
// pages, /assets files): each is compressed once when it is made, and every
// request picks the variant it accepts. Measured on 40–260 KB feeds, gzip
// level 6 and brotli quality 5 each take 0.3–6 ms per render; brotli 11
// takes 35–110 ms for 10 % fewer bytes, and gzip 9 saves nothing over 6.
import { promisify } from 'node:util';
import type { Context } from 'hono';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { Memo } from './memo.ts';

export type Coding = 'br' | 'gzip' | 'identity';

/** Among codings a request accepts equally, the smallest first. */
const PREFERENCE: readonly Coding[] = ['br', 'gzip', 'identity'];
/** Identity that is not named is acceptable, but any named coding is preferred to it. */
const UNNAMED_IDENTITY_WEIGHT = 0.0001;
const IDENTITY_ONLY: readonly Coding[] = ['identity'];

export const GZIP_LEVEL = 6;
export const BROTLI_QUALITY = 5;

export interface Compressed {
  identity: Buffer;
  /** Absent when compressing would not make it smaller. */
  gzip?: Buffer;
  br?: Buffer;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** The document and its compressed variants, made off the event loop. */
export async function compressOnce(identity: Buffer): Promise<Compressed> {
  const [gzipped, brotli] = await Promise.all([
    gzipAsync(identity, { level: GZIP_LEVEL }),
    brotliAsync(identity, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
  ]);
  const compressed: Compressed = { identity };
  if (gzipped.length < identity.length) compressed.gzip = gzipped;
  if (brotli.length < identity.length) compressed.br = brotli;
  return compressed;
}

const ranked = new Memo<readonly Coding[]>(1_000, rankCodings);

/**
 * The codings a request accepts, best first, always ending with identity:
 * when nothing else fits, RFC 9110 §12.5.3 says send the document as it is.
 * No header at all means identity: clients that decode say so.
 */
export function acceptedCodings(header: string | undefined): readonly Coding[] {
  return header === undefined ? IDENTITY_ONLY : ranked.get(header);
}

/** A document in each coding it has: identity always, the others when they were made. */
export type Variants<T> = { identity: T } & Partial<Record<Coding, T>>;

/**
 * The variant a request gets: the first coding it accepts (`acceptedCodings`)
 * that the document has, identity when it has none of them.
 */
export function chooseVariant<T>(variants: Variants<T>, accepted: readonly Coding[]): { coding: Coding; variant: T } {
  for (const coding of accepted) {
    const variant = variants[coding];
    if (variant !== undefined) return { coding, variant };
  }
  return { coding: 'identity', variant: variants.identity };
}

/**
 * A document made once, answered in the variant this request accepts, with
 * Vary and Content-Encoding; the caller sets its type and caching.
 */
export function sendVariant(c: Context, document: Compressed): Response {
  const { coding, variant } = chooseVariant(document, acceptedCodings(c.req.header('accept-encoding')));
  c.header('Vary', 'Accept-Encoding');
  if (coding !== 'identity') c.header('Content-Encoding', coding);
  return c.body(variant as Uint8Array<ArrayBuffer>, 200);
}

/** Accept-Encoding (RFC 9110 §12.5.3): q-values, "*", "identity;q=0", x-gzip. */
export function rankCodings(header: string): readonly Coding[] {
  const weights = new Map<string, number>();
  for (const member of header.split(',')) {
    const [name = '', ...params] = member.split(';');
    const coding = name.trim().toLowerCase();
    const weight = qValue(params);
    if (!coding || weight === undefined) continue;
    const key = coding === 'x-gzip' ? 'gzip' : coding;
    weights.set(key, Math.max(weight, weights.get(key) ?? 0));
  }
  const wildcard = weights.get('*');
  const weightOf = (coding: Coding) =>
    weights.get(coding) ?? wildcard ?? (coding === 'identity' ? UNNAMED_IDENTITY_WEIGHT : 0);
  // A stable sort: equal weights keep the server's preference.
  const order = PREFERENCE.filter((coding) => weightOf(coding) > 0).sort((a, b) => weightOf(b) - weightOf(a));
  return order.includes('identity') ? order : [...order, 'identity'];
}

/** The member's weight: 1 without a q parameter, undefined when it is malformed (the member is ignored). */
function qValue(params: string[]): number | undefined {
  for (const param of params) {
    const [key = '', value = ''] = param.split('=');
    if (key.trim().toLowerCase() !== 'q') continue;
    const q = Number(value.trim());
    return value.trim() !== '' && q >= 0 && q <= 1 ? q : undefined;
  }
  return 1;
}
