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
export interface PendingRequests {
  /** Waits for the reply to `entry`; rejects with `timeout` after `timeoutMs` (an unsent request leaves the outbox). */
  track<R>(entry: OutboxEntry, timeoutMs: number): Promise<R>;
  /** These entries went out: their replies will name their sequence numbers. */
  sent(entries: readonly OutboxEntry[]): void;
  /** Rejects the request of an entry that expired unsent; false when the entry was an emit. */
  expired(entry: OutboxEntry, error: RealtimeError): boolean;
  /** Settles the request a reply answers (a reply to nothing waiting is ignored). */
  answer(frame: ReplyFrame): void;
  /** The session was lost: replies to the requests it had acknowledged died with it; the others will be resent. */
  sessionLost(): void;
  /** Rejects every request with `error` and takes them out of the outbox (the client is closing). */
  rejectAll(error: RealtimeError): void;
}

export function createPendingRequests(scheduler: BackoffScheduler, outbox: Outbox): PendingRequests {
  const byEntry = new Map<OutboxEntry, PendingRequest>();
  const bySeq = new Map<number, PendingRequest>();

  const forget = (pending: PendingRequest): void => {
    byEntry.delete(pending.entry);
    if (pending.entry.frame.seq !== 0) bySeq.delete(pending.entry.frame.seq);
  };
  const settle = (pending: PendingRequest, error: RealtimeError | null, value?: unknown): void => {
    pending.cancelTimer();
    forget(pending);
    if (error) pending.reject(error);
    else pending.resolve(value);
  };

  return {
    track<R>(entry: OutboxEntry, timeoutMs: number) {
      return new Promise<R>((resolve, reject) => {
        const pending: PendingRequest = { entry, resolve: resolve as (value: unknown) => void, reject, cancelTimer: () => {} };
        pending.cancelTimer = scheduler.schedule(() => {
          forget(pending);
          outbox.remove(entry); // only if never sent: a sent frame keeps its place in the numbering
          reject(new RealtimeError('timeout', `request "${entry.frame.e}" got no reply within ${timeoutMs} ms`));
        }, timeoutMs);
        byEntry.set(entry, pending);
      });
    },
    sent(entries) {
      for (const entry of entries) {
        const pending = byEntry.get(entry);
        if (pending) bySeq.set(entry.frame.seq, pending);
      }
    },
    expired(entry, error) {
      const pending = byEntry.get(entry);
      if (pending) settle(pending, error);
      return pending !== undefined;
    },
    answer(frame) {
      const pending = bySeq.get(frame.re);
      if (!pending) return;
      const error = frame.err ? new RealtimeError('server_error', `request "${pending.entry.frame.e}" failed: ${frame.err.message}`) : null;
      settle(pending, error, frame.d);
    },
    sessionLost() {
      for (const pending of [...byEntry.values()]) {
        if (!outbox.has(pending.entry)) settle(pending, new RealtimeError('server_error', `the session ended before "${pending.entry.frame.e}" was answered`));
      }
      bySeq.clear();
    },
    rejectAll(error) {
      for (const pending of [...byEntry.values()]) {
        outbox.remove(pending.entry);
        settle(pending, error);
      }
    },
  };
}
