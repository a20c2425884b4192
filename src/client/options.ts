import type { BackoffPolicy } from './backoff';
import type { Clock } from './scheduler';
import { TRANSPORT_NAMES, type TransportName } from '../protocol/frames';
import { invalid, nonNegative } from './option-checks';
import { MODES } from './mode/modes';
import type { EventSourceConstructor, FetchFn, WebSocketConstructor } from '../transports/environment';
import type { PlainEndpoints } from '../plain/plain';
import type { PersistStore } from './persistence';
import type { AuthCredentials, Logger } from './types';

export type { AuthCredentials, Logger, LogLevel } from './types';

export type { WebSocketConstructor, EventSourceConstructor, FetchFn } from '../transports/environment';

/** Every option of `RealtimeClient`, each with its default. */
export interface ClientOptions {
  /**
   * `'realtime-fallback'` (default): the server speaks docs/protocol.md (exactly-once, resume, requests).
   * `'plain'`: any server, one URL per transport in `endpoints`; see the README for what plain mode can guarantee.
   */
  protocol?: 'realtime-fallback' | 'plain';
  /** Plain mode only: the URL of each transport (any subset), resolved against the client's URL. */
  endpoints?: PlainEndpoints;
  /** Transports to try, in order. Default `['websocket', 'sse', 'polling']`. */
  transports?: TransportName[];
  /** Connect when constructed. Default `true`; with `false`, call `connect()`. */
  autoConnect?: boolean;
  /** Time for a transport to deliver its welcome frame before the next one is tried, per transport, in ms, or one
   *  number for all. Default `{ websocket: 5000, sse: 5000, polling: 10000 }`. A proxy that buffers SSE trips the
   *  SSE one. */
  openTimeoutMs?: number | Partial<Record<TransportName, number>>;
  /**
   * Head start of an attempt, in ms: when it has not delivered its welcome by then, the next transport is started
   * alongside it and the first to welcome is kept (a hanging upgrade or a buffering proxy costs this, not the open
   * timeout). `0` tries one transport at a time. Default `1000`.
   */
  raceAfterMs?: number;
  /** Retry delays. Default `{ initialMs: 500, maxMs: 30000, factor: 2, jitter: 0.5 }`. */
  backoff?: Partial<BackoffPolicy>;
  /** Failed reopen attempts of a transport that had worked before stepping down to the next. Default `3`. */
  retriesPerTransport?: number;
  /** Silence longer than `heartbeat interval × this` means the connection is dead. Default `2.5`. */
  heartbeatTolerance?: number;
  /** Most emits and requests waiting in the outbox (unsent or unacknowledged). Default `1000`. */
  maxQueuedMessages?: number;
  /** Most bytes (UTF-8 JSON) waiting in the outbox. Default `1048576` (1 MiB). */
  maxQueuedBytes?: number;
  /** Default timeout of `request()`, in ms. Default `10000`. */
  requestTimeoutMs?: number;
  /** Called before every connection attempt; a 401/403 calls it once more for a fresh credential. Default none. */
  auth?: () => AuthCredentials | Promise<AuthCredentials>;
  /** Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: 'include'`). Default `false`. */
  withCredentials?: boolean;
  /** How long the transport that worked is remembered per URL in sessionStorage, in ms; `0` disables. Default `600000`. */
  rememberTransportMs?: number;
  /** First delay before probing a better transport while on a fallback, in ms; grows on failed probes; `0` disables.
   *  Default `30000`. */
  upgradeProbeMs?: number;
  /** WebSocket constructor. Default `globalThis.WebSocket`; pass `ws` in Node 20. */
  WebSocket?: WebSocketConstructor;
  /** EventSource constructor. Default `globalThis.EventSource`, else event-source-polyfill. */
  EventSource?: EventSourceConstructor;
  /** fetch implementation for polling and upstream POSTs. Default `globalThis.fetch`. */
  fetch?: FetchFn;
  /** Storage for the remembered transport. Default `globalThis.sessionStorage` when present. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** Receives diagnostics. Default: none (silent). */
  logger?: Logger;
  /**
   * Logs every attempt, every frame type in and out, and every diagnostic to `console.debug` (besides the logger).
   * Default: on when `localStorage.debug` contains `realtime-fallback` (as socket.io's `debug`), else off.
   */
  debug?: boolean;
  /**
   * Keep the session and the outbox across reloads, tab crashes and a way back (protocol mode): `true` keeps them in
   * IndexedDB (its code loads only then), or pass a store of your own. Default `false`.
   */
  persist?: boolean | PersistStore;
  /** After a reload with `persist`: `'replay'` delivers what the server sent while the page was away, `'skip'`
   *  takes it as seen. Default `'replay'`. */
  resume?: 'replay' | 'skip';
  /** Timer and wall clock, for tests. Default: the platform's. */
  clock?: Clock;
  /** Random source in [0, 1) for jitter, for tests. Default `Math.random`. */
  random?: () => number;
  /**
   * Share one connection between the tabs of this origin (README, "Sharing one connection across tabs"): `true`
   * shares with every tab of the same URL, a string with every tab that passes the same string. Default `false`.
   */
  share?: boolean | string;
}

/** The options resolved: every default filled in, frozen (nothing changes them once made; see `overrideOptions`). */
export interface ResolvedOptions {
  readonly protocol: 'realtime-fallback' | 'plain';
  readonly endpoints: Readonly<PlainEndpoints>;
  readonly transports: readonly TransportName[];
  readonly autoConnect: boolean;
  readonly openTimeoutMs: Readonly<Record<TransportName, number>>;
  readonly raceAfterMs: number;
  readonly backoff: Readonly<BackoffPolicy>;
  readonly retriesPerTransport: number;
  readonly heartbeatTolerance: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly requestTimeoutMs: number;
  readonly auth: (() => AuthCredentials | Promise<AuthCredentials>) | undefined;
  readonly withCredentials: boolean;
  readonly rememberTransportMs: number;
  readonly upgradeProbeMs: number;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly EventSource: EventSourceConstructor | undefined;
  readonly fetch: FetchFn | undefined;
  readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  readonly logger: Logger;
  readonly debug: boolean;
  readonly persist: false | true | PersistStore;
  readonly resume: 'replay' | 'skip';
  readonly clock: Clock | undefined;
  readonly random: () => number;
  readonly share: boolean | string;
}

/**
 * Settings a feature uses instead of the ones given, as data: the `share` option's own link to the leading tab, for
 * one (share/share-mode.ts). `backoff` is merged field by field.
 */
export type OptionOverrides = Partial<Omit<ResolvedOptions, 'backoff'>> & { backoff?: Partial<BackoffPolicy> };

/** The defaults, in one place. */
export const DEFAULTS = {
  protocol: 'realtime-fallback',
  transports: [...TRANSPORT_NAMES],
  autoConnect: true,
  openTimeoutMs: { websocket: 5000, sse: 5000, polling: 10000 },
  raceAfterMs: 1000,
  backoff: { initialMs: 500, maxMs: 30000, factor: 2, jitter: 0.5 },
  retriesPerTransport: 3,
  heartbeatTolerance: 2.5,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 1024 * 1024,
  requestTimeoutMs: 10000,
  withCredentials: false,
  rememberTransportMs: 600000,
  upgradeProbeMs: 30000,
  persist: false,
  resume: 'replay',
  share: false,
} as const;

function sessionStorageOrNull(): ResolvedOptions['storage'] {
  try {
    return (globalThis as { sessionStorage?: Storage }).sessionStorage ?? null;
  } catch {
    return null; // access throws in sandboxed iframes and with storage disabled
  }
}

/** Every option name, so that a misspelt one is reported instead of silently ignored. */
const OPTION_NAMES: ReadonlySet<string> = new Set<keyof ClientOptions>([
  'protocol', 'endpoints', 'transports', 'autoConnect', 'openTimeoutMs', 'raceAfterMs', 'backoff', 'retriesPerTransport',
  'heartbeatTolerance', 'maxQueuedMessages', 'maxQueuedBytes', 'requestTimeoutMs', 'auth', 'withCredentials',
  'rememberTransportMs', 'upgradeProbeMs', 'WebSocket', 'EventSource', 'fetch', 'storage', 'logger', 'debug', 'persist',
  'resume', 'clock', 'random', 'share',
]);

/** `localStorage.debug` naming us turns debug logging on (a page can flip it without a rebuild). */
function debugFromStorage(): boolean {
  try {
    const value = (globalThis as { localStorage?: Storage }).localStorage?.getItem('debug');
    return typeof value === 'string' && value.includes('realtime-fallback');
  } catch {
    return false; // access throws in sandboxed iframes and with storage disabled
  }
}

/** Every line to `console.debug` too, then to the app's logger. */
function debugLogger(logger: Logger | undefined): Logger {
  return (level, message, details) => {
    (globalThis as { console?: { debug(...a: unknown[]): void } }).console?.debug(`realtime-fallback ${level}: ${message}`, details ?? '');
    logger?.(level, message, details);
  };
}

/** Unknown option names are ignored, but said so: to the logger if one was given, else to the console. */
function warnUnknown(options: ClientOptions): void {
  for (const name of Object.keys(options)) {
    if (OPTION_NAMES.has(name)) continue;
    const message = `unknown option "${name}" ignored`;
    if (options.logger) options.logger('warn', message);
    else (globalThis as { console?: { warn(m: string): void } }).console?.warn(`realtime-fallback: ${message}`);
  }
}

/** An option that must be an object: anything else cannot be meant, and says what was expected. */
function objectOption<T extends object>(name: string, value: T, shape?: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`option ${name} must be an object${shape ? ` like ${shape}` : ''}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Fills in defaults with `??` (so 0 stays 0) into a new object, and rejects invalid values. */
export function resolveOptions(options: ClientOptions = {}): ResolvedOptions {
  const protocol = options.protocol ?? DEFAULTS.protocol;
  if (!Object.prototype.hasOwnProperty.call(MODES, protocol)) throw invalid(`unknown protocol ${JSON.stringify(protocol)}`);
  const endpoints = objectOption('endpoints', options.endpoints ?? {}, '{ websocket, sse, polling, send }');
  const mode = MODES[protocol];
  mode.checkEndpoints(endpoints);
  const transports = options.transports ?? mode.defaultTransports(endpoints);
  if (!Array.isArray(transports) || transports.length === 0) throw invalid('option transports must list at least one transport');
  for (const t of transports) {
    if (!TRANSPORT_NAMES.includes(t)) throw invalid(`unknown transport ${JSON.stringify(t)}; use ${TRANSPORT_NAMES.join(', ')}`);
  }
  if (new Set(transports).size !== transports.length) throw invalid('option transports lists a transport twice');
  mode.checkTransports(transports, endpoints);

  warnUnknown(options);
  const debug = options.debug ?? debugFromStorage();
  // Field by field with `??`, so an explicit `undefined` means "default" here too; one number sets every transport.
  const given = options.openTimeoutMs ?? {};
  const t = typeof given === 'number' ? { websocket: given, sse: given, polling: given } : objectOption('openTimeoutMs', given, '{ websocket, sse, polling } (or one number for all)');
  const timeouts: Record<TransportName, number> = {
    websocket: t.websocket ?? DEFAULTS.openTimeoutMs.websocket,
    sse: t.sse ?? DEFAULTS.openTimeoutMs.sse,
    polling: t.polling ?? DEFAULTS.openTimeoutMs.polling,
  };
  for (const [k, v] of Object.entries(timeouts)) nonNegative(`openTimeoutMs.${k}`, v);
  const b = objectOption('backoff', options.backoff ?? {}, '{ initialMs, maxMs, factor, jitter }');
  const backoff: BackoffPolicy = {
    initialMs: b.initialMs ?? DEFAULTS.backoff.initialMs,
    maxMs: b.maxMs ?? DEFAULTS.backoff.maxMs,
    factor: b.factor ?? DEFAULTS.backoff.factor,
    jitter: b.jitter ?? DEFAULTS.backoff.jitter,
  };
  nonNegative('backoff.initialMs', backoff.initialMs);
  nonNegative('backoff.maxMs', backoff.maxMs);
  if (!(backoff.factor >= 1)) throw invalid('option backoff.factor must be >= 1');
  if (!(backoff.jitter >= 0 && backoff.jitter <= 1)) throw invalid('option backoff.jitter must be within 0..1');
  const share = options.share ?? DEFAULTS.share;
  if (share === '' || (typeof share != 'boolean' && typeof share != 'string') || (share && protocol == 'plain')) {
    throw invalid('option share must be a boolean or a channel name, with our protocol');
  }
  const tolerance = options.heartbeatTolerance ?? DEFAULTS.heartbeatTolerance;
  if (!(tolerance >= 1)) throw invalid('option heartbeatTolerance must be >= 1');
  const persist = options.persist ?? DEFAULTS.persist;
  if (typeof persist !== 'boolean' && typeof persist?.load !== 'function') throw invalid('option persist must be a boolean or a store');
  if (persist && protocol === 'plain') throw invalid('option persist needs protocol realtime-fallback');
  // Tabs that share one session would each keep (and later resume) it: one of the two, for now.
  if (persist && options.share) throw invalid('options persist and share cannot be used together');
  const resume = options.resume ?? DEFAULTS.resume;
  if (resume !== 'replay' && resume !== 'skip') throw invalid("option resume must be 'replay' or 'skip'");

  return Object.freeze({
    protocol,
    endpoints: Object.freeze({ ...endpoints }),
    transports: Object.freeze([...transports]),
    autoConnect: options.autoConnect ?? DEFAULTS.autoConnect,
    openTimeoutMs: Object.freeze(timeouts),
    raceAfterMs: nonNegative('raceAfterMs', options.raceAfterMs ?? DEFAULTS.raceAfterMs),
    backoff: Object.freeze(backoff),
    retriesPerTransport: nonNegative('retriesPerTransport', options.retriesPerTransport ?? DEFAULTS.retriesPerTransport),
    heartbeatTolerance: tolerance,
    maxQueuedMessages: nonNegative('maxQueuedMessages', options.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages),
    maxQueuedBytes: nonNegative('maxQueuedBytes', options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes),
    requestTimeoutMs: nonNegative('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs),
    auth: options.auth,
    withCredentials: options.withCredentials ?? DEFAULTS.withCredentials,
    rememberTransportMs: nonNegative('rememberTransportMs', options.rememberTransportMs ?? DEFAULTS.rememberTransportMs),
    upgradeProbeMs: nonNegative('upgradeProbeMs', options.upgradeProbeMs ?? DEFAULTS.upgradeProbeMs),
    WebSocket: options.WebSocket,
    EventSource: options.EventSource,
    fetch: options.fetch,
    storage: options.storage === undefined ? sessionStorageOrNull() : options.storage,
    logger: debug ? debugLogger(options.logger) : options.logger ?? (() => {}),
    debug,
    persist,
    resume,
    clock: options.clock,
    random: options.random ?? Math.random,
    share,
  });
}

/** `resolved` with `overrides` in a new frozen object (both were checked already: they are ours, not the caller's). */
export function overrideOptions(resolved: ResolvedOptions, overrides: OptionOverrides): ResolvedOptions {
  return Object.freeze({ ...resolved, ...overrides, backoff: Object.freeze({ ...resolved.backoff, ...overrides.backoff }) });
}
