import type { ClientFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import type { Bus, BusMessage, BusTarget } from './bus';
import type { ResolvedOptions } from './options';
import { PreparedMessage } from './prepared-message';
import { SessionBudget } from './session-budget';
import { ResumeResolver, type HandshakeParams, type Resolution } from './resume-resolver';
import { JoinRegistry } from './join-registry';
import { Session } from './session';
import type { SessionStore } from './session-store';
import { SessionMovedError, type SessionJournal, type SessionSnapshot } from './session-journal';
import type { Connection } from './types';
import { ClientQuota, type Refusal } from './client-quota';
import { GraceTimers } from './grace-timers';
import { InboxDrain } from './inbox-drain';
import { SessionRestore } from './session-restore';
import { deliverTo } from './bus-delivery';
import { welcomeFrame } from './welcome-frame';

export type { HandshakeParams, Resolution } from './resume-resolver';
export type { Refusal } from './client-quota';
export { newConnectionId } from './ids';

/**
 * Creates, resumes and expires sessions: the one place that knows the handshake rules of protocol §3, and the
 * lifetime of a session here (grace period, memory budget, being let go to another process).
 */
export class SessionManager {
  private readonly grace: GraceTimers;
  /** What a handshake resumes, or why not and what the old session accepted (it remembers sessions that ended). */
  private readonly resumes: ResumeResolver;
  /** Sessions per client key (remote address), under `maxSessionsPerClient`. */
  private readonly quota: ClientQuota;
  /** Events other processes queued for sessions held here. */
  private readonly inbox: InboxDrain;
  /** With a journal: sessions carried by another process (or a previous one) brought back here. */
  private readonly restorer: SessionRestore | undefined;
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
    this.grace = new GraceTimers(opts.sessionGraceMs);
    this.quota = new ClientQuota(opts);
    this.inbox = new InboxDrain(store, journal, (session, err) => this.letGo(session, err));
    this.restorer = journal && this.newRestore(journal);
  }

  private newRestore(journal: SessionJournal): SessionRestore {
    return new SessionRestore({
      store: this.store,
      journal,
      bus: this.bus,
      logger: this.opts.logger,
      resumes: this.resumes,
      adopt: (snapshot, client) => {
        const session = this.create(snapshot.auth, client, snapshot);
        this.unannounced.add(session.id);
        this.connectionChanged(session, null); // waits for its resume under the grace timer, like any other
        return session;
      },
      expire: (session) => {
        this.unannounced.delete(session.id);
        session.finish('expired');
      },
      drop: (session, code) => this.drop(session, code),
    });
  }

  /**
   * With a journal, brings back a session this process does not hold (it was carried by a process that restarted
   * or died) before its handshake runs. `false`: the journal could not be read (the handshake should be retried).
   */
  restore(p: HandshakeParams, client: string | undefined, probe = false): Promise<boolean> {
    return this.restorer ? this.restorer.restore(p, client, probe) : Promise.resolve(true);
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
    return this.quota.check(client);
  }

  /** The `welcome` a handshake on connection `cid` is answered with. */
  welcome(session: Session, cid: string, resumed: boolean, extra: Partial<WelcomeFrame> = {}): WelcomeFrame {
    return welcomeFrame(this.opts, session, cid, resumed, extra);
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
    this.quota.add(session.id, client);
    session.on('disconnect', () => {
      this.quota.release(session.id);
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

  private connectionChanged(session: Session, conn: Connection | null): void {
    this.grace.clear(session.id);
    if (conn === null) this.budget.setExtra(session, 0); // a polling connection's queue went with it
    else this.budget.heard(session);
    if (conn !== null) {
      // A restored session is announced when a connection first holds it here, by a handshake or by an upgrade probe
      // (a probe can restore a session on another node too), so its handlers are registered before any frame runs.
      if (this.unannounced.delete(session.id)) this.events.onConnection(session);
      this.drain(session.id); // events queued while no process held it
    }
    if (conn === null && !session.ended) this.grace.start(session.id, () => this.expire(session));
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
    this.inbox.drain(sid);
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
    this.grace.clear(session.id);
    if (this.store.get(session.id) === session) this.store.delete(session.id);
    this.unannounced.delete(session.id);
    this.quota.release(session.id);
    this.budget.delete(session);
  }

  private forget(session: Session): void {
    this.budget.delete(session);
    this.grace.clear(session.id);
    if (this.store.get(session.id) === session) this.store.delete(session.id);
    this.resumes.remember(session);
  }

  /** Delivers a bus message to the local sessions it targets (those catching up get it from their catch-up). */
  deliver(target: BusTarget, message: BusMessage, position?: string): void {
    const prepared = new PreparedMessage(message.e, message.d);
    for (const s of this.store.values()) if (!s.catchingUp) deliverTo(s, target, prepared, position);
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
    this.grace.clearAll();
    this.resumes.clear();
    this.quota.clear();
    this.unannounced.clear();
    this.budget.clear();
  }
}
