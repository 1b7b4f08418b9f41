// Publishes bench items over HTTP the way a newsroom tool does, and times
// each request: that is the publish API latency.
import { Agent, request } from 'node:http';
import { benchItem } from './payload.ts';
import { now } from './stats.ts';
import { TOKEN } from './targets.ts';

// Idle sockets are dropped after 1 s, well before any server's keep-alive timeout.
const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 1_000 });

export interface Published {
  status: number;
  ms: number;
}

/**
 * One publish. A keep-alive connection the server closed just as it was
 * reused fails without reaching it; that is retried (same item, same send
 * time, so the latency counts the retry). Our server treats the retry as
 * idempotent anyway.
 */
export async function publish(httpUrl: string, run: string, n: number): Promise<Published> {
  const sentAt = now();
  const body = JSON.stringify(benchItem(run, n, sentAt));
  for (let attempt = 1; ; attempt++) {
    const res = await post(httpUrl, body, sentAt);
    if (res.status !== 0 || attempt === 3) return res;
  }
}

function post(httpUrl: string, body: string, sentAt: number): Promise<Published> {
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
