import type { TransportReason } from './lifecycle';

/** What a failed attempt leads to: wait `delayMs`, then try the transport at the walk's (new) `index`. */
export interface WalkStep {
  delayMs: number;
  /** `reopen`: it had opened; `retry`: it had worked before, try it again; `next`: step down; `round`: all failed. */
  kind: 'reopen' | 'retry' | 'next' | 'round';
}

/**
 * The fallback rules as a small state machine (README, "Behaviour"): a transport that never opened hands over to
 * the next at once; one that opened and dropped is reopened with backoff, `retriesPerTransport` times, before the
 * walk steps down (at once if a reopen goes unanswered, or if a proxy buffers the stream); after the last transport,
 * the walk backs off and starts again from the top.
 */
export class FallbackWalk {
  /** Index of the transport to try next. */
  index = 0;
  /** Why that transport is the one tried (reported with the `transport` event when it opens). */
  reason: TransportReason = 'connect';
  /** The current transport has worked before, so it earns retries before the walk steps down. */
  private sticky = false;
  private failures = 0;
  private rounds = 0;

  constructor(
    private readonly count: number,
    private readonly retriesPerTransport: number,
    private readonly backoff: (attempt: number) => number,
    /** Transports the walk passes by for now (stale-strikes.ts); the last one is never passed by. */
    private readonly avoided: (index: number) => boolean = () => false,
  ) {}

  /** A fresh walk from `index` (a remembered transport, or 0). A remembered one gets no retries before it opens. */
  start(index: number): void {
    this.index = this.land(Math.max(0, index));
    this.reason = index > 0 ? 'remembered' : this.index > 0 ? 'fallback' : 'connect';
    this.sticky = false;
    this.failures = 0;
    this.rounds = 0;
  }

  /** The transport at `index` opened. */
  opened(): void {
    this.sticky = true;
    this.failures = 0;
    this.rounds = 0;
  }

  /** The attempt at `index` failed while one started alongside it on a later transport goes on: that one leads now. */
  raced(index: number): void {
    this.index = index;
    this.reason = 'fallback';
    this.sticky = false;
    this.failures = 0;
  }

  /** The session moved to the transport at `index` while open (an upgrade): a later drop reopens that one. */
  moveTo(index: number): void {
    this.index = index;
    this.opened();
  }

  /**
   * The attempt at `index` failed; `opened` says whether it had opened first, `silent` whether it never answered in
   * time. A silent transport is left at once even if it had worked: that is what a proxy that starts buffering looks
   * like, and waiting out its open timeout `retriesPerTransport` more times would keep the app offline for long.
   */
  failed(opened: boolean, silent = false): WalkStep {
    if (opened) {
      this.reason = 'connect';
      return { delayMs: this.backoff(this.failures++), kind: 'reopen' };
    }
    if (this.sticky && !silent && this.failures < this.retriesPerTransport) return { delayMs: this.backoff(this.failures++), kind: 'retry' };
    this.sticky = false;
    this.failures = 0;
    this.index++;
    this.reason = 'fallback';
    if (this.index < this.count) {
      this.index = this.land(this.index);
      return { delayMs: 0, kind: 'next' };
    }
    this.index = this.land(0);
    this.reason = 'connect';
    return { delayMs: this.backoff(this.rounds++), kind: 'round' };
  }

  /**
   * The open transport at `index` works but a proxy holds its stream back (`buffered`): reopening it would only
   * meet the same proxy, so the walk moves to the next transport at once. With none after it, it is reopened as
   * after any drop (the client does not ask for the check then, so this is a fallback of the fallback).
   */
  buffered(): WalkStep {
    if (this.index + 1 >= this.count) return this.failed(true);
    this.sticky = false;
    this.failures = 0;
    this.index = this.land(this.index + 1);
    this.reason = 'fallback';
    return { delayMs: 0, kind: 'next' };
  }

  /** The transport at `index` cannot serve this attempt at all (it cannot carry the credential): move on at once. */
  unusable(): WalkStep {
    return this.failed(false, true);
  }

  /** `index`, or the first transport after it the walk does not pass by. */
  private land(index: number): number {
    while (index < this.count - 1 && this.avoided(index)) index++;
    return index;
  }

  /** A failure that is no transport's fault (the auth provider threw): back off as for a failed round. */
  pause(): number {
    return this.backoff(this.rounds++);
  }
}
