/**
 * A floor under every retry: at most `MAX_ATTEMPTS_PER_WINDOW` connection attempts start in any `WINDOW_MS`, whatever
 * the delays asked for (a `Retry-After: 0`, an SSE `retry: 0`, a server that welcomes and drops at once). A normal
 * failover (WebSocket refused, SSE at once; a race) stays well inside it; a server answering every attempt with an
 * immediate error cannot make the client loop fast.
 */
export const MAX_ATTEMPTS_PER_WINDOW = 4;
export const WINDOW_MS = 1000;

export interface AttemptWindow {
  /** An attempt started now. */
  started(now: number): void;
  /** How long the next attempt must wait, at least, to stay within the window. */
  wait(now: number): number;
}

export function createAttemptWindow(): AttemptWindow {
  /** Start times of the most recent attempts, oldest first, at most `MAX_ATTEMPTS_PER_WINDOW`. */
  const starts: number[] = [];
  return {
    started(now) {
      starts.push(now);
      if (starts.length > MAX_ATTEMPTS_PER_WINDOW) starts.shift();
    },
    wait(now) {
      return starts.length < MAX_ATTEMPTS_PER_WINDOW ? 0 : Math.max(0, starts[0]! + WINDOW_MS - now);
    },
  };
}
