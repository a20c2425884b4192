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
   * more than `LATE_MS` late (the page was frozen, the machine slept) is set again, once, for as long as it was late
   * (at most its own delay): time the page did not run does not count against a deadline, and what arrived meanwhile
   * (a welcome, a reply, a heartbeat), still queued when the page wakes, is handled first. One turn of the event loop
   * was not always enough for that in Chromium (a welcome then came after its open timeout in 1 of ~10 runs).
   */
  schedule(callback: () => void, delayMs: number): () => void {
    const id = this.nextId++;
    const due = this.clock.now() + delayMs;
    let extended = false;
    const fire = (): void => {
      const late = this.clock.now() - due;
      if (!extended && late > LATE_MS) {
        extended = true;
        this.timers.set(id, this.clock.setTimeout(fire, Math.min(late, Math.max(0, delayMs))));
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
