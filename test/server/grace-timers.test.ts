import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GraceTimers } from '../../src/server/grace-timers';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GraceTimers', () => {
  it('runs a session expiry once its grace period is over, not before', () => {
    const timers = new GraceTimers(1000);
    const expire = vi.fn();
    timers.start('a', expire);
    vi.advanceTimersByTime(999);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('a restart replaces the running timer; clear and clearAll cancel, and leave no timer behind', () => {
    const timers = new GraceTimers(1000);
    const first = vi.fn();
    const second = vi.fn();
    timers.start('a', first);
    vi.advanceTimersByTime(600);
    timers.start('a', second); // the session dropped again: its grace starts over
    vi.advanceTimersByTime(600);
    expect(first).not.toHaveBeenCalled();
    expect(second).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(second).toHaveBeenCalledTimes(1);

    const b = vi.fn();
    const c = vi.fn();
    timers.start('b', b);
    timers.start('c', c);
    timers.clear('b');
    timers.clear('nobody');
    expect(vi.getTimerCount()).toBe(1);
    timers.clearAll();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(b).not.toHaveBeenCalled();
    expect(c).not.toHaveBeenCalled();
  });
});
