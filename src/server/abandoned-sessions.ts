import type { Logger } from './types';

/** What the budget needs of a session. */
export interface Abandonable {
  readonly id: string;
  readonly retainedBytes: number;
  onRetainedChange: ((delta: number) => void) | undefined;
}

/**
 * The sessions waiting for a resume, abandoned longest ago first, and the memory they hold together (kept up to date
 * as events reach them). Over `maxBytes`, the oldest are handed to `letGo` once the current turn is over (not in the
 * middle of the delivery that grew them).
 */
export class AbandonedSessions<S extends Abandonable> {
  private readonly waiting = new Map<string, S>();
  private bytes = 0;
  private checkQueued = false;

  constructor(
    private readonly maxBytes: number,
    private readonly logger: Logger,
    private readonly letGo: (session: S) => void,
  ) {}

  add(session: S): void {
    if (this.waiting.has(session.id)) return;
    this.waiting.set(session.id, session);
    this.bytes += session.retainedBytes;
    session.onRetainedChange = (delta) => {
      this.bytes += delta;
      this.check();
    };
    this.check();
  }

  delete(session: S): void {
    if (this.waiting.get(session.id) !== session) return;
    this.waiting.delete(session.id);
    this.bytes -= session.retainedBytes;
    session.onRetainedChange = undefined;
  }

  clear(): void {
    for (const s of this.waiting.values()) s.onRetainedChange = undefined;
    this.waiting.clear();
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
