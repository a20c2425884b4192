/**
 * Bytes of upstream POST bodies the process holds while reading them, across every request, and how many bodies each
 * key (a session's connection) has in flight: one connection's many parallel POSTs (its client sends one at a time), or
 * many connections' at once, cannot hold more than this much memory between them.
 */
export class BodyBudget {
  private held = 0;
  private readonly perSession = new Map<string, number>();

  constructor(
    /** Bytes of all bodies being read at once. */
    readonly maxBytes: number,
    /** Bodies one session may have in flight (a connection's POST and the one of the connection replacing it). */
    readonly perSessionMax: number,
  ) {}

  /** Starts a body for `sid`; false when the session already has `perSessionMax` in flight. */
  open(sid: string): boolean {
    const n = this.perSession.get(sid) ?? 0;
    if (n >= this.perSessionMax) return false;
    this.perSession.set(sid, n + 1);
    return true;
  }

  /** Takes `bytes` more; false (nothing taken) when that would pass `maxBytes`. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.maxBytes) return false;
    this.held += bytes;
    return true;
  }

  /** A body of `sid` that held `bytes` is done with (parsed, refused or abandoned). */
  close(sid: string, bytes: number): void {
    this.held -= bytes;
    const n = (this.perSession.get(sid) ?? 1) - 1;
    if (n > 0) this.perSession.set(sid, n);
    else this.perSession.delete(sid);
  }

  get heldBytes(): number {
    return this.held;
  }
}
