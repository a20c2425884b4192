import type { PrivateParams } from '../../protocol/carriers';
import type { TransportName } from '../../protocol/frames';
import type { PlainEndpoints } from '../../plain/plain';
import type { Transport, TransportConnectParams } from '../../transports/transport';
import type { TransportEnvironment } from '../../transports/environment';
import type { AuthCredentials } from '../types';
import type { ClientSession } from '../session';

/**
 * What differs between talking to our own server (protocol mode: resume, acknowledgements, requests, upgrades) and
 * to any server (plain mode: one URL per transport, nothing to resume). The client core asks its mode and never
 * which mode it is in.
 */
export interface ClientMode {
  /** Requests with replies: plain servers send no replies. */
  readonly requests: boolean;
  /** A live session can move to a better transport (the upgrade probe). */
  readonly probes: boolean;
  /** A 4xx before a connection opened only means this transport is not offered there (the walk moves on). */
  readonly refusalMeansUnavailable: boolean;
  /** Endpoint of transport `name`. */
  url(name: TransportName): string;
  /** What an attempt's handshake sends; `probe`: an upgrade probe. */
  handshake(creds: AuthCredentials, probe: boolean): Handshake;
  /** What must load before transport `name` can open (a lazy chunk), or null when nothing must. */
  prepare(name: TransportName): Promise<void> | null;
  createTransport(name: TransportName, params: TransportConnectParams, env: TransportEnvironment): Transport;
  /** Silence after which an open connection counts as dead, in ms; 0: never. */
  livenessLimitMs(): number;
  /** Delay before reopening `name` after it dropped, when the server asked for one (SSE `retry:`). */
  reopenDelayMs(name: TransportName): number | undefined;
}

/** A handshake's parameters: those a URL may show, and those it must not (the transport decides where they go). */
export interface Handshake {
  query: Record<string, string>;
  hidden: PrivateParams;
}

/** What makes a mode, and what it checks of the options (one per value of the `protocol` option). */
export interface ModeKind {
  /** Checked first: what the mode needs of `endpoints`. */
  checkEndpoints(endpoints: PlainEndpoints): void;
  defaultTransports(endpoints: PlainEndpoints): TransportName[];
  checkTransports(transports: readonly TransportName[], endpoints: PlainEndpoints): void;
  create(settings: ModeSettings): ClientMode;
}

/** What a mode is made from: the client's URL, its resolved options' parts, and the session it resumes. */
export interface ModeSettings {
  endpoint: string;
  endpoints: PlainEndpoints;
  session: ClientSession;
  heartbeatTolerance: number;
}
