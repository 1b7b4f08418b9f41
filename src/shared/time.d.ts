// Types for time.js, for the server's pages (the browser uses it as /assets/shared/time.js).

export interface TimeOptions {
  locale?: string;
  timeZone?: string;
}

export function relativeTime(iso: string, now?: number, options?: TimeOptions): string;
export function absoluteTime(iso: string, options?: TimeOptions): string;
