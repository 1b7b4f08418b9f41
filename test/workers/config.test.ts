// WORKERS: a number of server processes or `auto`, checked at start like every setting.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('WORKERS', () => {
  it('is 1 unless set, a whole number, or auto for one per core', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: '4' }).workers).toBe(4);
    expect(loadConfig({ WORKERS: 'auto' }).workers).toBe(availableParallelism());
  });

  it('refuses anything else, naming the variable', () => {
    for (const value of ['0', 'two', '-1', '1.5', '257']) {
      expect(() => loadConfig({ WORKERS: value }), value).toThrow(ConfigError);
      try {
        loadConfig({ WORKERS: value });
      } catch (error) {
        expect((error as ConfigError).message).toContain(`WORKERS: must be auto or a whole number from 1 to 256 (it is "${value}")`);
      }
    }
  });
});
