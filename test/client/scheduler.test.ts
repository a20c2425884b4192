import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackoffScheduler, systemClock, type Clock } from '../../src/client/scheduler';
import type { BackoffPolicy } from '../../src/client/backoff';

const policy: BackoffPolicy = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 };

/** A manual clock: timers fire only when the test advances time. Records every set and clear. */
class FakeClock implements Clock {
  time = 1_000;
  private nextHandle = 1;
  readonly timers = new Map<number, { at: number; callback: () => void }>();
  readonly set: { handle: number; ms: number }[] = [];
  readonly cleared: unknown[] = [];

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + ms, callback });
    this.set.push({ handle, ms });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.cleared.push(handle);
    this.timers.delete(handle as number);
  }

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = until;
  }
}

describe('BackoffScheduler with an injected clock', () => {
  it('runs a callback once, after its delay', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    const cb = vi.fn();
    s.schedule(cb, 50);
    expect(clock.set).toEqual([{ handle: 1, ms: 50 }]);
    clock.advance(49);
    expect(cb).not.toHaveBeenCalled();
    clock.advance(1);
    expect(cb).toHaveBeenCalledTimes(1);
    clock.advance(1000);
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('a timer woken more than a second late (frozen page, sleep) is set again for as long as it was late (at most its delay): what arrived meanwhile runs first', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    /** A page waking up: every due timer runs in order, and the wall clock stays where it jumped to. */
    const wake = (): void => {
      for (;;) {
        const due = [...clock.timers].filter(([, t]) => t.at <= clock.time).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) return;
        clock.timers.delete(due[0]);
        due[1].callback();
      }
    };
    const order: string[] = [];
    s.schedule(() => order.push('deadline'), 50);
    clock.time += 1051; // the wall clock jumped while no timer ran: 1,001 ms late
    clock.setTimeout(() => order.push('arrival'), 0); // what the page queued while frozen
    wake();
    expect(order).toEqual(['arrival']);
    expect(clock.set.at(-1)).toEqual({ handle: 3, ms: 50 }); // set again: 1,001 ms late, at most its own 50 ms
    expect(s.pending).toBe(1);
    clock.time += 50;
    wake();
    expect(order).toEqual(['arrival', 'deadline']);
    expect(s.pending).toBe(0);

    // Only slightly late (a throttled tab's usual lag): it runs at once.
    s.schedule(() => order.push('slightly late'), 10);
    clock.time += 900;
    clock.setTimeout(() => order.push('arrival 2'), 0);
    wake();
    expect(order.slice(2)).toEqual(['slightly late', 'arrival 2']);

    // Cancelling reaches the re-armed timer too.
    const cancelled = vi.fn();
    const cancel = s.schedule(cancelled, 10);
    clock.time += 2000;
    const first = [...clock.timers][0]!;
    clock.timers.delete(first[0]);
    first[1].callback(); // the late wake-up: re-armed
    expect(s.pending).toBe(1);
    cancel();
    expect(s.pending).toBe(0);
    wake();
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('counts pending callbacks until they run or are cancelled', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    expect(s.pending).toBe(0);
    const cancelA = s.schedule(() => {}, 10);
    s.schedule(() => {}, 20);
    s.schedule(() => {}, 30);
    expect(s.pending).toBe(3);
    cancelA();
    expect(s.pending).toBe(2);
    clock.advance(20);
    expect(s.pending).toBe(1);
    clock.advance(10);
    expect(s.pending).toBe(0);
  });

  it('cancel stops the callback and clears the clock timer', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    const cb = vi.fn();
    const cancel = s.schedule(cb, 50);
    cancel();
    expect(clock.cleared).toEqual([1]);
    clock.advance(100);
    expect(cb).not.toHaveBeenCalled();
  });

  it('cancelling twice is safe and clears the timer only once', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    const other = vi.fn();
    const cancel = s.schedule(() => {}, 50);
    s.schedule(other, 60);
    cancel();
    expect(() => cancel()).not.toThrow();
    expect(clock.cleared).toEqual([1]);
    expect(s.pending).toBe(1);
    clock.advance(60);
    expect(other).toHaveBeenCalledTimes(1);
  });

  it('cancelling after the callback ran does nothing', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    const cancel = s.schedule(() => {}, 5);
    clock.advance(5);
    cancel();
    expect(clock.cleared).toEqual([]);
    expect(s.pending).toBe(0);
  });

  it('clamps a negative delay to 0', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    s.schedule(() => {}, -20);
    expect(clock.set[0]!.ms).toBe(0);
  });

  it('dispose cancels every pending callback; later cancels are harmless', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    const a = vi.fn();
    const b = vi.fn();
    const done = vi.fn();
    s.schedule(done, 1);
    clock.advance(1);
    const cancelA = s.schedule(a, 10);
    s.schedule(b, 20);
    s.dispose();
    expect(s.pending).toBe(0);
    expect(clock.cleared.sort()).toEqual([2, 3]);
    expect(clock.timers.size).toBe(0);
    clock.advance(100);
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
    expect(() => cancelA()).not.toThrow();
    expect(clock.cleared).toHaveLength(2);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('a callback may schedule another; it is counted and runs once too', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    const second = vi.fn();
    const first = vi.fn(() => {
      expect(s.pending).toBe(0); // its own timer is no longer pending while it runs
      s.schedule(second, 10);
    });
    s.schedule(first, 10);
    clock.advance(10);
    expect(first).toHaveBeenCalledTimes(1);
    expect(s.pending).toBe(1);
    clock.advance(10);
    expect(second).toHaveBeenCalledTimes(1);
    expect(s.pending).toBe(0);
  });

  it('a callback that throws is still no longer pending', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    s.schedule(() => {
      throw new Error('boom');
    }, 10);
    expect(() => clock.advance(10)).toThrow('boom');
    expect(s.pending).toBe(0);
  });

  it('now() reads the injected clock', () => {
    const clock = new FakeClock();
    const s = new BackoffScheduler(policy, clock);
    expect(s.now()).toBe(1_000);
    clock.advance(250);
    expect(s.now()).toBe(1_250);
  });

  it('backoff() uses its policy and injected random, drawn afresh per call', () => {
    const draws = [0, 0.5, 0.999999];
    const random = vi.fn(() => draws.shift()!);
    const s = new BackoffScheduler({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 1 }, new FakeClock(), random);
    expect(s.backoff(1)).toBe(0);
    expect(s.backoff(1)).toBe(100);
    expect(s.backoff(1)).toBe(200);
    expect(random).toHaveBeenCalledTimes(3);
  });

  it('backoff() takes a policy that overrides its own', () => {
    const s = new BackoffScheduler(policy, new FakeClock(), () => 0);
    expect(s.backoff(2)).toBe(400);
    expect(s.backoff(2, { initialMs: 10, maxMs: 50, factor: 3, jitter: 0 })).toBe(50);
    expect(s.backoff(1, { initialMs: 10, maxMs: 50, factor: 3, jitter: 0 })).toBe(30);
  });
});

describe('BackoffScheduler on the system clock with vitest fake timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses the platform timers by default and runs callbacks once', () => {
    vi.useFakeTimers();
    const s = new BackoffScheduler(policy);
    const cb = vi.fn();
    s.schedule(cb, 100);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(cb).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(cb).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(cb).toHaveBeenCalledTimes(1);
    expect(s.pending).toBe(0);
  });

  it('cancel and dispose remove the platform timers', () => {
    vi.useFakeTimers();
    const s = new BackoffScheduler(policy, systemClock);
    const a = vi.fn();
    const b = vi.fn();
    const c = vi.fn();
    const cancelA = s.schedule(a, 10);
    s.schedule(b, 20);
    s.schedule(c, 30);
    expect(vi.getTimerCount()).toBe(3);
    cancelA();
    cancelA();
    expect(vi.getTimerCount()).toBe(2);
    s.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.runAllTimers();
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
    expect(c).not.toHaveBeenCalled();
  });

  it('now() follows the (faked) wall clock', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const s = new BackoffScheduler(policy);
    expect(s.now()).toBe(Date.parse('2030-01-01T00:00:00Z'));
    vi.advanceTimersByTime(1500);
    expect(s.now()).toBe(Date.parse('2030-01-01T00:00:01.500Z'));
  });
});
