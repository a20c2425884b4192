import type { BackoffScheduler } from './scheduler';

/**
 * How long the active connection has been silent, by wall clock: a throttled background timer that fires late still
 * measures the real silence. `limitMs()` is asked each time (the server's heartbeat is known only after the welcome).
 */
export class Liveness {
  private lastHeardAt = 0;
  private cancel: () => void = () => {};

  constructor(
    private readonly scheduler: BackoffScheduler,
    /** Silence after which the connection is dead, in ms; 0: never. */
    private readonly limitMs: () => number,
  ) {}

  heard(): void {
    this.lastHeardAt = this.scheduler.now();
  }

  /** Watches the silence from now on; `dead` runs once it exceeds the limit. */
  watch(dead: (silentMs: number, limitMs: number) => void): void {
    this.stop();
    const limit = this.limitMs();
    if (limit <= 0) return;
    const check = (): void => {
      const silent = this.scheduler.now() - this.lastHeardAt;
      if (silent >= limit) dead(silent, limit);
      else this.cancel = this.scheduler.schedule(check, limit - silent);
    };
    this.cancel = this.scheduler.schedule(check, limit);
  }

  /** The silence so far when it is over the limit (a page coming back from the background), else null. */
  overdue(): { silentMs: number; limitMs: number } | null {
    const limit = this.limitMs();
    const silent = this.scheduler.now() - this.lastHeardAt;
    return limit > 0 && silent > limit ? { silentMs: silent, limitMs: limit } : null;
  }

  stop(): void {
    this.cancel();
    this.cancel = () => {};
  }
}
