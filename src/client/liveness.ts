import type { BackoffScheduler } from './scheduler';

/**
 * How long the active connection has been silent, by wall clock: a throttled background timer that fires late still
 * measures the real silence. The limit is asked each time (the server's heartbeat is known only after the welcome).
 */
export interface Liveness {
  heard(): void;
  /** Watches the silence from now on; `dead` runs once it exceeds the limit. */
  watch(dead: (silentMs: number, limitMs: number) => void): void;
  /** The silence so far when it is over the limit (a page coming back from the background), else null. */
  overdue(): { silentMs: number; limitMs: number } | null;
  stop(): void;
}

/** `limitMs`: silence after which the connection is dead, in ms; 0: never. */
export function createLiveness(scheduler: BackoffScheduler, limitMs: () => number): Liveness {
  // State in closures rather than fields: the minifier shortens these names, it cannot shorten properties.
  let lastHeardAt = 0;
  let cancel = (): void => {};
  const stop = (): void => {
    cancel();
    cancel = () => {};
  };
  return {
    heard() {
      lastHeardAt = scheduler.now();
    },
    watch(dead) {
      stop();
      const limit = limitMs();
      if (limit <= 0) return;
      const check = (): void => {
        const silent = scheduler.now() - lastHeardAt;
        if (silent >= limit) dead(silent, limit);
        else cancel = scheduler.schedule(check, limit - silent);
      };
      cancel = scheduler.schedule(check, limit);
    },
    overdue() {
      const limit = limitMs();
      const silent = scheduler.now() - lastHeardAt;
      return limit > 0 && silent > limit ? { silentMs: silent, limitMs: limit } : null;
    },
    stop,
  };
}
