import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to embedded mode with nothing set', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('embedded');
    expect(c.port).toBe(8080);
    expect(c.role).toBe('all');
    expect(c.routingWorkers).toBe(4);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('uses services mode with both URLs', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', REDIS_URL: 'redis://h:6379' }, ['--role', 'worker']);
    expect(c.mode).toBe('services');
    expect(c.role).toBe('worker');
  });

  it('names every bad variable at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', PORT: 'eighty', LOG_LEVEL: 'loud', ADMIN_PASSWORD: 'short', ROUTING_WORKERS: '0' }, ['--role=boss']);
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const named = error!.problems.map((p) => p.split(':')[0]);
    expect(named).toEqual(expect.arrayContaining(['DATABASE_URL', 'PORT', 'LOG_LEVEL', 'ADMIN_PASSWORD', 'ROUTING_WORKERS', '--role']));
    expect(error!.message).toMatch(/PORT/);
  });

  it('refuses one URL without the other', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://h:6379' })).toThrow(/DATABASE_URL: set both/);
  });
});
