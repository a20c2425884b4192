import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientFrame, CloseFrame, ReplyFrame, SequencedFrame, ServerFrame, TransportName } from '../protocol/frames';
import { encodeFrame } from '../protocol/codec';
import type { BusMessage, BusTarget } from './bus';
import type { Logger } from './options';
import { ReplayBuffer } from './replay-buffer';

/** One live connection of a session, as a transport handler implements it. */
export interface Connection {
  readonly cid: string;
  readonly transport: TransportName;
  /** Sends one frame; `text` is its encoding when the caller already has it. */
  send(frame: ServerFrame, text?: string): void;
  /** Sends `frame` and ends the connection. Must not throw; must be idempotent. */
  end(frame: CloseFrame): void;
}

/** Answers a client request. Call once; later calls are ignored. */
export type Reply = (data?: unknown, err?: unknown) => void;
/** A handler for a client event. `reply` is given for `req` frames only. */
export type EventHandler = (data: unknown, reply: Reply) => void | Promise<unknown>;

/** Why a session ended. */
export type DisconnectReason = 'expired' | 'server_close' | 'ended';

/** Event names the server uses itself; a client event with one of these names is acknowledged but not run. */
const RESERVED = new Set(['disconnect', 'transport']);

export const randomId = (bytes = 16): string => randomBytes(bytes).toString('base64url');

/** What a session needs from the server. */
export interface SessionHooks {
  publish(target: BusTarget, message: BusMessage): void;
  /** The session's connection dropped (or was handed over): `conn` is null while it waits for a resume. */
  onConnectionChange(session: Session, conn: Connection | null): void;
  logger: Logger;
}

/** Fans an event out to sessions selected by rooms, optionally excluding one. */
export class Broadcaster {
  constructor(
    private readonly publish: (target: BusTarget, message: BusMessage) => void,
    private readonly rooms: readonly string[] | undefined,
    private readonly except: string | undefined,
  ) {}
  /** Narrows to sessions in `room` (a room name or a session id); several calls select the union. */
  to(room: string): Broadcaster {
    return new Broadcaster(this.publish, [...(this.rooms ?? []), room], this.except);
  }
  emit(event: string, data?: unknown): void {
    const target: BusTarget = {};
    if (this.rooms) target.rooms = this.rooms;
    if (this.except !== undefined) target.except = this.except;
    this.publish(target, data === undefined ? { e: event } : { e: event, d: data });
  }
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
  /** Rooms joined (the implicit room named after `id` is not listed). */
  readonly rooms = new Set<string>();
  private readonly secretBuf: Buffer;
  private conn: Connection | null = null;
  private nextId = 1;
  private readonly buffer: ReplayBuffer;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly disconnectListeners = new Set<(reason: DisconnectReason) => void>();
  private endedReason: DisconnectReason | null = null;

  constructor(
    private readonly hooks: SessionHooks,
    limits: { maxMessages: number; maxBytes: number },
  ) {
    this.id = randomId(16);
    this.secretBuf = Buffer.from(randomId(24));
    this.buffer = new ReplayBuffer(limits.maxMessages, limits.maxBytes);
  }

  /** The resume secret; sent to the client in `welcome` only. */
  get secret(): string {
    return this.secretBuf.toString();
  }

  /** Name of the current transport, or null while the session waits for a resume. */
  get transport(): TransportName | null {
    return this.conn?.transport ?? null;
  }

  get connection(): Connection | null {
    return this.conn;
  }

  get ended(): boolean {
    return this.endedReason !== null;
  }

  /** Constant-time comparison of a presented secret. */
  checkSecret(presented: string): boolean {
    const b = Buffer.from(presented);
    return b.length === this.secretBuf.length && timingSafeEqual(b, this.secretBuf);
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

  /** Sends an event to this client (sequenced: it survives reconnects). */
  emit(event: string, data?: unknown): void {
    this.sendSequenced(data === undefined ? { t: 'msg', id: 0, e: event } : { t: 'msg', id: 0, e: event, d: data });
  }

  /** Sends to every other session. */
  get broadcast(): Broadcaster {
    return new Broadcaster(this.hooks.publish, undefined, this.id);
  }

  /** Sends to the sessions in `room`, except this one. */
  to(room: string): Broadcaster {
    return this.broadcast.to(room);
  }

  join(room: string): void {
    this.rooms.add(room);
  }

  leave(room: string): void {
    this.rooms.delete(room);
  }

  inRoom(room: string): boolean {
    return room === this.id || this.rooms.has(room);
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
    return this.buffer.after(last) !== null;
  }

  /**
   * Makes `conn` the active connection: the previous one gets `close{replaced}`, then every frame after `last`
   * is replayed on `conn`.
   */
  attach(conn: Connection, last: number): void {
    const old = this.conn;
    this.conn = conn;
    if (old && old !== conn) old.end({ t: 'close', code: 'replaced' });
    for (const { frame, text } of this.replayAfter(last) ?? []) conn.send(frame, text);
    this.hooks.onConnectionChange(this, conn);
  }

  /** `conn` went away. Ignored unless it is the active connection. */
  detach(conn: Connection): void {
    if (this.conn !== conn) return;
    this.conn = null;
    if (!this.ended) this.hooks.onConnectionChange(this, null);
  }

  /** A client acknowledged every server frame with `id <= id`. */
  ack(id: number): void {
    this.buffer.ack(Math.min(id, this.nextId - 1));
  }

  /**
   * Applies one inbound `emit`/`req`/`ack`/`echo` frame. Returns `accepted` (handler ran), `duplicate` (re-ack, not
   * run), `gap` (dropped unacknowledged) or `other`.
   */
  receive(frame: ClientFrame): 'accepted' | 'duplicate' | 'gap' | 'other' {
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
    this.run(frame.t === 'req', frame.seq, frame.e, frame.d);
    return 'accepted';
  }

  /** Ends the session for good, once: fires `disconnect`. */
  finish(reason: DisconnectReason): void {
    if (this.endedReason) return;
    this.endedReason = reason;
    const conn = this.conn;
    this.conn = null;
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
  }

  private run(isRequest: boolean, seq: number, event: string, data: unknown): void {
    let replied = false;
    const reply: Reply = (d, err) => {
      if (replied || !isRequest) return;
      replied = true;
      if (err !== undefined && err !== null) this.sendSequenced({ t: 'reply', id: 0, re: seq, err: toWireError(err) });
      else this.sendSequenced(d === undefined ? { t: 'reply', id: 0, re: seq } : { t: 'reply', id: 0, re: seq, d });
    };
    const handler = RESERVED.has(event) ? undefined : this.handlers.get(event);
    if (!handler) {
      if (isRequest) reply(undefined, { code: 'no_handler', message: `no handler for "${event}"` });
      return;
    }
    const fail = (err: unknown) => {
      this.hooks.logger.error('event handler failed', { sid: this.id, event, err });
      reply(undefined, { code: 'server_error', message: err instanceof Error ? err.message : String(err) });
    };
    try {
      const result = handler(data, reply);
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  }

  private sendSequenced(frame: SequencedFrame): void {
    if (this.ended) return;
    frame.id = this.nextId++;
    const text = encodeFrame(frame);
    this.buffer.push(frame, text);
    this.conn?.send(frame, text);
  }
}

function toWireError(err: unknown): NonNullable<ReplyFrame['err']> {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' && !(err instanceof Error) ? e.code : 'server_error';
    return { code, message: typeof e.message === 'string' ? e.message : String(err) };
  }
  return { code: 'server_error', message: String(err) };
}
