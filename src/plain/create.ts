import type { TransportName } from '../protocol/frames';
import type { Transport, TransportConnectParams } from '../transports/transport';
import type { TransportEnvironment } from '../transports/environment';
import type { PlainEndpoints, PlainState } from './plain';
import { PlainPollingTransport } from './polling';
import { PlainSseTransport } from './sse';
import { PlainWebSocketTransport } from './websocket';

/**
 * Builds the plain-mode transport of the given name (see plain.ts and the README's "Plain mode"). `params.url` is
 * that transport's absolute endpoint; the `send` endpoint resolves against it.
 */
export function createPlainTransport(
  name: TransportName,
  params: TransportConnectParams,
  env: TransportEnvironment,
  endpoints: PlainEndpoints,
  state: PlainState,
): Transport {
  const sendUrl = endpoints.send === undefined ? undefined : new URL(endpoints.send, params.url).toString();
  switch (name) {
    case 'websocket':
      return new PlainWebSocketTransport(params, env, state);
    case 'sse':
      return new PlainSseTransport(params, env, state, sendUrl);
    case 'polling':
      return new PlainPollingTransport(params, env, state, sendUrl, endpoints.pollIntervalMs ?? 1000);
  }
}
