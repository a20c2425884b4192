import type { ClientFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import { targets, type Bus, type BusMessage, type BusTarget } from './bus';
import type { ResolvedOptions } from './options';
import { PreparedMessage } from './prepared-message';
import { SessionBudget } from './session-budget';
import { ResumeResolver, type HandshakeParams, type Resolution } from './resume-resolver';
import { JoinRegistry } from './join-registry';
import { SessionSecret } from './session-secret';
import { Session } from './session';
import { randomId } from './ids';
import type { SessionStore } from './session-store';
import { SessionMovedError, type SessionJournal, type SessionSnapshot } from './session-journal';
import type { Connection } from './types';

export type { HandshakeParams, Resolution } from './resume-resolver';

/** Refusal of a new session because its client holds too many (`maxSessionsPerClient`). */
export interface Refusal {
  message: string;
  /** Seconds: the grace period, after which an abandoned session of this client has been freed. */
  retryAfter: number;
}

/** Inbox entries numbered per batch: each batch is one append, durable before the next is read. */
const INBOX_BATCH = 100;

/**
 * Creates, resumes and expires sessions. Owns the grace timers; the one place that knows the handshake rules of
 * protocol §3.
 */
export class SessionManager {
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** What a handshake resumes, or why not and what the old session accepted (it remembers sessions that ended). */
  private readonly resumes: ResumeResolver;
  /** Sessions per client key (remote address); entries are removed at zero. */
  private readonly perClient = new Map<string, number>();
  /** Sessions whose inbox is being drained; true: more was announced meanwhile, drain again. */
  private readonly draining = new Map<string, boolean>();
  /** The client key each live session counts against. */
  private readonly clientOf = new Map<string, string>();
  /** Restored sessions whose `connection` event has not fired yet (it fires once their handshake completes). */
  private readonly unannounced = new Set<string>();
  /** Sessions created here that their client's racing handshakes may still join. */
  private readonly joins = new JoinRegistry();
  /**
   * Every session's memory, under `sessionsMaxBytes`: over it, the ones whose clients went quiet longest ago end
   * without a journal (their client resyncs if it returns); with one, only this copy goes (restored on a resume).
   */
  private readonly budget: SessionBudget<Session>;

  constructor(
    private readonly opts: ResolvedOptions,
    readonly store: SessionStore,
    private readonly bus: Bus,
    private readonly events: {
      onConnection(session: Session): void;
      onTransport(session: Session, transport: TransportName | null): void;
    },
    /** Where sessions are written as they change (an adapter); without one, sessions live in memory only. */
    private readonly journal?: SessionJournal,
  ) {
    journal?.readPositions?.((sid) => this.store.get(sid)?.busPosition);
    const remembered = { windowMs: opts.endedSessionMemoryMs, maxCount: opts.endedSessionMemoryMax };
    this.resumes = new ResumeResolver(store, remembered, opts.logger, journal);
    this.budget = new SessionBudget(opts.sessionsMaxBytes, opts.logger, (session) => {
      if (this.journal) return this.drop(session, 'shutdown');
      const conn = session.connection;
      session.finish('expired');
      conn?.end({ t: 'close', code: 'session_ended' });
    });
  }

  /**
   * With a journal, brings back a session this process does not hold (it was carried by a process that restarted
   * or died) before its handshake runs. `false`: the journal could not be read (the handshake should be retried).
   */
  async restore(p: HandshakeParams, client: string | undefined, probe = false): Promise<boolean> {
    if (!this.journal || p.sid === undefined) return true;
    // A copy here that does not know the secret may be stale: another process rotated it since (it let this copy go,
    // but that word may still be on its way). The journal decides; a secret it does not know either is just wrong.
    const local = this.store.get(p.sid);
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
      snapshot = await this.journal.load(p.sid, probe ? undefined : p.secret);
    } catch (err) {
      this.opts.logger.error('session store unreachable; handshake refused for now', { err });
      return false;
    }
    if (!snapshot) return this.resumes.recall(p.sid).then(() => true);
    const current = this.store.get(snapshot.id);
    if (current) {
      // Another handshake restored it meanwhile, or the copy here is right and the secret wrong.
      if (current !== local || !new SessionSecret({ secret: snapshot.secret, previous: snapshot.previousSecret ?? null }).match(p.secret ?? '')) return true;
      this.opts.logger.debug('copy of a session with a secret rotated elsewhere dropped; restored from the journal', { sid: snapshot.id });
      this.drop(current, 'replaced');
    }
    const session = this.create(snapshot.auth, client ?? '', snapshot);
    this.unannounced.add(session.id);
    this.connectionChanged(session, null); // waits for its resume under the grace timer, like any other
    return this.catchUp(session);
  }

  /**
   * Hands a restored session the bus events published since it was last written (its previous carrier died or let
   * it go meanwhile); live events wait until then. Events gone from the bus end the session: its client resyncs
   * rather than miss them. False: the bus could not be read (the handshake should be retried).
   */
  private async catchUp(session: Session): Promise<boolean> {
    const from = session.busPosition;
    if (from === undefined || !this.bus.catchUp) return true;
    session.catchingUp = true;
    try {
      const deliver = (target: BusTarget, message: BusMessage, position?: string) => this.deliverTo(session, target, new PreparedMessage(message.e, message.d), position);
      const outcome = await this.bus.catchUp(from, deliver);
      if (outcome === 'gap') {
        this.opts.logger.error('events for a restored session are gone from the bus; session ended, its client resyncs', { sid: session.id });
        this.unannounced.delete(session.id);
        session.finish('expired');
      }
      return true;
    } catch (err) {
      this.opts.logger.error('bus unreadable while restoring a session; handshake refused for now', { sid: session.id, err });
      this.drop(session, 'shutdown');
      return false;
    } finally {
      session.catchingUp = false;
    }
  }

  /**
   * The session a handshake's `sid` and `secret` would resume (probes resume by id only). Changes nothing: the
   * secret is used by `connect`, or by the probe once resolved.
   */
  resolve(p: HandshakeParams, probe = false): Resolution {
    return this.resumes.resolve(p, probe);
  }

  /**
   * May this handshake proceed? A resume or a join that will succeed always may; a handshake that would create a
   * session is refused once `client` already holds `maxSessionsPerClient` sessions. `auth`: what `authenticate`
   * returned for it.
   */
  admit(p: HandshakeParams, auth: unknown, client: string | undefined): Refusal | null {
    if (this.resolve(p).ok || this.joins.find(p.join, auth)) return null;
    if ((this.perClient.get(client ?? '') ?? 0) < this.opts.maxSessionsPerClient) return null;
    this.opts.logger.warn('too many sessions for one client; handshake refused', { client, limit: this.opts.maxSessionsPerClient });
    return {
      message: `too many sessions for this client (limit ${this.opts.maxSessionsPerClient})`,
      retryAfter: Math.max(1, Math.ceil(this.opts.sessionGraceMs / 1000)),
    };
  }

  welcome(session: Session, cid: string, resumed: boolean, extra: Partial<WelcomeFrame> = {}): WelcomeFrame {
    return {
      t: 'welcome',
      sid: session.id,
      secret: session.secret,
      cid,
      hb: this.opts.heartbeatMs,
      resumed,
      ack: session.accepted,
      maxFrame: this.opts.maxMessageBytes,
      echo: true,
      head: session.lastFrameId,
      ...extra,
    };
  }

  /**
   * Runs a handshake on `conn`: resumes or creates the session, sends `welcome`, makes `conn` active and replays.
   * The `connection` event of a new session fires after the welcome, so what it emits follows the welcome.
   */
  connect(p: HandshakeParams, conn: Connection, auth: unknown, client?: string): Session {
    const r = this.resolve(p);
    if (r.ok) {
      r.session.resumeWith(p.secret ?? ''); // a fresh secret for this welcome
      // The welcome's `ack`, its secret and the replay go out only once durable, like everything the client sees.
      const welcome = this.welcome(r.session, conn.cid, true);
      r.session.afterDurable(() => conn.send(welcome));
      r.session.attach(conn, p.last);
      return r.session;
    }
    // A racing handshake of the client that created it (the client may never have seen it: welcomed as new). It takes
    // the session's connection over, as a resume does: the one the client waits on may be the one that hangs.
    const extra = this.resumes.refusal(p, r);
    if (p.sid !== undefined) this.opts.logger.debug('resume refused', { sid: p.sid, why: r.why, transport: conn.transport });
    const joined = this.joins.find(p.join, auth);
    if (joined) {
      const welcome = this.welcome(joined, conn.cid, false, extra);
      joined.afterDurable(() => conn.send(welcome));
      joined.attach(conn, 0);
      return joined;
    }
    const session = this.create(auth, client ?? '');
    this.joins.add(p.join, auth, session);
    const welcome = this.welcome(session, conn.cid, false, extra);
    session.afterDurable(() => conn.send(welcome));
    session.attach(conn, 0);
    this.events.onConnection(session);
    return session;
  }

  private create(auth: unknown, client: string, snapshot?: SessionSnapshot): Session {
    const session = new Session(
      {
        publish: (target: BusTarget, message: BusMessage) => this.bus.publish(target, message),
        onConnectionChange: (s, conn) => this.connectionChanged(s, conn),
        caughtUp: (s) => this.budget.heard(s),
        logger: this.opts.logger,
        maxMessageBytes: this.opts.maxMessageBytes,
        ...(this.journal ? { journal: this.journal, onJournalFailure: (s: Session, err: unknown) => this.letGo(s, err) } : {}),
      },
      { maxMessages: this.opts.replayBufferMaxMessages, maxBytes: this.opts.replayBufferMaxBytes },
      snapshot,
    );
    if (!snapshot) {
      session.auth = auth;
      session.busPosition = this.bus.position?.();
      const busPosition = session.busPosition === undefined ? {} : { busPosition: session.busPosition };
      this.journal?.created({ id: session.id, secret: session.secret, auth, ...busPosition });
    }
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.clientOf.set(session.id, client);
    session.on('disconnect', () => {
      this.releaseClient(session);
      this.joins.remove(session);
      this.forget(session);
    });
    this.store.set(session);
    this.budget.add(session);
    return session;
  }

  /**
   * The journal failed: this process can no longer promise that what it sends is durable, so it stops carrying the
   * session (no `disconnect`: the session is not over). The client resumes and is restored from the journal once it
   * works again; nothing it was shown was lost, since nothing undurable was shown.
   */
  private letGo(session: Session, err: unknown): void {
    if (session.ended) return;
    if (err instanceof SessionMovedError) {
      this.opts.logger.debug('session moved to another process; copy dropped', { sid: session.id, why: err.message });
      return this.drop(session, 'replaced');
    }
    this.opts.logger.error('session store write failed; session let go until its client resumes', { sid: session.id, err });
    this.drop(session, 'shutdown');
  }

  /** The session no longer counts against its client's `maxSessionsPerClient`. */
  private releaseClient(session: Session): void {
    const client = this.clientOf.get(session.id);
    if (client === undefined) return;
    this.clientOf.delete(session.id);
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n > 0) this.perClient.set(client, n);
    else this.perClient.delete(client);
  }

  private connectionChanged(session: Session, conn: Connection | null): void {
    this.clearGrace(session.id);
    if (conn === null) this.budget.setExtra(session, 0); // a polling connection's queue went with it
    else this.budget.heard(session);
    if (conn !== null) {
      // A restored session is announced when a connection first holds it here, by a handshake or by an upgrade probe
      // (a probe can restore a session on another node too), so its handlers are registered before any frame runs.
      if (this.unannounced.delete(session.id)) this.events.onConnection(session);
      this.drain(session.id); // events queued while no process held it
    }
    if (conn === null && !session.ended) {
      const timer = setTimeout(() => {
        this.graceTimers.delete(session.id);
        this.expire(session);
      }, this.opts.sessionGraceMs);
      timer.unref?.();
      this.graceTimers.set(session.id, timer);
    }
    this.events.onTransport(session, conn?.transport ?? null);
  }

  /**
   * The grace period ran out. With a journal the session ends only if no connection took it elsewhere meanwhile;
   * otherwise this copy is simply dropped (no `disconnect`: the session lives on).
   */
  private expire(session: Session): void {
    const journal = this.journal;
    if (!journal) return session.finish('expired');
    const cid = session.lastCid;
    const ended = cid === undefined ? Promise.resolve(false) : journal.expire(session.id, cid);
    ended.then(
      (here) => {
        if (session.connection) return; // a client resumed here meanwhile
        this.opts.logger.debug(here ? 'session ended: grace period over' : 'session copy dropped: grace period over', { sid: session.id });
        if (here) session.finish('expired');
        else this.drop(session, 'shutdown');
      },
      (err: unknown) => this.letGo(session, err),
    );
  }

  /** A poll arrived on `session`'s polling connection: its client is there. */
  pollArrived(session: Session, conn: Connection): void {
    if (session.connection !== conn) return;
    this.budget.heard(session);
    this.budget.setExtra(session, 0);
  }

  /**
   * `session`'s polling connection holds no poll now, `queued` bytes waiting for one: they count as the session's
   * until a poll takes them (its client may never poll again).
   */
  pollIdle(session: Session, conn: Connection, queued: number): void {
    if (session.connection === conn) this.budget.setExtra(session, queued);
  }

  pollQueued(session: Session, delta: number): void {
    this.budget.charge(session, delta);
  }

  /** Another process took the session over from our connection `cid`: let our copy go (its connection: `replaced`). */
  released(sid: string, cid: string): void {
    const session = this.store.get(sid);
    if (session && session.lastCid === cid) this.drop(session, 'replaced');
  }

  /** Numbers and sends what other processes queued for a session this process holds, one batch at a time. */
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
        this.letGo(session, err);
      } finally {
        this.draining.delete(sid);
      }
    })();
  }

  /**
   * Upstream frames for a session held here on connection `cid` (a POST, received here or by another process):
   * applied, and the `ack` to answer once durable; null when `cid` is not its active connection here or `secret` is
   * not good (checked here, by the holder, whichever process received the POST).
   */
  async upstream(sid: string, secret: string, cid: string, frames: readonly ClientFrame[]): Promise<number | null> {
    const session = this.store.get(sid);
    if (!session || session.ended || session.connection?.cid !== cid || !session.checkSecret(secret)) return null;
    for (const f of frames) session.receive(f);
    const n = session.accepted;
    // The client forgets what is acknowledged: with an adapter, not before the acceptance is durable.
    return (await session.durable()) ? n : null;
  }

  /** Drops this process's copy of a session that lives on elsewhere: no `disconnect`. */
  private drop(session: Session, code: 'shutdown' | 'replaced'): void {
    this.joins.remove(session);
    session.release(code);
    this.journal?.dropped?.(session.id);
    this.clearGrace(session.id);
    if (this.store.get(session.id) === session) this.store.delete(session.id);
    this.unannounced.delete(session.id);
    this.releaseClient(session);
    this.budget.delete(session);
  }

  private forget(session: Session): void {
    this.budget.delete(session);
    this.clearGrace(session.id);
    if (this.store.get(session.id) === session) this.store.delete(session.id);
    this.resumes.remember(session);
  }

  private clearGrace(id: string): void {
    const t = this.graceTimers.get(id);
    if (t) clearTimeout(t);
    this.graceTimers.delete(id);
  }

  /** Delivers a bus message to the local sessions it targets (those catching up get it from their catch-up). */
  deliver(target: BusTarget, message: BusMessage, position?: string): void {
    const prepared = new PreparedMessage(message.e, message.d);
    for (const s of this.store.values()) if (!s.catchingUp) this.deliverTo(s, target, prepared, position);
  }

  /**
   * With a position, each session takes each bus event once: one it already took (it was restored from a carrier
   * that had read further than this process) is passed over, and the journal records how far it got.
   */
  private deliverTo(s: Session, target: BusTarget, message: PreparedMessage, position?: string): void {
    if (position !== undefined) {
      if (s.busPosition !== undefined && s.busPosition >= position) return;
      s.busPosition = position;
    }
    if (targets(target, s)) s.emitPrepared(message);
  }

  /** The bus lost events before this process read them: every session here may lack some, so all are let go. */
  busLost(): void {
    for (const s of [...this.store.values()]) this.drop(s, 'shutdown');
  }

  /**
   * Ends every session: `close{shutdown}` on each connection, `disconnect('server_close')`, timers cleared. With a
   * journal the sessions are let go instead, not ended: their clients resume on the next process (a deploy), so no
   * `disconnect` fires.
   */
  shutdown(): void {
    for (const s of [...this.store.values()]) {
      if (this.journal) {
        s.release();
        this.store.delete(s.id);
        continue;
      }
      s.connection?.end({ t: 'close', code: 'shutdown' });
      s.finish('server_close');
    }
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    this.resumes.clear();
    this.perClient.clear();
    this.clientOf.clear();
    this.unannounced.clear();
    this.budget.clear();
  }
}

export const newConnectionId = (): string => randomId(12);
