// Who wrote a story and who supplied it, worded so the two cannot be taken
// for one another: "By Jane Doe" and "Source: Reuters". The server's pages
// and the browser's live cards word them alike.

/** "By <name>", unless the byline already says "By". */
export function bylineText(byline) {
  return /^by\s/i.test(byline) ? byline : `By ${byline}`;
}

export function sourceText(source) {
  return `Source: ${source}`;
}
