/** One timer per session that waits for a resume: the grace period after its connection dropped. */
export class GraceTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly graceMs: number) {}

  /** Starts `sid`'s grace period (after clearing one running); `expire` runs when it is over. */
  start(sid: string, expire: () => void): void {
    this.clear(sid);
    const timer = setTimeout(() => {
      this.timers.delete(sid);
      expire();
    }, this.graceMs);
    timer.unref?.();
    this.timers.set(sid, timer);
  }

  clear(sid: string): void {
    const t = this.timers.get(sid);
    if (t) clearTimeout(t);
    this.timers.delete(sid);
  }

  clearAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
