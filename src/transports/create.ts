import type { TransportName } from '../protocol/frames';
import type { Transport, TransportConnectParams } from './transport';
import type { TransportEnvironment } from './environment';
import { WebSocketTransport } from './websocket';

let http: typeof import('./http-transports') | undefined;

/** What must load before `name` can be made (the HTTP transports' chunk), or null when it is ready. */
export function loadTransport(name: TransportName): Promise<void> | null {
  if (name === 'websocket' || http) return null;
  return import('./http-transports').then((m) => {
    http = m;
  });
}

/** Builds the transport of the given name (after `loadTransport`); the only place that knows the three classes. */
export function createTransport(name: TransportName, params: TransportConnectParams, env: TransportEnvironment): Transport {
  switch (name) {
    case 'websocket':
      return new WebSocketTransport(params, env);
    case 'sse':
      return new http!.SseTransport(params, env);
    case 'polling':
      return new http!.LongPollingTransport(params, env);
  }
}
