import type { ResumeFailure, TransportName, WelcomeFrame } from '../protocol/frames';
import type { Bus, BusMessage, BusTarget } from './bus';
import type { ResolvedOptions } from './options';
import { randomId, Session, type Connection } from './session';
import type { SessionStore } from './session-store';

/** What a handshake asked for, already validated. */
export interface HandshakeParams {
  sid?: string;
  secret?: string;
  last: number;
}

/** A session to resume, or why it cannot be. */
export type Resolution = { ok: true; session: Session } | { ok: false; why: ResumeFailure };

/** Refusal of a new session because its client holds too many (`maxSessionsPerClient`). */
export interface Refusal {
  message: string;
  /** Seconds: the grace period, after which an abandoned session of this client has been freed. */
  retryAfter: number;
}

/** Ids of expired sessions are remembered this long to answer `expired` instead of `unknown_session`. */
const TOMBSTONE_LIMIT = 10_000;

/**
 * Creates, resumes and expires sessions. Owns the grace timers; the one place that knows the handshake rules of
 * protocol §3.
 */
export class SessionManager {
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** id → time it expired. Bounded; entries older than the grace period are pruned on insert. */
  private readonly tombstones = new Map<string, number>();
  /** Sessions per client key (remote address); entries are removed at zero. */
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly opts: ResolvedOptions,
    readonly store: SessionStore,
    private readonly bus: Bus,
    private readonly events: {
      onConnection(session: Session): void;
      onTransport(session: Session, transport: TransportName | null): void;
    },
  ) {}

  resolve(p: HandshakeParams): Resolution {
    if (p.sid === undefined) return { ok: false, why: 'unknown_session' };
    const session = this.store.get(p.sid);
    if (!session || session.ended) return { ok: false, why: this.tombstones.has(p.sid) ? 'expired' : 'unknown_session' };
    if (!session.checkSecret(p.secret ?? '')) return { ok: false, why: 'bad_secret' };
    if (!session.canReplay(p.last)) return { ok: false, why: 'overrun' };
    return { ok: true, session };
  }

  /**
   * May this handshake proceed? A resume that will succeed always may; a handshake that would create a session is
   * refused once `client` already holds `maxSessionsPerClient` sessions.
   */
  admit(p: HandshakeParams, client: string | undefined): Refusal | null {
    if (this.resolve(p).ok) return null;
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
      maxFrame: this.opts.maxFrameBytes,
      echo: true,
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
      conn.send(this.welcome(r.session, conn.cid, true));
      r.session.attach(conn, p.last);
      return r.session;
    }
    const session = this.create(auth, client ?? '');
    const extra: Partial<WelcomeFrame> = p.sid === undefined ? {} : { resumeFailed: r.why };
    conn.send(this.welcome(session, conn.cid, false, extra));
    session.attach(conn, 0);
    this.events.onConnection(session);
    return session;
  }

  private create(auth: unknown, client: string): Session {
    const session = new Session(
      {
        publish: (target: BusTarget, message: BusMessage) => this.bus.publish(target, message),
        onConnectionChange: (s, conn) => this.connectionChanged(s, conn),
        logger: this.opts.logger,
      },
      { maxMessages: this.opts.replayBufferMaxMessages, maxBytes: this.opts.replayBufferMaxBytes },
    );
    session.auth = auth;
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    session.on('disconnect', () => {
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n > 0) this.perClient.set(client, n);
      else this.perClient.delete(client);
      this.forget(session);
    });
    this.store.set(session);
    return session;
  }

  private connectionChanged(session: Session, conn: Connection | null): void {
    this.clearGrace(session.id);
    if (conn === null && !session.ended) {
      const timer = setTimeout(() => {
        this.graceTimers.delete(session.id);
        session.finish('expired');
      }, this.opts.sessionGraceMs);
      timer.unref?.();
      this.graceTimers.set(session.id, timer);
    }
    this.events.onTransport(session, conn?.transport ?? null);
  }

  private forget(session: Session): void {
    this.clearGrace(session.id);
    if (this.store.get(session.id) === session) this.store.delete(session.id);
    const now = Date.now();
    for (const [id, at] of this.tombstones) {
      if (this.tombstones.size < TOMBSTONE_LIMIT && now - at < this.opts.sessionGraceMs) break;
      this.tombstones.delete(id);
    }
    this.tombstones.set(session.id, now);
  }

  private clearGrace(id: string): void {
    const t = this.graceTimers.get(id);
    if (t) clearTimeout(t);
    this.graceTimers.delete(id);
  }

  /** Delivers a bus message to the local sessions it targets. */
  deliver(target: BusTarget, message: BusMessage): void {
    for (const s of this.store.values()) {
      if (s.id === target.except) continue;
      if (target.rooms && !target.rooms.some((r) => s.inRoom(r))) continue;
      s.emit(message.e, message.d);
    }
  }

  /** Ends every session: `close{shutdown}` on each connection, `disconnect('server_close')`, timers cleared. */
  shutdown(): void {
    for (const s of [...this.store.values()]) {
      s.connection?.end({ t: 'close', code: 'shutdown' });
      s.finish('server_close');
    }
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    this.tombstones.clear();
    this.perClient.clear();
  }
}

export const newConnectionId = (): string => randomId(12);
