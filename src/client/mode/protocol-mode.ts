import { PROTOCOL_VERSION, QUERY, TRANSPORT_NAMES, type TransportName } from '../../protocol/frames';
import { createTransport, loadTransport } from '../../transports/create';
import type { Transport, TransportConnectParams } from '../../transports/transport';
import type { TransportEnvironment } from '../../transports/environment';
import type { AuthCredentials } from '../options';
import type { ClientSession } from '../session';
import type { ClientMode, ModeKind } from './mode';

/** Our own server (docs/protocol.md): sessions resume, frames are acknowledged, requests get replies. */
export class ProtocolMode implements ClientMode {
  readonly requests = true;
  readonly probes = true;
  readonly refusalMeansUnavailable = false;

  constructor(
    private readonly endpoint: string,
    private readonly session: ClientSession,
    private readonly heartbeatTolerance: number,
  ) {}

  url(): string {
    return this.endpoint;
  }

  query(creds: AuthCredentials, probe: boolean): Record<string, string> {
    const query: Record<string, string> = { [QUERY.version]: String(PROTOCOL_VERSION), ...this.session.resumeQuery() };
    if (probe) query[QUERY.probe] = '1';
    if (creds.token !== undefined) query[QUERY.token] = creds.token;
    return query;
  }

  /** SSE and polling load on first use (a chunk of their own in the ESM build). */
  prepare(name: TransportName): Promise<void> | null {
    return loadTransport(name);
  }

  createTransport(name: TransportName, params: TransportConnectParams, env: TransportEnvironment): Transport {
    return createTransport(name, params, env);
  }

  /** The server announces its heartbeat in the welcome; `heartbeatTolerance` of them may go missing. */
  livenessLimitMs(): number {
    return this.session.heartbeatMs * this.heartbeatTolerance;
  }

  reopenDelayMs(): undefined {
    return undefined;
  }
}

export const PROTOCOL_MODE: ModeKind = {
  checkEndpoints: () => {},
  defaultTransports: () => [...TRANSPORT_NAMES],
  checkTransports: () => {},
  create: (s) => new ProtocolMode(s.endpoint, s.session, s.heartbeatTolerance),
};
