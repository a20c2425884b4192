import type { Logger } from './types';

/** What the budget needs of a session. */
export interface Abandonable {
  readonly id: string;
  readonly retainedBytes: number;
  onRetainedChange: ((delta: number) => void) | undefined;
}

/**
 * The sessions waiting for their client, waiting longest first, and the memory they hold together (kept up to date as
 * events reach them). A session waits when it has no connection (for a resume), or a polling connection with no poll
 * held (its client may never poll again): then what is queued for that connection counts too. Over `maxBytes`, the
 * longest waiting are handed to `letGo` once the current turn is over (not in the middle of the delivery that grew
 * them); a client that is being served is never among them.
 */
export class AbandonedSessions<S extends Abandonable> {
  private readonly waiting = new Map<string, S>();
  /** Bytes held for a waiting session beyond its own (a polling connection's queue). */
  private readonly extra = new Map<string, number>();
  private bytes = 0;
  private checkQueued = false;

  constructor(
    private readonly maxBytes: number,
    private readonly logger: Logger,
    private readonly letGo: (session: S) => void,
  ) {}

  /** `session` waits, with `extra` bytes held for it elsewhere (a waiting session's extra is set to it). */
  add(session: S, extra = 0): void {
    if (this.waiting.get(session.id) === session) return this.charge(session, extra - (this.extra.get(session.id) ?? 0));
    this.waiting.set(session.id, session);
    this.extra.set(session.id, extra);
    this.bytes += session.retainedBytes + extra;
    session.onRetainedChange = (delta) => {
      this.bytes += delta;
      this.check();
    };
    this.check();
  }

  /** More (or fewer) bytes held for a waiting session elsewhere. */
  charge(session: S, delta: number): void {
    if (this.waiting.get(session.id) !== session || delta === 0) return;
    this.extra.set(session.id, this.extra.get(session.id)! + delta);
    this.bytes += delta;
    this.check();
  }

  delete(session: S): void {
    if (this.waiting.get(session.id) !== session) return;
    this.waiting.delete(session.id);
    this.bytes -= session.retainedBytes + this.extra.get(session.id)!;
    this.extra.delete(session.id);
    session.onRetainedChange = undefined;
  }

  clear(): void {
    for (const s of this.waiting.values()) s.onRetainedChange = undefined;
    this.waiting.clear();
    this.extra.clear();
    this.bytes = 0;
  }

  private check(): void {
    if (this.checkQueued || this.bytes <= this.maxBytes) return;
    this.checkQueued = true;
    queueMicrotask(() => {
      this.checkQueued = false;
      let evicted = 0;
      for (const session of this.waiting.values()) {
        if (this.bytes <= this.maxBytes) break;
        this.delete(session);
        evicted++;
        this.letGo(session);
      }
      if (evicted > 0) {
        this.logger.warn('sessions waiting for a resume over abandonedSessionsMaxBytes; the oldest let go', {
          evicted,
          waiting: this.waiting.size,
          bytes: this.bytes,
          limit: this.maxBytes,
        });
      }
    });
  }
}
