import type { Bus, BusMessage, BusTarget } from './bus';
import { deliverTo } from './bus-delivery';
import { PreparedMessage } from './prepared-message';
import type { HandshakeParams, ResumeResolver } from './resume-resolver';
import type { Session } from './session';
import type { SessionJournal, SessionSnapshot } from './session-journal';
import { SessionSecret } from './session-secret';
import type { SessionStore } from './session-store';
import type { Logger } from './types';

/** What SessionRestore needs of the session manager. */
export interface RestoreHost {
  readonly store: SessionStore;
  readonly journal: SessionJournal;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly resumes: Pick<ResumeResolver, 'recall'>;
  /** Makes a session of `snapshot` here: counted, stored, waiting for its resume, announced once a connection holds it. */
  adopt(snapshot: SessionSnapshot, client: string): Session;
  /** Ends a restored session before it was announced (its client resyncs). */
  expire(session: Session): void;
  /** Drops this process's copy of a session that lives on elsewhere: no `disconnect`. */
  drop(session: Session, code: 'shutdown' | 'replaced'): void;
}

/**
 * With a journal, brings back a session this process does not hold (it was carried by a process that restarted or
 * died, or another process holds it now) before its handshake runs, and hands it the bus events it missed.
 */
export class SessionRestore {
  constructor(private readonly host: RestoreHost) {}

  /** `false`: the journal or the bus could not be read (the handshake should be retried). */
  async restore(p: HandshakeParams, client: string | undefined, probe = false): Promise<boolean> {
    const { store, journal, logger } = this.host;
    if (p.sid === undefined) return true;
    // A copy here that does not know the secret may be stale: another process rotated it since (it let this copy go,
    // but that word may still be on its way). The journal decides; a secret it does not know either is just wrong.
    const local = store.get(p.sid);
    if (local && (p.secret === undefined || local.knowsSecret(p.secret))) {
      // An overrun ends this copy and tells its client what it accepted: only once those acceptances are recorded.
      // A write that failed meanwhile (another process took the session) let the copy go: the journal decides.
      if (p.secret === undefined || local.canResumeFrom(p.last) || (await local.durable())) return true;
    } else if (local) {
      // Once what this copy wrote is durable (or refused), a journal that knows the secret has it from another writer.
      await local.durable();
    }
    let snapshot: SessionSnapshot | null;
    try {
      // A resume takes the session over before reading it; a probe does not (the live connection keeps it until the
      // probe's `upgrade`).
      snapshot = await journal.load(p.sid, probe ? undefined : p.secret);
    } catch (err) {
      logger.error('session store unreachable; handshake refused for now', { err });
      return false;
    }
    if (!snapshot) return this.host.resumes.recall(p.sid).then(() => true);
    const current = store.get(snapshot.id);
    if (current) {
      // Another handshake restored it meanwhile, or the copy here is right and the secret wrong.
      if (current !== local || !new SessionSecret({ secret: snapshot.secret, previous: snapshot.previousSecret ?? null }).match(p.secret ?? '')) return true;
      logger.debug('copy of a session with a secret rotated elsewhere dropped; restored from the journal', { sid: snapshot.id });
      this.host.drop(current, 'replaced');
    }
    return this.catchUp(this.host.adopt(snapshot, client ?? ''));
  }

  /**
   * Hands a restored session the bus events published since it was last written (its previous carrier died or let
   * it go meanwhile); live events wait until then. Events gone from the bus end the session: its client resyncs
   * rather than miss them. False: the bus could not be read (the handshake should be retried).
   */
  private async catchUp(session: Session): Promise<boolean> {
    const { bus, logger } = this.host;
    const from = session.busPosition;
    if (from === undefined || !bus.catchUp) return true;
    session.catchingUp = true;
    try {
      const deliver = (target: BusTarget, message: BusMessage, position?: string) => deliverTo(session, target, new PreparedMessage(message.e, message.d), position);
      const outcome = await bus.catchUp(from, deliver);
      if (outcome === 'gap') {
        logger.error('events for a restored session are gone from the bus; session ended, its client resyncs', { sid: session.id });
        this.host.expire(session);
      }
      return true;
    } catch (err) {
      logger.error('bus unreadable while restoring a session; handshake refused for now', { sid: session.id, err });
      this.host.drop(session, 'shutdown');
      return false;
    } finally {
      session.catchingUp = false;
    }
  }
}
