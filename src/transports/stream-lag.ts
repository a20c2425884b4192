/**
 * Notices a proxy that buffers a busy SSE stream (protocol §4, "Noticing a buffering proxy"). Such a stream gets its
 * welcome through, so the open timeout never fires, then arrives in bursts with pauses. The monitor asks the server
 * for an `echo` upstream and times how long the stream takes to bring it back, counted from the moment the POST
 * carrying it was answered: the POST's own round trip is not the stream's fault.
 *
 * Pure bookkeeping: the transport feeds it stream frames and POST answers, and gives it a clock and a timer.
 */

/** An echo still held this long after its POST was answered is a strike: a proxy buffering ~4 KB at a time holds a
 * busy stream 1-2 s, while a direct stream brings the echo back before or with the POST answer. */
export const LAG_LIMIT_MS = 1000;
/**
 * A held echo counts only once the stream has also been silent this long. A buffering proxy holds everything, so the
 * stream goes quiet; a stream still delivering is working through a backlog (a slow link, a slow page), which
 * polling would not serve better.
 */
export const QUIET_MS = 500;
/** Checks on a healthy stream: the first at once, then this far apart, doubling after each healthy check... */
export const FIRST_INTERVAL_MS = 1000;
/** ...up to this: a busy healthy stream costs one extra frame in a POST every 30 s. */
export const MAX_INTERVAL_MS = 30_000;
/** Strikes among the last `WINDOW` checks that fail the stream: one late echo is a hiccup, two are a pattern. */
const STRIKES_TO_FAIL = 2;
const WINDOW = 3;

export interface StreamLagHooks {
  now(): number;
  /** A timer through the transport's scheduler; returns its cancel function. */
  after(callback: () => void, delayMs: number): () => void;
  /** Queue `echo{n}` upstream: it joins whatever goes in the next POST. */
  sendEcho(n: number): void;
  /** The stream is buffered; `message` says what was measured. Called once, after which the monitor is done. */
  buffered(message: string): void;
}

interface Verdict {
  strike: boolean;
  /** How long the echo took after its POST was answered; undefined while it is still held. */
  lagMs: number | undefined;
}

interface Check {
  n: number;
  answeredAt: number | undefined;
  /** Set when the check was judged a strike before its echo arrived. */
  verdict: Verdict | undefined;
  cancelTimer(): void;
}

export class StreamLagMonitor {
  private active = false;
  private done = false;
  private nextN = 1;
  private check: Check | null = null;
  private dueAt = 0;
  private intervalMs = FIRST_INTERVAL_MS;
  private lastStreamAt = 0;
  private readonly verdicts: Verdict[] = [];

  constructor(private readonly hooks: StreamLagHooks) {}

  /** The welcome arrived from a server that answers echoes: the next busy frame starts the first check. */
  start(): void {
    if (this.done) return;
    this.active = true;
    this.dueAt = this.hooks.now();
  }

  /**
   * A frame arrived on the stream. `busy` frames (application traffic) may start a check: the echo goes out right
   * after stream data arrived, so on a buffered stream it waits out the next whole burst. Pings never start one, so
   * a quiet stream costs nothing (the open timeout and heartbeat liveness cover quiet streams).
   */
  streamFrame(busy: boolean): void {
    if (!this.active) return;
    const now = this.hooks.now();
    this.lastStreamAt = now;
    if (!busy || this.check !== null || now < this.dueAt) return;
    this.check = { n: this.nextN++, answeredAt: undefined, verdict: undefined, cancelTimer: noop };
    this.hooks.sendEcho(this.check.n);
  }

  /** The POST that carried `echo{n}` was answered: from now on the stream alone is responsible for the wait. */
  answered(n: number): void {
    const check = this.check;
    if (!this.active || check === null || check.n !== n || check.answeredAt !== undefined) return;
    check.answeredAt = this.hooks.now();
    check.cancelTimer = this.hooks.after(() => this.overdue(check), LAG_LIMIT_MS);
  }

  /** `echo{n}` arrived on the stream. An echo of any other check (a duplicate, an old one) is ignored. */
  echo(n: number): void {
    const check = this.check;
    if (!this.active || check === null || check.n !== n) return;
    const now = this.hooks.now();
    this.lastStreamAt = now;
    check.cancelTimer();
    this.check = null;
    // Before the POST answer is possible (the server writes the echo first): no lag at all.
    const lagMs = check.answeredAt === undefined ? 0 : Math.max(0, now - check.answeredAt);
    if (check.verdict !== undefined) {
      check.verdict.lagMs = lagMs;
      this.intervalMs = FIRST_INTERVAL_MS;
      this.dueAt = now; // after a strike, look again at the next busy frame
      return;
    }
    this.record({ strike: false, lagMs });
    this.dueAt = now + this.intervalMs;
    this.intervalMs = Math.min(this.intervalMs * 2, MAX_INTERVAL_MS);
  }

  /** Releases the timer; nothing is sent or reported afterwards. */
  close(): void {
    this.done = true;
    this.active = false;
    this.check?.cancelTimer();
    this.check = null;
  }

  /** Checks judged so far, oldest first (at most the window). For tests and diagnostics. */
  get recent(): readonly Readonly<Verdict>[] {
    return this.verdicts;
  }

  private overdue(check: Check): void {
    if (!this.active || this.check !== check || check.answeredAt === undefined) return;
    const now = this.hooks.now();
    const quiet = now - this.lastStreamAt;
    if (quiet < QUIET_MS) {
      check.cancelTimer = this.hooks.after(() => this.overdue(check), QUIET_MS - quiet);
      return;
    }
    check.verdict = { strike: true, lagMs: undefined };
    this.record(check.verdict);
    const strikes = this.verdicts.filter((v) => v.strike);
    if (strikes.length < STRIKES_TO_FAIL) return;
    const heldSoFar = now - check.answeredAt;
    const held = strikes.map((v) => (v.lagMs === undefined ? `over ${heldSoFar} ms (still held)` : `${v.lagMs} ms`));
    this.close();
    this.hooks.buffered(
      `stream held echoes back ${held.join(' and ')} after their POST was answered (limit ${LAG_LIMIT_MS} ms): a proxy is buffering it`,
    );
  }

  private record(verdict: Verdict): void {
    this.verdicts.push(verdict);
    if (this.verdicts.length > WINDOW) this.verdicts.shift();
  }
}

function noop(): void {}
