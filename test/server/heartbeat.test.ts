import { afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../src/server/heartbeat';

afterEach(() => {
  vi.useRealTimers();
});

describe('Heartbeat', () => {
  it('beats every connection from one timer, only while there are connections', () => {
    vi.useFakeTimers();
    const beats: string[] = [];
    const conns = new Set([{ beat: () => void beats.push('a') }, { beat: () => void beats.push('b') }]);
    const hb = new Heartbeat(conns, 1000);
    hb.start();
    hb.start(); // a second connection joining does not add a timer
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(beats).toEqual(['a', 'b', 'a', 'b']);
    conns.clear();
    vi.advanceTimersByTime(1000); // the tick finds nobody and stops
    expect(vi.getTimerCount()).toBe(0);
    conns.add({ beat: () => void beats.push('c') });
    hb.start();
    vi.advanceTimersByTime(1000);
    expect(beats.at(-1)).toBe('c');
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
