import type { Session } from './session';
import type { SessionJournal } from './session-journal';
import type { SessionStore } from './session-store';

/** Inbox entries numbered per batch: each batch is one append, durable before the next is read. */
export const INBOX_BATCH = 100;

/**
 * Numbers and sends what other processes queued for sessions this process holds (their journal inbox), one batch at a
 * time and one drain per session at once.
 */
export class InboxDrain {
  /** Sessions whose inbox is being drained; true: more was announced meanwhile, drain again. */
  private readonly draining = new Map<string, boolean>();

  constructor(
    private readonly store: SessionStore,
    private readonly journal: SessionJournal | undefined,
    /** The journal failed: the session is let go. */
    private readonly failed: (session: Session, err: unknown) => void,
  ) {}

  drain(sid: string): void {
    const session = this.store.get(sid);
    const journal = this.journal;
    if (!session || !journal || session.ended || session.lastCid === undefined) return;
    if (this.draining.has(sid)) {
      this.draining.set(sid, true); // again, once this batch is durable
      return;
    }
    this.draining.set(sid, false);
    void (async () => {
      try {
        for (;;) {
          const texts = await journal.readInbox(sid, INBOX_BATCH);
          if (session.ended || texts.length === 0) break;
          session.deliverFromInbox(texts);
          if (!(await session.durable())) break;
          if (texts.length < INBOX_BATCH && !this.draining.get(sid)) break;
          this.draining.set(sid, false);
        }
      } catch (err) {
        this.failed(session, err);
      } finally {
        this.draining.delete(sid);
      }
    })();
  }
}
