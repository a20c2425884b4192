import type { ResumeFailure, TransportName } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import type { RealtimeError } from './errors';

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Why the client is on the transport it is on. */
export type TransportReason =
  /** first transport of the walk (or the only one) */
  | 'connect'
  /** started on a transport remembered from an earlier page load */
  | 'remembered'
  /** a better transport failed, this one was next */
  | 'fallback'
  /** a background probe moved the session to a better transport */
  | 'upgrade';

/**
 * The client's own events, on a channel apart from the application's, so an app event named `open`, `error` or
 * `close` never collides with them.
 */
export interface LifecycleEvents {
  /** Every state change. */
  state: { state: ClientState; previous: ClientState };
  /** A connection is open and the session is (re)established. */
  open: { transport: TransportName; sessionId: string; resumed: boolean };
  /** The transport in use changed (or was chosen for the first time). */
  transport: { transport: TransportName; previous: TransportName | null; reason: TransportReason };
  /** A transport attempt failed or dropped; `opened` says whether it had delivered its welcome. */
  transportFailed: { transport: TransportName; opened: boolean; probe: boolean; failure: TransportFailure };
  /**
   * A retry is scheduled, after `delayMs`: of the whole walk when every transport failed, of a dropped connection, or
   * when the server asked. `attempt` counts retries since the last open connection; moving on to the next transport
   * within a walk is not a retry (see `fallback`).
   */
  reconnecting: { attempt: number; delayMs: number; transport: TransportName; reason: string };
  /** The attempt moves on to the next transport at once: `from` failed before it opened, or cannot carry the credential. */
  fallback: { from: TransportName; to: TransportName; reason: string };
  /**
   * The server could not resume the session: messages sent meanwhile are lost, so the app should reload its state.
   * `resent` unacknowledged emits/requests were re-sent to the new session: those the server said the old session
   * never accepted, or, when it could not tell (an older server, one that restarted or forgot the session), every
   * one not acknowledged (the old session may have run those: they run twice).
   */
  resync: { reason: ResumeFailure | 'session_ended'; previousSessionId: string; sessionId: string; resent: number };
  /**
   * Something went wrong; the client keeps going unless it also moves to `closed`. With no `error` listener, each code
   * is reported once to `console.error` (or the `logger`), as an unhandled promise rejection is.
   */
  error: RealtimeError;
  /**
   * With the `share` option: this tab's part. `leader` holds the connection for every tab, `follower` uses the
   * leader's, `alone` connects by itself because the browser lacks BroadcastChannel or Web Locks (`reason` says).
   */
  share: { role: 'leader' | 'follower' | 'alone'; reason: string };
  /** The client stopped: by `close()`, or for good after an unrecoverable error (`error` set). */
  close: { reason: string; error?: RealtimeError };
}

/** The subscribe half of an emitter, as the client exposes it. */
export interface Subscribable<Events> {
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
  once<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void;
}
