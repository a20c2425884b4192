import { afterAll, afterEach, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import type { ClientOptions } from '../../../src/client/options';
import type { LifecycleEvents } from '../../../src/client/lifecycle';
import { loadEventSourcePolyfill, type EventSourceConstructor } from '../../../src/transports/environment';
import { FakeRealtime } from './fake-realtime';
import { ManualClock } from './manual-clock';

/**
 * msw intercepts WebSocket only where a global WebSocket exists (its interceptor checks for one). Node 20 has none,
 * so `ws`'s class is installed as the global before msw starts; msw then replaces it with its interceptor.
 */
if (!('WebSocket' in globalThis)) {
  Object.defineProperty(globalThis, 'WebSocket', { value: NodeWebSocket, configurable: true, writable: true });
}

export const server = setupServer();
let Polyfill: EventSourceConstructor;
const clients: RealtimeClient<Record<string, unknown>, Record<string, unknown>>[] = [];

/** Installs msw for the file and closes every client a test created. */
export function useMsw(): void {
  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    // The polyfill captures `fetch` when it is evaluated: load it after msw patched fetch.
    Polyfill = await loadEventSourcePolyfill();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    server.resetHandlers();
  });
  afterAll(() => server.close());
}

export interface Rig {
  fake: FakeRealtime;
  clock: ManualClock;
  client: RealtimeClient<Record<string, unknown>, Record<string, unknown>>;
  /** Every lifecycle event, in order. */
  events: { type: keyof LifecycleEvents; payload: unknown }[];
  of<K extends keyof LifecycleEvents>(type: K): LifecycleEvents[K][];
  /** Every app event received: [name, data]. */
  messages: [string, unknown][];
}

/** A client against a fresh fake server, with a manual clock and jitter fixed at the middle of its range. */
const registered = new WeakSet<FakeRealtime>();

export function rig(options: ClientOptions = {}, fake = new FakeRealtime(), appEvents: string[] = ['n']): Rig {
  // One set of handlers per fake: a second ws.link for the same URL would answer every connection twice.
  if (!registered.has(fake)) server.use(...fake.handlers());
  registered.add(fake);
  const clock = new ManualClock();
  const client = new RealtimeClient<Record<string, unknown>, Record<string, unknown>>(fake.base, {
    clock,
    random: () => 0.5,
    EventSource: Polyfill,
    storage: null,
    autoConnect: false,
    ...options,
  });
  clients.push(client);
  const events: Rig['events'] = [];
  const types: (keyof LifecycleEvents)[] = ['state', 'open', 'transport', 'transportFailed', 'fallback', 'reconnecting', 'resync', 'error', 'close'];
  for (const type of types) client.lifecycle.on(type, (payload) => events.push({ type, payload }));
  const messages: [string, unknown][] = [];
  for (const e of appEvents) client.on(e, (d) => messages.push([e, d]));
  return {
    fake,
    clock,
    client,
    events,
    messages,
    of: <K extends keyof LifecycleEvents>(type: K) => events.filter((e) => e.type === type).map((e) => e.payload as LifecycleEvents[K]),
  };
}

export function polyfill(): EventSourceConstructor {
  return Polyfill;
}
