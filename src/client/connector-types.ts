import type { TransportName, WelcomeFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import type { Connection, ConnectionHandlers } from './connection';
import type { RealtimeError } from './errors';
import type { SessionFrame } from './frame-check';
import type { ClientState, TransportReason } from './lifecycle';
import type { ResolvedOptions } from './options';
import type { AuthCredentials } from './types';

// The connector's contract (connector.ts): what it asks of its owner, and what it offers the session core and the
// upgrade probe. In a file of its own so that they can name it without importing how it works.

/** What the connector asks of the client it connects. */
export interface ConnectorHost {
  readonly state: ClientState;
  setState(state: ClientState): void;
  /** A welcome arrived on the active connection: take the session it names. */
  welcomed(welcome: WelcomeFrame): void;
  /** The active connection is open (after `welcomed`); `reason` is why this transport is the one. */
  opened(conn: Connection, welcome: WelcomeFrame, reason: TransportReason): void;
  received(conn: Connection, frame: SessionFrame): void;
  /** The active connection is gone: stop what ran on it. */
  lost(conn: Connection, failure: TransportFailure): void;
  /** Retrying cannot help: the client closes with `error`. */
  stop(error: RealtimeError): void;
  /** What must finish before a handshake with `creds` (restoring a persisted session), or null when nothing must. */
  prepare(creds: AuthCredentials): Promise<void> | null;
}

/** The options the connector works from, picked once from the resolved ones. */
export type ConnectorOptions = Pick<
  ResolvedOptions,
  'transports' | 'retriesPerTransport' | 'raceAfterMs' | 'auth' | 'storage' | 'rememberTransportMs' | 'logger' | 'debug'
>;

/**
 * Gets the client a working connection and keeps it: an attempt with fresh credentials (and, when it has not welcomed
 * within its head start, the next transports started alongside it: the first to welcome is kept), the fallback walk
 * and backoff after a failure, the failure policy (stop, refresh the credential, wait as told), retries held while
 * the browser is offline, and the liveness of the open connection.
 */
export interface Connector {
  /** The connection in use (opening or open), or null between attempts. */
  readonly active: Connection | null;
  /** Which attempt is current: async work started under another number is stale. */
  readonly attempt: number;
  /** Where its connections report (a probe that became the active connection reports here too). */
  readonly handlers: ConnectionHandlers;
  credentials(): Promise<AuthCredentials>;
  /** Starts connecting from the remembered transport, or the first. */
  start(): void;
  /** Stops everything: the active connection, the pending retry, the page listeners. */
  stop(): void;
  /** Remembers `name` for this URL (or forgets, when it is the first choice), for the next page load. */
  remember(name: TransportName): void;
  /** Watches the open connection's silence from now on. */
  watchLiveness(): void;
  /** An upgrade probe took the session over: it is the active connection now, the old one is closed. */
  replaceWith(probe: Connection): void;
  /** The active connection failed or dropped: decide, from the failure, whether and when to try again, and where. */
  fail(conn: Connection, failure: TransportFailure, immediate?: boolean): void;
}
