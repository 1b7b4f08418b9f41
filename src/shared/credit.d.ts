export function bylineText(byline: string): string;
export function sourceText(source: string): string;
