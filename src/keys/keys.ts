// Publisher keys: who may do what to which topics. A key is a high-entropy
// random token shown once; the store keeps only its SHA-256, so a copy of the
// store gives no one the power to publish.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { cleanText, topicSchema } from '../domain/item.ts';

export const KEY_ACTIONS = ['publish', 'correct', 'kill', 'ingest', 'admin'] as const;
export type KeyAction = (typeof KEY_ACTIONS)[number];

/** What the API shows of a key: never its token or hash. */
export interface PublisherKey {
  id: string;
  /** A desk or a tool: who the audit trail names. */
  name: string;
  actions: KeyAction[];
  /** Topic slugs the key may touch; absent: every topic. */
  topics?: string[];
  createdAt: string;
  revokedAt?: string;
}

/** A key as the store holds it: with the hash of its token. */
export interface StoredKey extends PublisherKey {
  hash: string;
}

/** Whoever a request authenticated as: a stored key or a PUBLISHER_TOKENS entry. */
export interface Principal {
  id: string;
  name: string;
  actions: readonly KeyAction[];
  topics?: readonly string[];
}

/** The n-th (from 0) PUBLISHER_TOKENS entry as a key: `token-1`, `token-2`, …, every action, every topic. */
export function environmentPrincipal(index: number): Principal {
  const id = `token-${index + 1}`;
  return { id, name: id, actions: KEY_ACTIONS };
}

/** Ids of the PUBLISHER_TOKENS keys: never in the store. */
export const ENVIRONMENT_KEY_ID = /^token-\d+$/;

/** Keys one store holds, revoked ones included: the in-memory map of every process stays small. */
export const MAX_KEYS = 2_000;
export const KEY_NAME_LENGTH = 100;
const KEY_TOPICS = 100;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** 256 random bits, URL-safe; the prefix lets secret scanners recognise a leaked one. */
export const newToken = (): string => `nwk_${randomBytes(32).toString('base64url')}`;
export const newKeyId = (): string => `key_${randomBytes(8).toString('hex')}`;

export const KEY_ID_PATTERN = /^key_[0-9a-f]{16}$/;

export const keyInputSchema = z.strictObject({
  name: z
    .string()
    .transform(cleanText)
    .pipe(z.string().trim().min(1, 'must not be empty').max(KEY_NAME_LENGTH, `must be at most ${KEY_NAME_LENGTH} characters`)),
  actions: z
    .array(z.enum(KEY_ACTIONS, { error: `each must be one of ${KEY_ACTIONS.join(', ')}` }))
    .min(1, 'must name at least one action')
    .refine((actions) => new Set(actions).size === actions.length, 'must not repeat an action'),
  topics: z
    .array(topicSchema)
    .min(1, 'must name at least one topic (leave it out for every topic)')
    .max(KEY_TOPICS, `must be at most ${KEY_TOPICS} topics`)
    .refine((topics) => new Set(topics).size === topics.length, 'must not repeat a topic')
    .optional(),
});
export type KeyInput = z.infer<typeof keyInputSchema>;

/** The key without its hash. */
export function publicKey(key: StoredKey | PublisherKey): PublisherKey {
  return {
    id: key.id,
    name: key.name,
    actions: key.actions,
    ...(key.topics ? { topics: key.topics } : {}),
    createdAt: key.createdAt,
    ...(key.revokedAt ? { revokedAt: key.revokedAt } : {}),
  };
}

/** Topics of `topics` that the principal may not touch (empty: all allowed). */
export function topicsOutside(principal: Principal, topics: readonly string[]): string[] {
  const allowed = principal.topics;
  if (!allowed) return [];
  return [...new Set(topics.filter((topic) => !allowed.includes(topic)))];
}
