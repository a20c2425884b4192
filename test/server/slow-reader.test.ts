/**
 * SlowReaderGuard tells a slow reader from a big message: cut only when what is queued stayed above the limit for the
 * window, at once above the hard bound; any look at or under the limit starts the wait over; no timer is left behind.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SlowReaderGuard } from '../../src/server/slow-reader';

const opts = { maxBufferedBytes: 1000, hardBufferedBytes: 4000, slowReaderMs: 1000 };

function rig() {
  let queued = 0;
  const cuts: ['slow' | 'hard', Record<string, number>][] = [];
  const guard = new SlowReaderGuard(opts, () => queued, (why, meta) => void cuts.push([why, meta]));
  return { guard, cuts, set: (n: number) => void (queued = n) };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('SlowReaderGuard', () => {
  it('a large write that drains within the window is not a slow reader', () => {
    const r = rig();
    r.set(3500); // one big message: over the limit, under the hard bound
    r.guard.check();
    vi.advanceTimersByTime(600);
    r.set(200); // the client read it
    vi.advanceTimersByTime(2000);
    expect(r.cuts).toEqual([]);
    expect(vi.getTimerCount()).toBe(0); // the timer runs only while over the limit
  });

  it('what stays above the limit for the window is cut as slow, once', () => {
    const r = rig();
    r.set(1500);
    r.guard.check();
    vi.advanceTimersByTime(999);
    expect(r.cuts).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(r.cuts).toHaveLength(1);
    expect(r.cuts[0]![0]).toBe('slow');
    expect(r.cuts[0]![1]).toMatchObject({ bufferedBytes: 1500, limit: 1000 });
    vi.advanceTimersByTime(5000);
    r.guard.check();
    expect(r.cuts).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a dip to the limit at a drain or a write starts the wait over', () => {
    const r = rig();
    r.set(1500);
    r.guard.check();
    vi.advanceTimersByTime(700);
    r.set(900);
    r.guard.check(); // a drain
    r.set(1500);
    r.guard.check();
    vi.advanceTimersByTime(700);
    expect(r.cuts).toEqual([]);
    vi.advanceTimersByTime(600);
    expect(r.cuts.map(([why]) => why)).toEqual(['slow']);
  });

  it('above the hard bound it is cut at once', () => {
    const r = rig();
    r.set(4001);
    r.guard.check();
    expect(r.cuts.map(([why]) => why)).toEqual(['hard']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the allowance (a replay) is added to both bounds', () => {
    const r = rig();
    r.guard.allowance = 10_000;
    r.set(11_000);
    r.guard.check();
    vi.advanceTimersByTime(5000);
    expect(r.cuts).toEqual([]);
    r.set(14_001);
    r.guard.check();
    expect(r.cuts.map(([why]) => why)).toEqual(['hard']);
  });

  it('dispose clears the timer and silences it', () => {
    const r = rig();
    r.set(1500);
    r.guard.check();
    expect(vi.getTimerCount()).toBe(1);
    r.guard.dispose();
    expect(vi.getTimerCount()).toBe(0);
    r.set(5000);
    r.guard.check();
    expect(r.cuts).toEqual([]);
  });
});
