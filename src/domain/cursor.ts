// A cursor is a reader's position: which log (epoch) and how far (seq).
// Clients treat it as opaque; the server parses it strictly.

export interface Cursor {
  epoch: string;
  seq: number;
}

const CURSOR_PATTERN = /^([A-Za-z0-9]{8,32})-(\d{1,15})$/;

export function formatCursor(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** Returns null for anything that is not a cursor this server could have issued. */
export function parseCursor(value: string): Cursor | null {
  const match = CURSOR_PATTERN.exec(value);
  if (!match) return null;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return null;
  return { epoch: match[1] as string, seq };
}

export function newEpoch(): string {
  // 16 base-36 characters: about 82 bits of randomness.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('');
}
