import { QUERY, type TransportName } from '../../protocol/frames';
import { newPlainState, plainTransports, type PlainEndpoints } from '../../plain/plain';
import type { Transport, TransportConnectParams } from '../../transports/transport';
import type { TransportEnvironment } from '../../transports/environment';
import { invalid, nonNegative } from '../option-checks';
import type { AuthCredentials } from '../types';
import type { ClientMode, Handshake, ModeKind } from './mode';

type PlainTransportFactory = typeof import('../../plain/create').createPlainTransport;

/**
 * Any server, one URL per transport (README, "Plain mode"): nothing to resume, no acknowledgements, no replies, so no
 * requests and no upgrades. Its transports are a separate chunk in the ESM build, loaded before the first connection.
 */
export class PlainMode implements ClientMode {
  readonly requests = false;
  /** A plain server cannot move a session between connections. */
  readonly probes = false;
  /** A plain server without a route for a transport answers 404/405/501: that transport is not offered. */
  readonly refusalMeansUnavailable = true;
  /** What its transports share across reconnects (cursor, Last-Event-ID, local numbering). */
  private readonly state = newPlainState();
  private factory: PlainTransportFactory | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly endpoints: PlainEndpoints,
  ) {}

  /** The transport's endpoint, resolved against the client's URL. */
  url(name: TransportName): string {
    return new URL(this.endpoints[name]!, `${this.endpoint}/`).toString();
  }

  /** A plain server is anyone's: it reads the token where tutorials put it, the `access_token` query parameter. */
  handshake(creds: AuthCredentials): Handshake {
    return { query: creds.token === undefined ? {} : { [QUERY.token]: creds.token }, hidden: {} };
  }

  /** Every plain transport is in the lazy chunk, loaded before the first connection. */
  prepare(): Promise<void> | null {
    if (this.factory) return null;
    return import('../../plain/create').then((m) => {
      this.factory = m.createPlainTransport;
    });
  }

  createTransport(name: TransportName, params: TransportConnectParams, env: TransportEnvironment): Transport {
    return this.factory!(name, params, env, this.endpoints, this.state);
  }

  /** Plain servers announce no heartbeat: only an explicit idle timeout declares them dead. */
  livenessLimitMs(): number {
    return this.endpoints.idleTimeoutMs ?? 0;
  }

  /** A plain SSE stream may set its own reconnect delay with `retry:`. */
  reopenDelayMs(name: TransportName): number | undefined {
    return name === 'sse' ? this.state.retryMs : undefined;
  }
}

export const PLAIN_MODE: ModeKind = {
  checkEndpoints(endpoints) {
    if (plainTransports(endpoints).length === 0) throw invalid('plain mode needs endpoints: at least one of websocket, sse, polling');
  },
  defaultTransports: (endpoints) => plainTransports(endpoints),
  checkTransports(transports, endpoints) {
    for (const t of transports) if (endpoints[t] === undefined) throw invalid(`plain mode: transport ${t} has no endpoint`);
    nonNegative('endpoints.pollIntervalMs', endpoints.pollIntervalMs ?? 0);
    nonNegative('endpoints.idleTimeoutMs', endpoints.idleTimeoutMs ?? 0);
  },
  create: (s) => new PlainMode(s.endpoint, s.endpoints),
};
