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
/**
 * A handler for a client event. `reply` is given for `req` frames only. `frame` names the client frame (`sessionId`
 * + `seq`: unique per frame, a key for apps that record what they handled).
 */
export type EventHandler = (data: unknown, reply: Reply, frame: { sessionId: string; seq: number }) => void | Promise<unknown>;

/** Why a session ended. */
export type DisconnectReason = 'expired' | 'server_close' | 'ended';
