import type { EventMap } from '../emitter';
import type { ClientOptions } from '../options';
import { RealtimeClient as Client } from '../realtime-client';
import { shareMode } from './share-mode';

/**
 * `RealtimeClient` that can share one connection between the tabs of an origin (the `share` option; README,
 * "Sharing one connection across tabs"). The same class otherwise: only apps that import it carry the sharing code.
 */
export class RealtimeClient<ServerEvents extends object = EventMap, ClientEvents extends object = EventMap> extends Client<ServerEvents, ClientEvents> {
  constructor(url: string, options: ClientOptions = {}) {
    super(url, options, shareMode);
  }
}
