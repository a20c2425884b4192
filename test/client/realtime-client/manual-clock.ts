import type { Clock } from '../../../src/client/scheduler';

/** Lets real I/O (msw handlers, streams) make progress between fake-clock steps. */
export const settle = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Real time until `done()` holds (for what depends on real I/O, however loaded the machine), failing after `ms`. */
export async function settleUntil(done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`settleUntil: not done within ${ms} ms`);
    await settle(10);
  }
}

/**
 * A fake clock for the client's scheduler only. msw and the fake server keep real timers, so a test advances the
 * client's notion of time explicitly while network I/O runs for real.
 */
export class ManualClock implements Clock {
  time = 1_700_000_000_000;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    // "At once" (0 ms) runs on its own, as a real zero timeout would; anything longer waits for advance().
    if (ms <= 0) {
      setTimeout(() => {
        if (this.timers.delete(id)) callback();
      }, 0);
    }
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  now(): number {
    return this.time;
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Delays of the scheduled timers, relative to now. */
  delays(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time forward, firing due timers in order and letting I/O settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /** Jumps the wall clock without firing timers, as a throttled background tab experiences it. */
  jump(ms: number): void {
    this.time += ms;
  }
}
