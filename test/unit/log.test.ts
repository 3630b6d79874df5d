import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../../src/log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('info', stream) };
}

describe('lazyChild', () => {
  it('makes no pino child until something is logged', () => {
    const { log } = capture();
    const child = vi.spyOn(log, 'child');
    const lazy = lazyChild(log, { component: 'routing', jobId: 'route-1' });
    lazy.child({ conversationId: 'c1' });
    expect(child).not.toHaveBeenCalled();
  });

  it('logs with its bindings, and a child of it with both, redacted as the root logger redacts', async () => {
    const { lines, log } = capture();
    const lazy = lazyChild(log, { component: 'routing', jobId: 'route-1' });
    const jobLog = lazy.child({ conversationId: 'c1' });
    jobLog.warn({ decision: 'reopen', body: 'I am trapped' }, 'message arrived in a closed conversation');
    lazy.info('done');
    await vi.waitFor(() => expect(lines).toHaveLength(2));
    expect(lines[0]).toMatchObject({ component: 'routing', jobId: 'route-1', conversationId: 'c1', decision: 'reopen', body: '[redacted]' });
    expect(lines[1]).toMatchObject({ component: 'routing', jobId: 'route-1', msg: 'done' });
    expect(lines[1]).not.toHaveProperty('conversationId');
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    expect(lazy.level).toBe('info');
  });

  it('sets a level on itself, never on the logger it came from', () => {
    const { log } = capture();
    const lazy = lazyChild(log, { component: 'routing' });
    lazy.level = 'debug';
    expect(lazy.isLevelEnabled('debug')).toBe(true);
    expect(log.level).toBe('info');
  });
});
