import { randomBytes } from 'node:crypto';
import type { ClientFrame, MessageFrame, ReplyFrame, SequencedFrame, TransportName } from '../protocol/frames';
import { encodeFrame } from '../protocol/codec';
import { encodeMessage } from './message-text';
import type { BusMessage, BusTarget } from './bus';
import type { PreparedMessage } from './prepared-message';
import { ReplayBuffer } from './replay-buffer';
import { SessionSecret, type SessionSecrets } from './session-secret';
import type { FrameTemplate, SessionJournal, SessionSnapshot } from './session-journal';
import type { Connection, DisconnectReason, EventHandler, Logger } from './types';
import { Broadcaster } from './broadcaster';
import { parseInboxEntry, RESERVED } from './session-frames';
import { runClientFrame } from './client-frame-run';
import { encoded, RealtimeServerError } from './errors';
import { warnPayloadChanges } from './payload-warnings';
import { encodeWithin, replyError } from './message-size';

export const randomId = (bytes = 16): string => randomBytes(bytes).toString('base64url');

/**
 * What a session costs besides its replay buffer (its objects, maps, ids, its polling connection): measured about
 * 6.2 KB per session made by a polling handshake (heap after GC over 1,000), rounded up.
 */
const SESSION_OVERHEAD = 8192;

/** What a session needs from the server. */
export interface SessionHooks {
  publish(target: BusTarget, message: BusMessage): void;
  /** The session's connection dropped (or was handed over): `conn` is null while it waits for a resume. */
  onConnectionChange(session: Session, conn: Connection | null): void;
  logger: Logger;
  /** The largest message the session sends (`maxMessageBytes`); absent: no limit. */
  maxMessageBytes?: number;
  /** Where changes are written as they happen (with an adapter); absent: memory only. */
  journal?: SessionJournal;
  /** A journal write failed: the session cannot promise durability here any more. */
  onJournalFailure?(session: Session, err: unknown): void;
  /**
   * The client acknowledged frames, or had every frame until one more was just sent: how long it has owed an ack
   * counts from now (the session's memory budget lets those owing longest go first).
   */
  caughtUp?(session: Session): void;
}

/**
 * One client's session: survives dropped connections for the grace period and transport switches.
 * Outbound `msg`/`reply` frames are numbered and kept until acknowledged; inbound `emit`/`req` frames run once.
 */
export class Session {
  /** Stable id (≥ 128 random bits). */
  readonly id: string;
  /** What `authenticate` returned for the handshake that created the session (`true` when there is no hook). */
  auth: unknown = true;
  /** Highest client `seq` accepted. */
  accepted = 0;
  /**
   * True when this process carries on a session written by another one (a restart, another node): the app's
   * `connection` handler runs again for it, and can tell by this flag.
   */
  readonly restored: boolean;
  /** Rooms joined (the implicit room named after `id` is not listed). */
  readonly rooms = new Set<string>();
  private readonly secrets: SessionSecret;
  private conn: Connection | null = null;
  private nextId = 1;
  private readonly buffer: ReplayBuffer;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly disconnectListeners = new Set<(reason: DisconnectReason) => void>();
  private endedReason: DisconnectReason | null = null;
  /** Let go by this process without ending (its journal failed, or another process took it over). */
  private released = false;

  /** Highest acknowledgement already written to the journal. */
  private journaledAck = 0;
  /** The connection this process last held the session with (its claim on the session, with a journal). */
  lastCid: string | undefined;
  /** With a bus that has positions: the last bus event this session took (later ones only are delivered). */
  busPosition: string | undefined;
  /** Restored and being handed the bus events it missed: live ones wait until it has caught up. */
  catchingUp = false;
  /** The journal's last answer to `durable`, and what waits for it (see afterDurable). */
  private lastDurable: Promise<void> | undefined;
  private durableGroup: (() => void)[] = [];

  constructor(
    private readonly hooks: SessionHooks,
    limits: { maxMessages: number; maxBytes: number },
    snapshot?: SessionSnapshot,
  ) {
    this.buffer = new ReplayBuffer(limits.maxMessages, limits.maxBytes);
    this.restored = snapshot !== undefined;
    if (!snapshot) {
      this.id = randomId(16);
      this.secrets = new SessionSecret();
      return;
    }
    this.id = snapshot.id;
    this.secrets = new SessionSecret({ secret: snapshot.secret, previous: snapshot.previousSecret ?? null });
    this.auth = snapshot.auth;
    this.accepted = snapshot.accepted;
    this.nextId = snapshot.lastId + 1;
    for (const { frame, text } of snapshot.frames) this.buffer.push(frame, text);
    this.buffer.ack(snapshot.floor);
    this.journaledAck = snapshot.floor;
    for (const room of snapshot.rooms) this.rooms.add(room);
    this.busPosition = snapshot.busPosition;
  }

  /** Id of the last frame this session numbered (0: none yet). */
  get lastFrameId(): number {
    return this.nextId - 1;
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
    return this.buffer.size;
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
    return this.useSecret(presented, false);
  }

  /**
   * A resume presents `presented`: true when it is good. The current one is replaced by a fresh one (the welcome
   * carries it); the previous one changes nothing, since a racing resume's welcome may carry the current one already.
   */
  resumeWith(presented: string): boolean {
    return this.useSecret(presented, true);
  }

  private useSecret(presented: string, resume: boolean): boolean {
    const expected = this.secrets.value.secret;
    const used = this.secrets.use(presented, resume);
    if (!used) return false;
    // A resume writes even when nothing changed: a store shared by processes must still agree before the welcome.
    if (used.changed || resume) this.hooks.journal?.rekeyed(this.id, expected, used.secrets);
    return true;
  }

  // ---- application API -------------------------------------------------------

  /**
   * Registers a handler for a client event, or a `disconnect` listener (fires once, when the session ends for
   * good). One handler per event name; returns an unsubscribe function.
   */
  on(event: 'disconnect', listener: (reason: DisconnectReason) => void): () => void;
  on(event: string, handler: EventHandler): () => void;
  on(event: string, handler: EventHandler | ((reason: DisconnectReason) => void)): () => void {
    if (event === 'disconnect') {
      const l = handler as (reason: DisconnectReason) => void;
      this.disconnectListeners.add(l);
      return () => this.disconnectListeners.delete(l);
    }
    const h = handler as EventHandler;
    this.handlers.set(event, h);
    return () => {
      if (this.handlers.get(event) === h) this.handlers.delete(event);
    };
  }

  /**
   * Sends an event to this client (sequenced: it survives reconnects). Throws `RealtimeServerError` `unencodable` for
   * data JSON cannot carry, `payload_too_large` over `maxMessageBytes`; nothing is sent then and no id is used.
   */
  emit(event: string, data?: unknown): void {
    const frame: MessageFrame = data === undefined ? { t: 'msg', id: 0, e: event } : { t: 'msg', id: 0, e: event, d: data };
    const { text, bytes } = encodeWithin(frame, this.nextId, this.hooks.maxMessageBytes, `the event "${event}"`, (f) => encodeMessage(f as MessageFrame));
    // Ended or let go: sendSequenced drops or hands it over, unnumbered.
    if (this.ended) return this.sendSequenced(frame);
    warnPayloadChanges('emit', event, data);
    this.sendSequenced(frame, text, bytes);
  }

  /** A fanned-out event, encoded once for every session it reaches. */
  emitPrepared(message: PreparedMessage): void {
    // A copy let go hands nothing over from the bus: whoever carries the session next reads the bus itself.
    if (this.ended) return;
    const id = this.nextId;
    this.sendSequenced(message.frame(id), message.text(id), message.bytes(id), message.template);
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

  /** Frames the server holds with `id > last`, or null when some were dropped. Also acknowledges up to `last`. */
  replayAfter(last: number): { frame: SequencedFrame; text: string }[] | null {
    const frames = this.buffer.after(last);
    if (frames) this.ack(last);
    return frames;
  }

  /** Can a resume with `last` be honoured? */
  canReplay(last: number): boolean {
    return this.buffer.canReplay(last);
  }

  /**
   * Can a client that has every frame up to `last` resume? Not when frames after it were dropped, nor when `last` is
   * beyond the last frame sent: the client and the session disagree, and only a resync sets that right. With a
   * journal this copy may lag what another process sent since (claiming the session sets that right: the copy is
   * let go and restored), so only a process that carries the session alone can tell such a `last` is wrong.
   */
  canResumeFrom(last: number): boolean {
    return (this.hooks.journal !== undefined || last <= this.lastFrameId) && this.buffer.canReplay(last);
  }

  /** Memory the session holds for its client: its replay buffer and a fixed cost. */
  get retainedBytes(): number {
    return SESSION_OVERHEAD + this.buffer.retained;
  }

  /** Told of every change of `retainedBytes` while set (the server sets it while the session waits for a resume). */
  set onRetainedChange(listener: ((delta: number) => void) | undefined) {
    this.buffer.onRetainedChange = listener;
  }

  /**
   * Makes `conn` the active connection: the previous one gets `close{replaced}`, then every frame after `last`
   * is replayed on `conn`.
   */
  attach(conn: Connection, last: number): void {
    const old = this.conn;
    this.conn = conn;
    if (old && old !== conn) old.end({ t: 'close', code: 'replaced' });
    const replay = this.replayAfter(last) ?? [];
    this.afterDurable(() => {
      if (this.conn === conn) for (const { frame, text } of replay) conn.send(frame, text);
    });
    const first = this.lastCid === undefined;
    this.lastCid = conn.cid;
    this.hooks.journal?.held(this.id, conn.cid);
    this.hooks.onConnectionChange(this, conn);
    if (first && this.restored) this.redeliver(); // announced now: its handlers are registered
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
    const upTo = Math.min(id, this.nextId - 1);
    const held = this.buffer.size;
    this.buffer.ack(upTo);
    if (this.buffer.size < held) this.hooks.caughtUp?.(this);
    if (upTo > this.journaledAck) {
      this.journaledAck = upTo;
      this.hooks.journal?.acked(this.id, upTo);
    }
  }

  /**
   * Runs `send` once everything this session wrote so far is durable (at once without a journal): what the client
   * sees (a frame, an ack, a welcome) must never get ahead of what another process could carry on from.
   */
  afterDurable(send: () => void): void {
    const journal = this.hooks.journal;
    if (!journal) return send();
    // The journal answers the same promise for everything written in one turn: one reaction per turn, not per frame.
    const durable = journal.durable(this.id);
    if (durable === this.lastDurable) {
      this.durableGroup.push(send);
      return;
    }
    const group = [send];
    this.lastDurable = durable;
    this.durableGroup = group;
    durable.then(
      () => {
        for (const f of group) f();
      },
      (err: unknown) => this.hooks.onJournalFailure?.(this, err),
    );
  }

  /** Resolves true once durable, false if the journal failed (the session is being let go then). */
  durable(): Promise<boolean> {
    return new Promise((resolve) => {
      const journal = this.hooks.journal;
      if (!journal) return resolve(true);
      journal.durable(this.id).then(
        () => resolve(true),
        (err: unknown) => {
          this.hooks.onJournalFailure?.(this, err);
          resolve(false);
        },
      );
    });
  }

  /**
   * Applies one inbound `emit`/`req`/`ack`/`echo` frame. Returns `accepted` (handler ran), `duplicate` (re-ack, not
   * run), `gap` (dropped unacknowledged) or `other`.
   */
  receive(frame: ClientFrame): 'accepted' | 'duplicate' | 'gap' | 'other' {
    // A session ended or let go accepts nothing: a frame it recorded without a handler to run would be lost.
    if (this.ended) return 'other';
    if (frame.t === 'ack') {
      this.ack(frame.id);
      return 'other';
    }
    if (frame.t === 'echo') {
      // Unsequenced and not kept: it measures the stream it travels on, so a replay would measure nothing.
      this.conn?.send({ t: 'echo', n: frame.n });
      return 'other';
    }
    if (frame.t !== 'emit' && frame.t !== 'req') return 'other';
    if (frame.seq <= this.accepted) return 'duplicate';
    if (frame.seq > this.accepted + 1) return 'gap';
    this.accepted = frame.seq;
    const journal = this.hooks.journal;
    const run = (): void => this.run(frame.t === 'req', frame.seq, frame.e, frame.d);
    if (!journal) {
      run();
      return 'accepted';
    }
    // Recorded first (with the frame, until its handler is done), run once that is durable: a session that moved to
    // another process meanwhile has the record refused here, and one recorded already (by a process this copy lagged
    // behind) is not run again. A process killed before the handler was done leaves the frame to the session's next
    // holder (`redeliver`).
    journal.accepted(this.id, frame.seq, { seq: frame.seq, t: frame.t, e: frame.e, ...(frame.d === undefined ? {} : { d: frame.d }) }).then(
      (fresh) => {
        if (fresh) run();
      },
      (err: unknown) => this.hooks.onJournalFailure?.(this, err),
    );
    return 'accepted';
  }

  /** Restored and announced here: runs what a previous holder recorded but did not finish, before any newer frame. */
  private redeliver(): void {
    const journal = this.hooks.journal;
    if (!journal?.unfinished) return;
    journal.unfinished(this.id).then(
      (frames) => {
        // Let go meanwhile: whoever holds the session next reads them itself.
        for (const f of frames) if (!this.ended) this.run(f.t === 'req', f.seq, f.e, f.d, true);
      },
      (err: unknown) => this.hooks.onJournalFailure?.(this, err),
    );
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
    // Handlers stay: frames recorded before the release still run (their replies are handed over, see sendSequenced).
    this.disconnectListeners.clear();
    this.buffer.clear(); // whoever carries the session next replays from the journal
  }

  /**
   * Numbers and sends events other processes queued for this session (JSON of unnumbered `msg`/`reply` frames), and
   * tells the journal they came from the inbox, so they leave it exactly when they are durable here.
   */
  deliverFromInbox(texts: readonly string[]): void {
    if (this.ended) return;
    for (const text of texts) {
      const frame = parseInboxEntry(text);
      if (frame) this.sendSequenced(frame);
      else {
        this.hooks.logger.error('unreadable inbox entry skipped', { sid: this.id });
        this.sendSequenced({ t: 'msg', id: 0, e: 'error', d: 'unreadable inbox entry' });
      }
    }
    this.hooks.journal?.drained(this.id, texts.length);
  }

  /** Ends the session for good, once: fires `disconnect`. */
  finish(reason: DisconnectReason): void {
    if (this.endedReason || this.released) return;
    this.endedReason = reason;
    const conn = this.conn;
    this.conn = null;
    this.hooks.journal?.ended(this.id);
    if (conn) this.hooks.onConnectionChange(this, null);
    for (const l of [...this.disconnectListeners]) {
      try {
        l(reason);
      } catch (err) {
        this.hooks.logger.error('disconnect listener threw', { sid: this.id, err });
      }
    }
    this.handlers.clear();
    this.disconnectListeners.clear();
    // A connection that outlives the session (a close frame waiting for a poll) must not keep its frames alive.
    this.buffer.clear();
  }

  private run(isRequest: boolean, seq: number, event: string, data: unknown, redelivered = false): void {
    const handler = RESERVED.has(event) ? undefined : this.handlers.get(event);
    const send = (frame: ReplyFrame): void => {
      warnPayloadChanges('reply to', event, frame.d);
      const { text, bytes } = encodeWithin(frame, this.nextId, this.hooks.maxMessageBytes, `the reply to "${event}"`);
      this.sendSequenced(frame, text, bytes);
    };
    const refusal = (error: unknown): { code: string; message: string } => replyError(error, this.hooks.logger, { sid: this.id, event });
    const done = (): void => this.handled(isRequest, seq);
    runClientFrame({ sid: this.id, isRequest, seq, event, data, redelivered, handler, send, refusal, done, logger: this.hooks.logger });
  }

  /** A request is done once its reply is durable: if it never gets there, the next holder answers it again. */
  private handled(isRequest: boolean, seq: number): void {
    const mark = this.hooks.journal?.handled?.bind(this.hooks.journal, this.id, seq);
    if (mark) void (isRequest ? this.durable().then((ok) => ok && mark()) : mark());
  }

  /**
   * `text` and `bytes` when already encoded (then `frame.id` must be the next id). Encodes before numbering: a frame
   * JSON cannot carry throws `unencodable` and uses no id (a used id with nothing sent would be a hole for the client).
   */
  private sendSequenced(frame: SequencedFrame, text?: string, bytes?: number, template?: FrameTemplate): void {
    const handOver = this.released && this.endedReason === null;
    if (this.ended && !handOver) return;
    frame.id = this.nextId;
    text ??= encoded(frame.t === 'reply' ? 'the reply' : 'the event data', () => encodeFrame(frame), frame.d);
    if (handOver) {
      // Let go: whatever still wants out (a reply of a handler that was running) goes to the next carrier.
      frame.id = 0;
      this.hooks.journal?.handOver(this.id, frame);
      return;
    }
    this.nextId++;
    this.buffer.push(frame, text, bytes);
    if (this.buffer.size === 1) this.hooks.caughtUp?.(this); // up to date until now: its wait starts here
    const journal = this.hooks.journal;
    if (!journal) {
      this.conn?.send(frame, text);
      return;
    }
    journal.appended(this.id, frame, text, template);
    const conn = this.conn;
    // A connection that replaces this one gets the frame by replay.
    this.afterDurable(() => {
      if (conn !== null && this.conn === conn) conn.send(frame, text);
    });
  }
}
