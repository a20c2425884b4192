import type { Clock } from '../../src/client/scheduler';

/** A clock whose timers run only when the test says (`runAll`), whatever their delay; `armed()` counts those waiting. */
export function steppedClock(): Clock & { runAll(): void; armed(): number } {
  const timers = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout(callback) {
      timers.set(next, callback);
      return next++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    now: () => 0,
    runAll() {
      for (const [id, callback] of [...timers]) if (timers.delete(id)) callback();
    },
    armed: () => timers.size,
  };
}
