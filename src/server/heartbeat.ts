/**
 * One timer for every connection of a handler: each tick calls `beat()` on each. A timer per connection would cost
 * every idle session a timer object, a closure and a callback of its own. Runs only while there are connections.
 */
export class Heartbeat<C extends { beat(): void }> {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly conns: ReadonlySet<C>,
    private readonly intervalMs: number,
  ) {}

  /** A connection joined: make sure the timer runs. */
  start(): void {
    this.timer ??= setInterval(() => {
      if (this.conns.size === 0) return this.stop();
      for (const c of this.conns) c.beat();
    }, this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
