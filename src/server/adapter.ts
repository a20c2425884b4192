import type { ClientFrame } from '../protocol/frames';
import type { Bus } from './bus';
import type { Logger } from './types';
import type { SessionJournal } from './session-journal';

/** What the server tells an adapter about itself when it starts. */
export interface AdapterSettings {
  /** The replay bounds of one session (`replayBufferMaxMessages` / `replayBufferMaxBytes`). */
  replayLimits: { maxMessages: number; maxBytes: number };
  /** How long a session outlives its last connection. */
  sessionGraceMs: number;
  /** How long the store keeps an ended session's record (what it accepted, for its client's next handshake). */
  endedSessionMemoryMs?: number;
  /** The heartbeat, also the longest a poll is held. */
  heartbeatMs: number;
  logger: Logger;
}

/** What other processes ask of this one, through the adapter. */
export interface AdapterEvents {
  /** Another process took session `sid` over from connection `cid` of ours: let our copy go. */
  release(sid: string, cid: string): void;
  /** Events wait in the inbox of session `sid`, which this process holds: number and send them. */
  inbox(sid: string): void;
  /**
   * Another process received upstream frames for session `sid` on our connection `cid`, presenting `secret`: apply
   * them and answer the `ack` once durable, or null when `cid` is not the session's active connection here or the
   * secret is not good. The holder checks it: only it knows whether the client has used a rotated secret yet.
   */
  upstream(sid: string, secret: string, cid: string, frames: readonly ClientFrame[]): Promise<number | null>;
  /**
   * Another process received a poll for our polling connection `cid`, presenting `secret`: answer it as a local poll
   * through `answer` (null: no such connection here, or a secret that is not good). Returns a function that aborts it
   * (the client went away there).
   */
  poll(sid: string, secret: string, cid: string, last: number | undefined, answer: (reply: PollReply | null) => void): () => void;
}

/** A poll's answer, as a process that held it sends it to the one that received it. */
export interface PollReply {
  status: number;
  body: string;
}

/** What became of upstream frames sent on to the process holding their session. */
export type Forwarded = { ack: number } | 'gone' | 'unavailable';

/** Sends a poll to the process holding its connection; resolves with its answer, or why there is none. */
export type ForwardPoll = (sid: string, secret: string, cid: string, last: number | undefined, aborted: Promise<void>) => Promise<PollReply | 'gone' | 'unavailable'>;

/**
 * A shared store for sessions, so they outlive the process that holds them and several processes can share them
 * (realtime-fallback/server/redis makes one). Without an adapter the server keeps sessions in memory only.
 */
export interface RealtimeAdapter {
  /**
   * Called once by the server. Returns the journal its sessions write every change to, and the bus its fan-out
   * (`rt.emit`, `rt.to(...)`, `session.broadcast`) goes through to reach sessions held by other processes.
   */
  open(
    settings: AdapterSettings,
    events: AdapterEvents,
  ): {
    journal: SessionJournal;
    bus?: Bus;
    /** Sends upstream frames to the process holding their session (a POST that landed elsewhere). */
    forward?(sid: string, secret: string, cid: string, frames: readonly ClientFrame[]): Promise<Forwarded>;
    /** Sends a poll to the process holding its connection (a poll that landed elsewhere). */
    forwardPoll?: ForwardPoll;
    /**
     * Whether another process holds connection `cid` of session `sid` and `secret` is the session's: asked before a
     * POST's body is read, so a request naming no live session costs no parse.
     */
    forwardable?(sid: string, secret: string, cid: string): Promise<'held' | 'gone' | 'unavailable'>;
  };
  /** Called by `rt.close()`: flushes what is pending and releases connections and timers. */
  close(): Promise<void>;
}
