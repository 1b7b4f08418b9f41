// Publishes bench items over HTTP the way a newsroom tool does, and times
// each request: that is the publish API latency.
import { Agent, request } from 'node:http';
import { benchItem } from './payload.ts';
import { now } from './stats.ts';
import { TOKEN } from './targets.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface Published {
  status: number;
  ms: number;
}

export function publish(httpUrl: string, run: string, n: number): Promise<Published> {
  const sentAt = now();
  const body = JSON.stringify(benchItem(run, n, sentAt));
  return new Promise((resolve) => {
    const req = request(
      `${httpUrl}/api/v1/items`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: now() - sentAt }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: now() - sentAt }));
    req.end(body);
  });
}

export function closePublisher(): void {
  agent.destroy();
}
