import type { SessionJournal } from './session-journal';

/**
 * Holds back what a session's client would see (a frame, an ack, a welcome) until everything the session wrote so far
 * is durable, at once without a journal: the client must never get ahead of what another process could carry on from.
 */
export class DurableGate {
  /** The journal's last answer to `durable`, and what waits for it. */
  private lastDurable: Promise<void> | undefined;
  private group: (() => void)[] = [];

  constructor(
    private readonly sid: string,
    private readonly journal: SessionJournal | undefined,
    /** A write failed: the session is let go (nothing waiting runs). */
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Runs `send` once everything written so far is durable. */
  after(send: () => void): void {
    const journal = this.journal;
    if (!journal) return send();
    // The journal answers the same promise for everything written in one turn: one reaction per turn, not per frame.
    const durable = journal.durable(this.sid);
    if (durable === this.lastDurable) {
      this.group.push(send);
      return;
    }
    const group = [send];
    this.lastDurable = durable;
    this.group = group;
    durable.then(
      () => {
        for (const f of group) f();
      },
      (err: unknown) => this.onFailure(err),
    );
  }

  /** Resolves true once durable, false if the journal failed (the session is being let go then). */
  durable(): Promise<boolean> {
    return new Promise((resolve) => {
      const journal = this.journal;
      if (!journal) return resolve(true);
      journal.durable(this.sid).then(
        () => resolve(true),
        (err: unknown) => {
          this.onFailure(err);
          resolve(false);
        },
      );
    });
  }
}
