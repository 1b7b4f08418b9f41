// A bare node:http server answering every GET with the exact bytes and
// headers our server sent for a feed (and its 304): the ceiling for feeds.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { listen } from './common.ts';

interface Captured {
  etag: string;
  headers200: Record<string, string>;
  headers304: Record<string, string>;
  body: string;
}

const captured = JSON.parse(readFileSync(process.env.FEED_FILE as string, 'utf8')) as Captured;
const body = Buffer.from(captured.body, 'base64');

const server = createServer((req, res) => {
  if (req.headers['if-none-match'] === captured.etag) {
    res.writeHead(304, captured.headers304).end();
    return;
  }
  res.writeHead(200, captured.headers200).end(body);
});
listen(server, 'feed-http');
