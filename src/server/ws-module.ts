import { createRequire } from 'node:module';
import type * as Ws from 'ws';

export type WsModule = typeof Ws;

/** The error `createRealtimeServer` throws when the app has not installed `ws`. */
export const WS_MISSING = 'realtime-fallback/server needs the `ws` package for its WebSocket transport: npm install ws';

/**
 * Loads `ws` when a server is created rather than when realtime-fallback/server is imported: `ws` is an optional
 * peer dependency (browser apps install this package too and never need it), so a server without it fails here
 * with an install hint instead of Node's bare "Cannot find package 'ws'". `require` so that `new RealtimeServer()`
 * stays synchronous; `ws` is a CommonJS package either way. `load` is injectable for tests.
 */
export function loadWs(load: (id: string) => unknown = createRequire(import.meta.url)): WsModule {
  try {
    return load('ws') as WsModule;
  } catch (cause) {
    // Only a missing `ws` gets the hint; any other failure inside it is reported as itself.
    if ((cause as NodeJS.ErrnoException | null)?.code !== 'MODULE_NOT_FOUND') throw cause;
    throw new Error(WS_MISSING, { cause });
  }
}
