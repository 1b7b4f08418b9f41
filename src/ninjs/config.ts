// ninjs and Superdesk settings from the environment. Problems are added to
// the configuration's list, so a bad value stops the start like any other.
import { LIMITS, TOPIC_PATTERN } from '../domain/item.ts';

export interface NinjsSettings {
  /** Subject codes, URIs, literals or names → our topic; `*` is the topic of an item no subject maps to. */
  topicMap: ReadonlyMap<string, string>;
  /** Topic given when nothing else gives one. */
  fallbackTopic: string;
  /** Superdesk HTTP Push secret; unset: the Superdesk endpoints answer 404. */
  superdeskSecret: string | undefined;
  /** Largest uploaded media file. */
  mediaMaxBytes: number;
}

const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;

/** Reads NINJS_TOPIC_MAP, SUPERDESK_SECRET and MEDIA_MAX_BYTES; values are never echoed (the secret is one). */
export function ninjsSettings(env: Record<string, string | undefined>, problems: string[]): NinjsSettings {
  const topicMap = new Map<string, string>();
  const raw = env.NINJS_TOPIC_MAP?.trim();
  if (raw) {
    let pairs: [string, unknown][] = [];
    if (raw.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) pairs = Object.entries(parsed);
        else problems.push('NINJS_TOPIC_MAP: must be a JSON object {"code": "topic"} or code=topic pairs separated by commas');
      } catch {
        problems.push('NINJS_TOPIC_MAP: is not valid JSON (use {"code": "topic"} or code=topic,code=topic)');
      }
    } else {
      for (const part of raw.split(',')) {
        if (!part.trim()) continue;
        const at = part.lastIndexOf('=');
        if (at <= 0) problems.push(`NINJS_TOPIC_MAP: "${part.trim().slice(0, 60)}" is not code=topic`);
        else pairs.push([part.slice(0, at).trim(), part.slice(at + 1).trim()]);
      }
    }
    for (const [code, topic] of pairs) {
      // An empty topic drops the subject: no topic comes from it.
      if (typeof topic !== 'string' || (topic !== '' && (!TOPIC_PATTERN.test(topic) || topic.length > LIMITS.topicLength || topic === 'all'))) {
        problems.push(`NINJS_TOPIC_MAP: the topic for "${code.slice(0, 60)}" must be a lowercase slug of at most ${LIMITS.topicLength} characters (not "all"), or "" to drop it`);
        continue;
      }
      topicMap.set(code, topic);
    }
  }
  const fallbackTopic = topicMap.get('*') || 'news';
  const secret = env.SUPERDESK_SECRET;
  if (secret !== undefined && secret.length < 16) problems.push('SUPERDESK_SECRET: must be at least 16 characters');
  let mediaMaxBytes = DEFAULT_MEDIA_MAX_BYTES;
  const max = env.MEDIA_MAX_BYTES?.trim();
  if (max) {
    if (!/^\d+$/.test(max) || Number(max) < 1024 || Number(max) > 104_857_600) {
      problems.push('MEDIA_MAX_BYTES: must be a whole number from 1,024 to 104,857,600');
    } else mediaMaxBytes = Number(max);
  }
  return { topicMap, fallbackTopic, superdeskSecret: secret || undefined, mediaMaxBytes };
}
