import type { ResumeFailure, WelcomeFrame } from '../protocol/frames';
import { EndedSessions } from './ended-sessions';
import type { Session } from './session';
import type { SessionJournal } from './session-journal';
import type { SessionStore } from './session-store';
import type { Logger } from './types';

/** What a handshake asked for, already validated. */
export interface HandshakeParams {
  sid?: string;
  secret?: string;
  last: number;
  /**
   * The client's join key: handshakes racing each other with one key and the same credentials share the session the
   * first one created, for a few seconds (JoinRegistry).
   */
  join?: string;
}

/** A session to resume, or why it cannot be (and, to the holder of its secret, the last client seq it accepted). */
export type Resolution = { ok: true; session: Session } | { ok: false; why: ResumeFailure; prevAck?: number };

/**
 * Which session a handshake resumes, and what a refused one is told (protocol §3): with the old session's secret, what
 * it accepted (`prevAck`), read from the live session, from the sessions that ended here, or from the journal's record
 * of one that ended elsewhere. A wrong secret learns nothing.
 */
export class ResumeResolver {
  private readonly ended: EndedSessions;

  constructor(
    private readonly store: SessionStore,
    limits: { windowMs: number; maxCount: number },
    private readonly logger: Logger,
    private readonly journal?: SessionJournal,
  ) {
    this.ended = new EndedSessions(limits);
  }

  /** Changes nothing: the secret is used by the handshake, or by the probe once resolved. */
  resolve(p: HandshakeParams, probe = false): Resolution {
    if (p.sid === undefined) return { ok: false, why: 'unknown_session' };
    const session = this.store.get(p.sid);
    if (!session || session.ended) {
      const ended = this.ended.lookup(p.sid, p.secret ?? '');
      if (!ended) return { ok: false, why: 'unknown_session' };
      return ended.accepted === undefined ? { ok: false, why: 'expired' } : { ok: false, why: 'expired', prevAck: ended.accepted };
    }
    if (!session.knowsSecret(p.secret ?? '')) return { ok: false, why: 'bad_secret' };
    // A probe replays nothing (its `upgrade` frame carries the `last` that matters), so its `last` is not checked.
    if (!probe && !session.canResumeFrom(p.last)) return { ok: false, why: 'overrun', prevAck: session.accepted };
    return { ok: true, session };
  }

  /**
   * What a welcome says of a refused resume. After an overrun the old session's connection (one its client left) is
   * closed: what it carries no longer reaches the session, whose `accepted` the welcome reports.
   */
  refusal(p: HandshakeParams, r: Resolution & { ok: false }): Partial<WelcomeFrame> {
    if (p.sid === undefined) return {};
    const old = r.why === 'overrun' ? this.store.get(p.sid) : undefined;
    const conn = old?.connection;
    if (conn) {
      conn.end({ t: 'close', code: 'replaced' });
      old!.detach(conn);
    }
    return r.prevAck === undefined ? { resumeFailed: r.why } : { resumeFailed: r.why, prevAck: r.prevAck };
  }

  /** The session ended here: a later handshake naming it is told `expired`, and with its secret what it accepted. */
  remember(session: Session): void {
    this.ended.remember(session.id, session.accepted, session.resumeSecrets);
  }

  /** The journal's record of a session that ended (on any process), remembered here for `resolve`. */
  async recall(sid: string): Promise<void> {
    if (this.store.get(sid) || !this.journal?.loadEnded) return;
    try {
      const ended = await this.journal.loadEnded(sid);
      if (ended) this.ended.remember(sid, ended.accepted, ended.secrets);
    } catch (err) {
      this.logger.warn('ended session unreadable from the store; its client may re-send what it ran', { sid, err });
    }
  }

  clear(): void {
    this.ended.clear();
  }
}
