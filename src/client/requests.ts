import type { ReplyFrame } from '../protocol/frames';
import { RealtimeError } from './errors';
import type { Outbox, OutboxEntry } from './outbox';
import type { BackoffScheduler } from './scheduler';

interface PendingRequest {
  entry: OutboxEntry;
  resolve(value: unknown): void;
  reject(error: RealtimeError): void;
  cancelTimer(): void;
}

/** The requests waiting for a reply: found by their outbox entry until sent, then by their sequence number. */
export class PendingRequests {
  private readonly byEntry = new Map<OutboxEntry, PendingRequest>();
  private readonly bySeq = new Map<number, PendingRequest>();

  constructor(
    private readonly scheduler: BackoffScheduler,
    private readonly outbox: Outbox,
  ) {}

  /** Waits for the reply to `entry`; rejects with `timeout` after `timeoutMs` (an unsent request leaves the outbox). */
  track<R>(entry: OutboxEntry, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const pending: PendingRequest = { entry, resolve: resolve as (value: unknown) => void, reject, cancelTimer: () => {} };
      pending.cancelTimer = this.scheduler.schedule(() => {
        this.forget(pending);
        this.outbox.remove(entry); // only if never sent: a sent frame keeps its place in the numbering
        reject(new RealtimeError('timeout', `request "${entry.frame.e}" got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.byEntry.set(entry, pending);
    });
  }

  /** These entries went out: their replies will name their sequence numbers. */
  sent(entries: readonly OutboxEntry[]): void {
    for (const entry of entries) {
      const pending = this.byEntry.get(entry);
      if (pending) this.bySeq.set(entry.frame.seq, pending);
    }
  }

  /** Rejects the request of an entry that expired unsent; false when the entry was an emit. */
  expired(entry: OutboxEntry, error: RealtimeError): boolean {
    const pending = this.byEntry.get(entry);
    if (pending) this.settle(pending, error);
    return pending !== undefined;
  }

  /** Settles the request a reply answers (a reply to nothing waiting is ignored). */
  answer(frame: ReplyFrame): void {
    const pending = this.bySeq.get(frame.re);
    if (!pending) return;
    const error = frame.err ? new RealtimeError('server_error', `request "${pending.entry.frame.e}" failed: ${frame.err.message}`) : null;
    this.settle(pending, error, frame.d);
  }

  /** The session was lost: replies to the requests it had acknowledged died with it; the others will be resent. */
  sessionLost(): void {
    for (const pending of [...this.byEntry.values()]) {
      if (!this.outbox.has(pending.entry)) this.settle(pending, new RealtimeError('server_error', `the session ended before "${pending.entry.frame.e}" was answered`));
    }
    this.bySeq.clear();
  }

  /** Rejects every request with `error` and takes them out of the outbox (the client is closing). */
  rejectAll(error: RealtimeError): void {
    for (const pending of [...this.byEntry.values()]) {
      this.outbox.remove(pending.entry);
      this.settle(pending, error);
    }
  }

  private forget(pending: PendingRequest): void {
    this.byEntry.delete(pending.entry);
    if (pending.entry.frame.seq !== 0) this.bySeq.delete(pending.entry.frame.seq);
  }

  private settle(pending: PendingRequest, error: RealtimeError | null, value?: unknown): void {
    pending.cancelTimer();
    this.forget(pending);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }
}
