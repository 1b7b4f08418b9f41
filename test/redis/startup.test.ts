// A Redis that refuses the password: the process says so at once and stops,
// instead of waiting and then blaming reachability.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, stopAllRedis } from '../support/redis.ts';
import { cleanup, tempDir } from '../support/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
afterAll(async () => {
  await stopAllRedis();
  await cleanup();
});

describe('start-up against Redis', () => {
  it('a wrong password ends the start at once with one line that says so', async () => {
    const redis = await startRedis({ appendOnly: false, password: 'right-password-123' });
    for (const url of [`redis://:wrong-password@127.0.0.1:${redis.port}`, `redis://127.0.0.1:${redis.port}`]) {
      const started = Date.now();
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: tempDir(), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', REDIS_URL: url },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status, result.stderr).toBe(78);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(result.stderr.trim()).toMatch(/^Cannot start: REDIS_URL: Redis refused the credentials in REDIS_URL \(wrong or missing password\) \(redis:\/\/.*127\.0\.0\.1:\d+\)$/);
      expect(result.stderr).not.toContain('wrong-password');
    }
  });
});
