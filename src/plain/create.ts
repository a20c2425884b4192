import type { TransportName } from '../protocol/frames';
import type { Transport, TransportConnectParams } from '../transports/transport';
import type { TransportEnvironment } from '../transports/environment';
import type { PlainEndpoints, PlainState } from './plain';

/** Builds the plain-mode transport of the given name (see plain.ts and the README's "Plain mode"). */
export function createPlainTransport(
  name: TransportName,
  params: TransportConnectParams,
  env: TransportEnvironment,
  endpoints: PlainEndpoints,
  state: PlainState,
): Transport {
  void params;
  void env;
  void endpoints;
  void state;
  throw new Error(`plain ${name} transport: not implemented yet`);
}
