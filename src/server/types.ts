/**
 * Types several server modules share. They live here, importing only the protocol, so that options, sessions,
 * the adapter and the transport handlers can all name them without importing one another (no import circle).
 */
import type { CloseFrame, ServerFrame, TransportName } from '../protocol/frames';

/** Where the server reports problems. Every method is optional-safe: the server never throws from a log call. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

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
/** The client frame a handler runs for (its third argument). */
export interface HandlerContext {
  sessionId: string;
  /** The frame's number in its session (1, 2, …). */
  seq: number;
  /** `${sessionId}:${seq}`: the same on every node and every run of this frame, a key for idempotent writes. */
  id: string;
  /**
   * True when this frame was recorded by a node that died or let the session go before its handler was done (Redis
   * adapter): the handler may have run there too (or still be running there), so writes keyed by `id` must be
   * idempotent. False otherwise, and always without an adapter.
   */
  redelivered: boolean;
}

/**
 * A handler for a client event. `reply` is given for `req` frames only. `frame` names the client frame (its `id` is
 * unique per frame, a key for apps that record what they handled).
 */
export type EventHandler = (data: unknown, reply: Reply, frame: HandlerContext) => void | Promise<unknown>;

/** Why a session ended. */
export type DisconnectReason = 'expired' | 'server_close' | 'ended';
