// Types for push-crypto.js.
export interface EncryptJob {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  payload: string;
  ttl: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  topic: string;
  vapid: { subject: string; publicKey: string; privateKey: string };
}

export interface PushRequest {
  endpoint: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

/** What the worker posts back: a Buffer arrives as a Uint8Array. */
export interface PostedPushRequest extends Omit<PushRequest, 'body'> {
  body: Uint8Array | null;
}

export function encrypt(job: EncryptJob): PushRequest;
