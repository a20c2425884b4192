import { newJoinKey, type PrivateParams } from '../../protocol/carriers';
import { PROTOCOL_VERSION, QUERY, TRANSPORT_NAMES, type TransportName } from '../../protocol/frames';
import { createTransport, loadTransport } from '../../transports/create';
import type { Transport, TransportConnectParams } from '../../transports/transport';
import type { TransportEnvironment } from '../../transports/environment';
import type { AuthCredentials } from '../types';
import type { ClientSession } from '../session';
import type { ClientMode, Handshake, ModeKind } from './mode';

/** Our own server (docs/protocol.md): sessions resume, frames are acknowledged, requests get replies. */
export class ProtocolMode implements ClientMode {
  readonly requests = true;
  readonly probes = true;
  readonly refusalMeansUnavailable = false;
  /** One per client: the handshakes that race each other share the session the first of them creates. */
  private readonly join = newJoinKey();

  constructor(
    private readonly endpoint: string,
    private readonly session: ClientSession,
    private readonly heartbeatTolerance: number,
  ) {}

  url(): string {
    return this.endpoint;
  }

  /** The resume secret and the token are private: transports send them in headers or a subprotocol, never a URL. */
  handshake(creds: AuthCredentials, probe: boolean): Handshake {
    const query: Record<string, string> = { [QUERY.version]: String(PROTOCOL_VERSION) };
    const hidden: PrivateParams = { token: creds.token, join: this.join };
    const resume = this.session.resumePoint();
    if (resume) {
      query[QUERY.session] = resume.sid;
      query[QUERY.last] = String(resume.last);
      hidden.secret = resume.secret;
    }
    if (probe) query[QUERY.probe] = '1';
    return { query, hidden };
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
