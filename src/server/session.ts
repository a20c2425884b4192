import type { ClientFrame, SequencedFrame, TransportName } from '../protocol/frames';
import type { PreparedMessage } from './prepared-message';
import { SessionSecret, type SessionSecrets } from './session-secret';
import type { SessionSnapshot } from './session-journal';
import type { Connection, DisconnectReason, EventHandler } from './types';
import { Broadcaster } from './broadcaster';
import { ClientFrameIntake } from './client-frame-intake';
import { randomId } from './ids';
import type { SessionHooks, SessionState } from './session-hooks';
import { DurableGate } from './durable-gate';
import { SessionHandlers } from './session-handlers';
import { SessionOutbox } from './session-outbox';

/**
 * What a session costs besides its replay buffer (its objects, maps, ids, its polling connection): measured about
 * 6.2 KB per session made by a polling handshake (heap after GC over 1,000), rounded up.
 */
const SESSION_OVERHEAD = 8192;

/**
 * One client's session: survives dropped connections for the grace period and transport switches.
 * Outbound `msg`/`reply` frames are numbered and kept until acknowledged; inbound `emit`/`req` frames run once.
 */
export class Session {
  /** Stable id (≥ 128 random bits). */
  readonly id: string;
  /** What `authenticate` returned for the handshake that created the session (`true` when there is no hook). */
  auth: unknown = true;
  /**
   * True when this process carries on a session written by another one (a restart, another node): the app's
   * `connection` handler runs again for it, and can tell by this flag.
   */
  readonly restored: boolean;
  /** Rooms joined (the implicit room named after `id` is not listed). */
  readonly rooms = new Set<string>();
  private readonly secrets: SessionSecret;
  private conn: Connection | null = null;
  /** The frames sent to the client, numbered and held until acknowledged. */
  private readonly outbox: SessionOutbox;
  private readonly handlers = new SessionHandlers();
  private readonly gate: DurableGate;
  private readonly intake: ClientFrameIntake;
  private endedReason: DisconnectReason | null = null;
  /** Let go by this process without ending (its journal failed, or another process took it over). */
  private released = false;
  /** The connection this process last held the session with (its claim on the session, with a journal). */
  lastCid: string | undefined;
  /** With a bus that has positions: the last bus event this session took (later ones only are delivered). */
  busPosition: string | undefined;
  /** Restored and being handed the bus events it missed: live ones wait until it has caught up. */
  catchingUp = false;

  constructor(
    private readonly hooks: SessionHooks<Session>,
    limits: { maxMessages: number; maxBytes: number },
    snapshot?: SessionSnapshot,
  ) {
    this.restored = snapshot !== undefined;
    this.id = snapshot?.id ?? randomId(16);
    const { logger, maxMessageBytes, journal } = hooks;
    const state = (): SessionState => (this.endedReason !== null ? 'ended' : this.released ? 'letGo' : 'live');
    const shared = { sid: this.id, logger, maxMessageBytes, journal, state, caughtUp: () => hooks.caughtUp?.(this) };
    this.outbox = new SessionOutbox({ ...shared, deliver: (frame, text) => this.deliver(frame, text) }, limits, snapshot);
    this.gate = new DurableGate(this.id, hooks.journal, (err) => hooks.onJournalFailure?.(this, err));
    this.intake = new ClientFrameIntake({
      ...shared,
      echo: (n) => this.conn?.send({ t: 'echo', n }),
      handler: (event) => this.handlers.handler(event),
      outbox: this.outbox,
      durable: () => this.durable(),
      journalFailed: (err) => hooks.onJournalFailure?.(this, err),
    }, snapshot?.accepted);
    const stored = snapshot && { secret: snapshot.secret, previous: snapshot.previousSecret ?? null };
    this.secrets = new SessionSecret(stored, (expected, secrets) => journal?.rekeyed(this.id, expected, secrets));
    if (!snapshot) return;
    this.auth = snapshot.auth;
    for (const room of snapshot.rooms) this.rooms.add(room);
    this.busPosition = snapshot.busPosition;
  }

  /** Highest client `seq` accepted. */
  get accepted(): number {
    return this.intake.accepted;
  }

  /** Id of the last frame this session numbered (0: none yet). */
  get lastFrameId(): number {
    return this.outbox.next - 1;
  }

  /** The current resume secret; sent to the client in `welcome` only. */
  get secret(): string {
    return this.secrets.value.secret;
  }

  /** Both secrets a resume may present: kept once the session ends, so only its client learns what it accepted. */
  get resumeSecrets(): SessionSecrets {
    return this.secrets.value;
  }

  /** The client presented a secret of this session since it was created: it has a welcome (no join by key now). */
  get secretPresented(): boolean {
    return this.secrets.presented;
  }

  /** Name of the current transport, or null while the session waits for a resume. */
  get transport(): TransportName | null {
    return this.conn?.transport ?? null;
  }

  get connection(): Connection | null {
    return this.conn;
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  /** Held frames the client has not acknowledged. */
  get unacknowledged(): number {
    return this.outbox.size;
  }

  get ended(): boolean {
    return this.endedReason !== null || this.released;
  }

  /** Let go by this process without ending: another process carries the session on (or will, on a resume). */
  get letGo(): boolean {
    return this.released && this.endedReason === null;
  }

  /** Would `presented` resume this session (the current secret, or the previous one)? Changes nothing. */
  knowsSecret(presented: string): boolean {
    return this.secrets.match(presented) !== null;
  }

  /**
   * The client presents a secret (a poll, a POST, a probe): true when it is good. Presenting the current one retires
   * the previous one. Comparisons take constant time.
   */
  checkSecret(presented: string): boolean {
    return this.secrets.use(presented, false) !== null;
  }

  /**
   * A resume presents `presented`: true when it is good. The current one is replaced by a fresh one (the welcome
   * carries it); the previous one changes nothing, since a racing resume's welcome may carry the current one already.
   */
  resumeWith(presented: string): boolean {
    return this.secrets.use(presented, true) !== null;
  }

  // ---- application API -------------------------------------------------------

  /**
   * Registers a handler for a client event, or a `disconnect` listener (fires once, when the session ends for
   * good). One handler per event name; returns an unsubscribe function.
   */
  on(event: 'disconnect', listener: (reason: DisconnectReason) => void): () => void;
  on(event: string, handler: EventHandler): () => void;
  on(event: string, handler: EventHandler | ((reason: DisconnectReason) => void)): () => void {
    if (event === 'disconnect') return this.handlers.onDisconnect(handler as (reason: DisconnectReason) => void);
    return this.handlers.on(event, handler as EventHandler);
  }

  /**
   * Sends an event to this client (sequenced: it survives reconnects). Throws `RealtimeServerError` `unencodable` for
   * data JSON cannot carry, `payload_too_large` over `maxMessageBytes`; nothing is sent then and no id is used.
   */
  emit(event: string, data?: unknown): void {
    this.outbox.emit(event, data);
  }

  /** A fanned-out event, encoded once for every session it reaches. */
  emitPrepared(message: PreparedMessage): void {
    this.outbox.emitPrepared(message);
  }

  /** Sends to every other session. */
  get broadcast(): Broadcaster {
    return new Broadcaster(this.hooks.publish, this.hooks.maxMessageBytes ?? Infinity, { except: this.id });
  }

  /** Sends to the sessions in `room`, except this one. */
  to(room: string): Broadcaster {
    return this.broadcast.to(room);
  }

  /** Sends to the session with id `sessionId` (unless it is this one). */
  toSession(sessionId: string): Broadcaster {
    return this.broadcast.toSession(sessionId);
  }

  join(room: string): void {
    if (this.rooms.has(room)) return;
    this.rooms.add(room);
    this.hooks.journal?.joined(this.id, room);
  }

  leave(room: string): void {
    if (this.rooms.delete(room)) this.hooks.journal?.left(this.id, room);
  }

  /** Whether the session joined `room` (its own id is not a room: `toSession` addresses it). */
  inRoom(room: string): boolean {
    return this.rooms.has(room);
  }

  /** Ends the session now: the client is told `session_ended` and cannot resume it. */
  close(): void {
    this.conn?.end({ t: 'close', code: 'session_ended' });
    this.finish('ended');
  }

  // ---- used by the server ----------------------------------------------------

  /** Can a resume with `last` be honoured? */
  canReplay(last: number): boolean {
    return this.outbox.canReplay(last);
  }

  /**
   * Can a client that has every frame up to `last` resume? Not when frames after it were dropped, nor when `last` is
   * beyond the last frame sent: the client and the session disagree, and only a resync sets that right. With a
   * journal this copy may lag what another process sent since (claiming the session sets that right: the copy is
   * let go and restored), so only a process that carries the session alone can tell such a `last` is wrong.
   */
  canResumeFrom(last: number): boolean {
    return (this.hooks.journal !== undefined || last <= this.lastFrameId) && this.outbox.canReplay(last);
  }

  /** Memory the session holds for its client: its replay buffer and a fixed cost. */
  get retainedBytes(): number {
    return SESSION_OVERHEAD + this.outbox.retained;
  }

  /** Told of every change of `retainedBytes` while set (the server sets it while the session waits for a resume). */
  set onRetainedChange(listener: ((delta: number) => void) | undefined) {
    this.outbox.onRetainedChange = listener;
  }

  /**
   * Makes `conn` the active connection: the previous one gets `close{replaced}`, then every frame after `last`
   * is replayed on `conn`.
   */
  attach(conn: Connection, last: number): void {
    const old = this.conn;
    this.conn = conn;
    if (old && old !== conn) old.end({ t: 'close', code: 'replaced' });
    const replay = this.outbox.after(last) ?? []; // acknowledges up to `last`
    this.afterDurable(() => {
      if (this.conn === conn) for (const { frame, text } of replay) conn.send(frame, text);
    });
    const first = this.lastCid === undefined;
    this.lastCid = conn.cid;
    this.hooks.journal?.held(this.id, conn.cid);
    this.hooks.onConnectionChange(this, conn);
    if (first && this.restored) this.intake.redeliver(); // announced now: its handlers are registered
  }

  /** `conn` went away. Ignored unless it is the active connection. */
  detach(conn: Connection): void {
    if (this.conn !== conn) return;
    this.conn = null;
    if (this.ended) return;
    this.hooks.journal?.held(this.id, null);
    this.hooks.onConnectionChange(this, null);
  }

  /** A client acknowledged every server frame with `id <= id`. */
  ack(id: number): void {
    this.outbox.ack(id);
  }

  /**
   * Runs `send` once everything this session wrote so far is durable (at once without a journal): what the client
   * sees (a frame, an ack, a welcome) must never get ahead of what another process could carry on from.
   */
  afterDurable(send: () => void): void {
    this.gate.after(send);
  }

  /** Resolves true once durable, false if the journal failed (the session is being let go then). */
  durable(): Promise<boolean> {
    return this.gate.durable();
  }

  /**
   * Applies one inbound `emit`/`req`/`ack`/`echo` frame. Returns `accepted` (handler ran), `duplicate` (re-ack, not
   * run), `gap` (dropped unacknowledged) or `other`.
   */
  receive(frame: ClientFrame): 'accepted' | 'duplicate' | 'gap' | 'other' {
    // A session ended or let go accepts nothing: a frame it recorded without a handler to run would be lost.
    return this.ended ? 'other' : this.intake.receive(frame);
  }

  /**
   * This process stops carrying the session without ending it: the connection is told `shutdown` (the client resumes,
   * and whoever restores the session carries on from its journal), no `disconnect` fires, nothing more is sent.
   */
  release(code: 'shutdown' | 'replaced' = 'shutdown'): void {
    if (this.ended) return;
    this.released = true;
    const conn = this.conn;
    this.conn = null;
    conn?.end({ t: 'close', code });
    // Handlers stay: frames recorded before the release still run (their replies are handed over, see SessionOutbox.send).
    this.handlers.dropListeners();
    this.outbox.clear(); // whoever carries the session next replays from the journal
  }

  /**
   * Numbers and sends events other processes queued for this session (JSON of unnumbered `msg`/`reply` frames), and
   * tells the journal they came from the inbox, so they leave it exactly when they are durable here.
   */
  deliverFromInbox(texts: readonly string[]): void {
    this.outbox.fromInbox(texts);
  }

  /** Ends the session for good, once: fires `disconnect`. */
  finish(reason: DisconnectReason): void {
    if (this.endedReason || this.released) return;
    this.endedReason = reason;
    const conn = this.conn;
    this.conn = null;
    this.hooks.journal?.ended(this.id);
    if (conn) this.hooks.onConnectionChange(this, null);
    this.handlers.disconnected(reason, this.hooks.logger, this.id);
    // A connection that outlives the session (a close frame waiting for a poll) must not keep its frames alive.
    this.outbox.clear();
  }

  /** A frame was just numbered: it goes out on the connection that holds the session now, once durable. */
  private deliver(frame: SequencedFrame, text: string): void {
    if (!this.hooks.journal) {
      this.conn?.send(frame, text);
      return;
    }
    const conn = this.conn;
    // A connection that replaces this one gets the frame by replay.
    this.afterDurable(() => {
      if (conn !== null && this.conn === conn) conn.send(frame, text);
    });
  }
}
