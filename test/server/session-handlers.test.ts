import { describe, expect, it, vi } from 'vitest';
import { SessionHandlers } from '../../src/server/session-handlers';
import type { Logger } from '../../src/server/types';

const quiet: Logger = { debug: () => {}, warn: () => {}, error: () => {} };

describe('SessionHandlers', () => {
  it('one handler per event; an unsubscribe removes only the handler it was returned for', () => {
    const h = new SessionHandlers();
    const first = vi.fn();
    const second = vi.fn();
    const offFirst = h.on('say', first);
    const offSecond = h.on('say', second);
    expect(h.handler('say')).toBe(second);
    offFirst(); // replaced already: changes nothing
    expect(h.handler('say')).toBe(second);
    offSecond();
    expect(h.handler('say')).toBeUndefined();
  });

  it('disconnect listeners run once each, a throwing one is logged and the rest still run; then all is cleared', () => {
    const h = new SessionHandlers();
    const errors: unknown[] = [];
    const logger: Logger = { ...quiet, error: (message, meta) => errors.push([message, meta]) };
    const calls: string[] = [];
    const boom = new Error('boom');
    h.onDisconnect(() => {
      throw boom;
    });
    h.onDisconnect((reason) => calls.push(reason));
    const off = h.onDisconnect(() => calls.push('removed'));
    off();
    h.on('say', () => {});
    h.disconnected('expired', logger, 's1');
    expect(calls).toEqual(['expired']);
    expect(errors).toEqual([['disconnect listener threw', { sid: 's1', err: boom }]]);
    expect(h.handler('say')).toBeUndefined();
    h.disconnected('ended', logger, 's1');
    expect(calls).toEqual(['expired']);
  });

  it('a session let go drops its disconnect listeners but keeps its handlers (frames recorded before still run)', () => {
    const h = new SessionHandlers();
    const listener = vi.fn();
    const handler = vi.fn();
    h.onDisconnect(listener);
    h.on('say', handler);
    h.dropListeners();
    expect(h.handler('say')).toBe(handler);
    h.disconnected('ended', quiet, 's1');
    expect(listener).not.toHaveBeenCalled();
  });
});
