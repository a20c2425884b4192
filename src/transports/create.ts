import type { TransportName } from '../protocol/frames';
import type { Transport, TransportConnectParams } from './transport';
import type { TransportEnvironment } from './environment';
import { WebSocketTransport } from './websocket';
import { SseTransport } from './sse';
import { LongPollingTransport } from './polling';

/** Builds the transport of the given name; the only place that knows the three classes. */
export function createTransport(name: TransportName, params: TransportConnectParams, env: TransportEnvironment): Transport {
  switch (name) {
    case 'websocket':
      return new WebSocketTransport(params, env);
    case 'sse':
      return new SseTransport(params, env);
    case 'polling':
      return new LongPollingTransport(params, env);
  }
}
