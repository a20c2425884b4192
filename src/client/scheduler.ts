import { backoffDelay, type BackoffPolicy } from './backoff';

/** The clock the scheduler runs on; tests inject a fake one. */
export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Wall-clock time in ms: liveness compares this, since background tabs throttle timer ticks. */
  now(): number;
}

export const systemClock: Clock = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** How late a timer may fire before it counts as woken from a frozen page or a sleeping machine. */
const LATE_MS = 1000;

/**
 * The one owner of every timer of a client: retries, open timeouts, heartbeats, polls, request timeouts.
 * Each scheduled callback can be cancelled alone, and `dispose()` cancels all of them at once.
 */
export class BackoffScheduler {
  private readonly timers = new Map<number, unknown>();
  private nextId = 1;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Runs `callback` once after `delayMs`; returns a function that cancels it (safe to call twice). A timer that fires
   * more than `LATE_MS` late (the page was frozen, the machine slept) first yields one turn of the event loop, so that
   * what arrived meanwhile (a welcome, a reply, a heartbeat) is handled before a deadline counts as missed.
   */
  schedule(callback: () => void, delayMs: number): () => void {
    const id = this.nextId++;
    const due = this.clock.now() + delayMs;
    let yielded = false;
    const fire = (): void => {
      if (!yielded && this.clock.now() - due > LATE_MS) {
        yielded = true;
        this.timers.set(id, this.clock.setTimeout(fire, 0));
        return;
      }
      this.timers.delete(id);
      callback();
    };
    const handle = this.clock.setTimeout(fire, Math.max(0, delayMs));
    this.timers.set(id, handle);
    return () => {
      const h = this.timers.get(id);
      if (h === undefined) return;
      this.timers.delete(id);
      this.clock.clearTimeout(h);
    };
  }

  /** Jittered delay for retry number `attempt` (0-based), drawn afresh on every call. */
  backoff(attempt: number, policy: BackoffPolicy = this.policy): number {
    return backoffDelay(attempt, policy, this.random);
  }

  now(): number {
    return this.clock.now();
  }

  /** Number of callbacks scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Cancels every scheduled callback. */
  dispose(): void {
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
  }
}
