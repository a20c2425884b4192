/**
 * Wire frames of the realtime-fallback protocol, version 1 (see docs/protocol.md).
 * This module is the only code shared by the client and the server.
 */

export const PROTOCOL_VERSION = 1;

/** Names of the three transports, in the order the client prefers them. */
export type TransportName = 'websocket' | 'sse' | 'polling';
export const TRANSPORT_NAMES: readonly TransportName[] = ['websocket', 'sse', 'polling'];

/** Path segments under the endpoint URL, one per transport plus the upstream POST. */
export const PATHS = { websocket: '/ws', sse: '/sse', polling: '/poll', send: '/send' } as const;

/** Query parameters used by every handshake and HTTP request. */
export const QUERY = {
  version: 'v',
  session: 'sid',
  secret: 'secret',
  last: 'last',
  connection: 'cid',
  probe: 'probe',
  token: 'access_token',
} as const;

/** Why a session could not be resumed; the client raises "resync needed" for each. */
export type ResumeFailure = 'unknown_session' | 'bad_secret' | 'expired' | 'overrun';

/** Protocol error codes a server may send in an `error` frame or a close reason. */
export type ProtocolErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'origin_rejected'
  | 'rate_limited'
  | 'unavailable'
  | 'frame_too_large'
  | 'malformed_frame'
  | 'unknown_frame'
  | 'poll_replaced'
  | 'server_error';

// ---- server → client -------------------------------------------------------

/** First frame of every connection: names the session and announces the heartbeat. */
export interface WelcomeFrame {
  t: 'welcome';
  /** Session id (stable across reconnects and transport switches). */
  sid: string;
  /** Resume secret; required with `sid` to resume. */
  secret: string;
  /** Connection id; HTTP transports send it back on every poll and POST. */
  cid: string;
  /** Heartbeat interval in ms: the server sends something at least this often. */
  hb: number;
  /** True when the session named in the handshake was resumed. */
  resumed: boolean;
  /** Set when a resume was asked for but could not be honoured (a new session was started). */
  resumeFailed?: ResumeFailure;
  /** With `resumeFailed`: the highest client sequence number the previous session accepted (its handlers ran); the
   *  client drops those from its outbox rather than send them to the new session. Absent when the server cannot know. */
  prevAck?: number;
  /** Highest client sequence number the server has accepted in this session (0 if none). */
  ack: number;
  /** True on the answer to an upgrade probe: the connection is not active until the client sends `upgrade`. */
  probe?: boolean;
  /** Largest frame the server accepts, in bytes of UTF-8 JSON. */
  maxFrame: number;
  /** True when the server answers `echo` frames; a client sends none otherwise (older servers refuse the POST). */
  echo?: boolean;
  /** Id of the last message the server numbered in this session (0: none): a client that wants nothing it missed
   *  while away (after a reload, `resume: 'skip'`) takes it as delivered. Absent from older servers. */
  head?: number;
}

/** An application event from the server. `id` increases by one per message in a session. */
export interface MessageFrame {
  t: 'msg';
  id: number;
  e: string;
  d?: unknown;
}

/** The answer to a client request; sequenced like a message so it survives a reconnect. */
export interface ReplyFrame {
  t: 'reply';
  id: number;
  /** The client sequence number of the request. */
  re: number;
  d?: unknown;
  err?: { code: string; message: string };
}

/** Cumulative acknowledgement of client frames with `seq <= n`. */
export interface AckFrame {
  t: 'ack';
  n: number;
}

/** Heartbeat; carries nothing. */
export interface PingFrame {
  t: 'ping';
}

/** A protocol error for this client. `status` mirrors the HTTP status it stands for. */
export interface ErrorFrame {
  t: 'error';
  code: ProtocolErrorCode;
  message: string;
  status?: number;
  /** Seconds to wait before trying again (rate_limited, unavailable). */
  retryAfter?: number;
}

/** The server ends this connection; `code` says why ('replaced', 'shutdown', 'session_ended'). */
export interface CloseFrame {
  t: 'close';
  code: 'replaced' | 'shutdown' | 'session_ended';
  reason?: string;
}

/** The answer to a client `echo`, written on the stream; how late it comes shows whether a proxy holds the stream back. */
export interface EchoFrame {
  t: 'echo';
  n: number;
}

export type SequencedFrame = MessageFrame | ReplyFrame;
export type ServerFrame = WelcomeFrame | MessageFrame | ReplyFrame | AckFrame | PingFrame | ErrorFrame | CloseFrame | EchoFrame;

// ---- client → server -------------------------------------------------------

/** An application event from the client. `seq` increases by one per emit or request in a session. */
export interface EmitFrame {
  t: 'emit';
  seq: number;
  e: string;
  d?: unknown;
}

/** A request; the server answers with a `reply` frame whose `re` is this `seq`. */
export interface RequestFrame {
  t: 'req';
  seq: number;
  e: string;
  d?: unknown;
}

/** Cumulative acknowledgement of server frames with `id <= id`. */
export interface ClientAckFrame {
  t: 'ack';
  id: number;
}

/** Completes an upgrade probe: the probing connection becomes the active one and replays after `last`. */
export interface UpgradeFrame {
  t: 'upgrade';
  last: number;
}

/** Asks the server to write `echo{n}` on the session's current stream connection (protocol §4, SSE). */
export interface ClientEchoFrame {
  t: 'echo';
  n: number;
}

export type OutboundFrame = EmitFrame | RequestFrame;
export type ClientFrame = EmitFrame | RequestFrame | ClientAckFrame | UpgradeFrame | ClientEchoFrame;
