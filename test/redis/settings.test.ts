// The Redis mode settings are checked at start: each problem names its variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('Redis settings', () => {
  it('reads Sentinel, Cluster and replica settings', () => {
    const sentinel = loadConfig({
      REDIS_SENTINELS: '10.0.0.5:26379, sentinel-b.internal:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_PASSWORD: 'data-password',
      REDIS_SENTINEL_PASSWORD: 'sentinel-password',
      REDIS_MIN_REPLICAS: '1',
      REDIS_WAIT_MS: '250',
    });
    expect(sentinel.redis).toEqual({
      target: {
        mode: 'sentinel',
        sentinels: [
          { host: '10.0.0.5', port: 26379 },
          { host: 'sentinel-b.internal', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        name: 'mymaster',
        username: undefined,
        password: 'data-password',
        sentinelPassword: 'sentinel-password',
      },
      minReplicas: 1,
      waitMs: 250,
    });
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' });
    expect(cluster.redis.target).toMatchObject({ mode: 'cluster', nodes: [{ port: 7000 }, { port: 7001 }] });
    expect(cluster.redis.minReplicas).toBe(0);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redis.target).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379' });
    expect(loadConfig({}).redis.target).toBeUndefined();
  });

  it('names the variable of each bad setting', () => {
    expect(problems({ REDIS_SENTINELS: '10.0.0.5', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      'REDIS_SENTINELS: each entry must be host:port, e.g. 10.0.0.5:26379 ("10.0.0.5" is not)',
    ]);
    expect(problems({ REDIS_SENTINELS: '10.0.0.5:26379' })[0]).toMatch(/^REDIS_SENTINEL_NAME: is required/);
    expect(problems({ REDIS_SENTINEL_NAME: 'm' })[0]).toMatch(/^REDIS_SENTINEL_NAME: is used only with REDIS_SENTINELS/);
    expect(problems({ REDIS_URL: 'redis://h:1', REDIS_CLUSTER_NODES: 'h:2' })[0]).toMatch(/^REDIS_URL, REDIS_CLUSTER_NODES: set only one/);
    expect(problems({ REDIS_CLUSTER_NODES: 'h:99999' })[0]).toMatch(/^REDIS_CLUSTER_NODES: each entry must be host:port/);
    expect(problems({ REDIS_MIN_REPLICAS: '1' })[0]).toMatch(/^REDIS_MIN_REPLICAS: needs Redis/);
    expect(problems({ REDIS_URL: 'redis://h:1', REDIS_MIN_REPLICAS: 'two' })[0]).toMatch(/^REDIS_MIN_REPLICAS: must be a whole number from 0 to 16/);
    expect(problems({ REDIS_URL: 'redis://h:1', REDIS_WAIT_MS: '100' })[0]).toMatch(/^REDIS_WAIT_MS: is used only with REDIS_MIN_REPLICAS/);
    const withPassword = problems({ REDIS_URL: 'redis://h:1', REDIS_PASSWORD: 'secret-value' });
    expect(withPassword[0]).toMatch(/^REDIS_PASSWORD: is used with REDIS_SENTINELS or REDIS_CLUSTER_NODES/);
    expect(withPassword.join()).not.toContain('secret-value');
  });
});
