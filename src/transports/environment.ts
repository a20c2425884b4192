/**
 * Platform constructors the transports need, resolved from an injectable environment first and the global scope
 * second. Tests (and apps on unusual platforms) inject them; browsers use their own.
 */

/** The part of an event the transports read. Native events and the polyfill's events both fit. */
export interface EventLike {
  readonly type: string;
}

/** A `message` event: native `MessageEvent`, the polyfill's, or `ws`'s. */
export interface MessageEventLike extends EventLike {
  readonly data: unknown;
}

/** Any WebSocket class (the browser's, `ws`'s). `CLOSING` is only there to tell a class from a plain function. */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): unknown;
  readonly CLOSING: number;
}

/** What the SSE transport passes to an EventSource constructor; native EventSource reads `withCredentials` only. */
export interface EventSourceInitLike {
  withCredentials?: boolean;
  /** event-source-polyfill only. */
  headers?: Record<string, string>;
  /** event-source-polyfill only: its own liveness timer (ms); the transport sets the largest it accepts. */
  heartbeatTimeout?: number;
  /** event-source-polyfill only: the class that reads the stream (see sse-fetch.ts). */
  Transport?: new () => unknown;
}

/** The part of an EventSource the SSE transport uses. */
export interface EventSourceLike {
  readonly readyState: number;
  // Method syntax on purpose: listener parameters compare bivariantly, so both the DOM's and the polyfill's
  // EventSource (whose event types differ) satisfy this interface.
  addEventListener(type: 'message' | 'error', listener: (event: MessageEventLike) => void): void;
  removeEventListener(type: 'message' | 'error', listener: (event: MessageEventLike) => void): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string, init?: EventSourceInitLike) => EventSourceLike;

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** Injectable platform pieces. Every field is optional; a missing one falls back to the global of the same name. */
export interface TransportEnvironment {
  WebSocket?: WebSocketConstructor;
  /** Used when no custom headers are needed. With headers the SSE transport always uses event-source-polyfill. */
  EventSource?: EventSourceConstructor;
  fetch?: FetchFn;
  /** Loads event-source-polyfill's constructor. Default: {@link loadEventSourcePolyfill}. Tests inject a spy. */
  loadEventSourcePolyfill?: () => Promise<EventSourceConstructor>;
}

type Globals = { WebSocket?: WebSocketConstructor; EventSource?: EventSourceConstructor };

export function resolveWebSocket(env: TransportEnvironment): WebSocketConstructor | undefined {
  return env.WebSocket ?? (globalThis as Globals).WebSocket;
}

/** The injected or the native EventSource; `undefined` means "load the polyfill". */
export function resolveNativeEventSource(env: TransportEnvironment): EventSourceConstructor | undefined {
  return env.EventSource ?? (globalThis as Globals).EventSource;
}

/**
 * The injected fetch, or one that looks `globalThis.fetch` up at call time (so a fetch patched after the transport
 * was created, by msw or an app's instrumentation, is still used).
 */
export function resolveFetch(env: TransportEnvironment): FetchFn {
  return env.fetch ?? ((input, init) => globalThis.fetch(input, init));
}

interface PolyfillModule {
  EventSourcePolyfill?: EventSourceConstructor;
  default?: { EventSourcePolyfill?: EventSourceConstructor };
  /** Set by the script-tag build, which leaves the polyfill out: why there is none. */
  notIncluded?: string;
}

/**
 * Loads event-source-polyfill on first use. The dynamic `import()` makes bundlers put it in its own chunk, so apps
 * that have a native EventSource and need no headers never download it. The package is CommonJS: depending on the
 * loader its exports arrive as named exports (bundlers) or under `default` (Node's ESM loader).
 */
export async function loadEventSourcePolyfill(): Promise<EventSourceConstructor> {
  const mod = (await import('event-source-polyfill')) as unknown as PolyfillModule;
  const ctor = mod.EventSourcePolyfill ?? mod.default?.EventSourcePolyfill;
  if (ctor === undefined) throw new Error(mod.notIncluded ?? 'event-source-polyfill did not export EventSourcePolyfill');
  return ctor;
}
