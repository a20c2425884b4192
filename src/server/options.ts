import type { IncomingMessage } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import type { RealtimeAdapter } from './adapter';
import type { Bus } from './bus';
import type { SessionStore } from './session-store';
import { compileTrust, type TrustPredicate, type TrustProxy } from './proxy-trust';
import type { Logger } from './types';
import type { AddressPrefixes } from './address-range';
import { FRAME_ENVELOPE_BYTES } from '../protocol/limits';

/** Which browser origins may talk to the server besides its own. */
export interface CorsOptions {
  /** Allowed `Origin` values (exact match, e.g. `https://app.example.com`), or `'*'` for any origin. */
  origins: readonly string[] | '*';
  /** Send `Access-Control-Allow-Credentials: true` (cookies / HTTP auth on cross-origin requests). Default false. */
  credentials?: boolean;
}

/**
 * Decides whether a request may open a connection or post frames. Return (or resolve) `false` or throw to refuse
 * with 401; return `true` or an object to accept. An object is kept as `session.auth`.
 */
export type Authenticate = (req: IncomingMessage) => boolean | object | Promise<boolean | object>;

export interface ServerOptions {
  /** Endpoint path; transports live at `${path}/ws`, `/sse`, `/poll`, `/send`. Default `'/realtime'`. */
  path?: string;
  /** Heartbeat interval announced in `welcome.hb`; also the long-poll hold time. Default 25 000 ms. */
  heartbeatMs?: number;
  /** How long a session outlives its last connection. Default 120 000 ms. */
  sessionGraceMs?: number;
  /** Unacknowledged sequenced frames kept per session for replay (count). Default 1000. */
  replayBufferMaxMessages?: number;
  /** Unacknowledged sequenced frames kept per session for replay (UTF-8 bytes of JSON). Default 1 MiB. */
  replayBufferMaxBytes?: number;
  /**
   * The largest message, both ways, announced in `welcome.maxFrame`. A message's size is the UTF-8 bytes of
   * `JSON.stringify({ e: event, d: data })` (a reply: `JSON.stringify({ d: data })`); a message of exactly this size
   * travels on every transport. The client refuses a bigger `emit`/`request` at the call (`payload_too_large`); the
   * server refuses a bigger `session.emit`, `rt.emit`, room, session and broadcast emit, or reply at the call
   * (`RealtimeServerError('payload_too_large')`, nothing queued; a refused reply reaches its client as an error
   * reply). The WebSocket frame limit, POST bodies (four frames), the client's event stream line limit and the floors
   * of `replayBufferMaxBytes` (one frame) and `maxBufferedBytes` (four) all follow from it. Default 1 MiB.
   */
  maxMessageBytes?: number;
  /** @deprecated Use `maxMessageBytes` (this is its old name; `maxMessageBytes` wins when both are given). */
  maxFrameBytes?: number;
  /**
   * Back-pressure: bytes a WebSocket or SSE connection may have queued for its client (`ws.bufferedAmount`,
   * `res.writableLength`) while it reads slower than the server sends. A connection is cut as a slow reader (logged
   * as a warning) only when what is queued has stayed above this for `slowReaderMs`, never because one message is
   * large; it is cut at once above 4 times this (the hard memory bound). It is never less than 4 messages of
   * `maxMessageBytes`. A polling connection that holds no poll is cut above it. A cut session stays resumable from
   * its replay buffer for the grace period. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /** How long what is queued for a WebSocket or SSE connection may stay above `maxBufferedBytes` before it is cut. Default 10 000 ms. */
  slowReaderMs?: number;
  /**
   * New sessions one client (remote address) may hold at once, those waiting for a resume included. A handshake
   * over it is refused with `rate_limited` (HTTP 429 / WebSocket 4429) and `retryAfter`; resumes are not counted.
   * The client's address is the socket's peer, or with `trustProxy` the first untrusted `X-Forwarded-For` hop;
   * behind a proxy without `trustProxy` every client shares the proxy's address. Default 100.
   */
  maxSessionsPerClient?: number;
  /**
   * Which addresses count as one client for `maxSessionsPerClient`: the leading bits kept of an IPv4 and of an IPv6
   * address. Default `{ ipv4: 32, ipv6: 64 }`: one IPv4 address, one IPv6 /64 (a single host may use any address of
   * its /64, so counting exact IPv6 addresses would set no limit at all).
   */
  clientAddressPrefix?: Partial<AddressPrefixes>;
  /**
   * Memory all sessions may hold together, in bytes: their replay buffers, what is queued for a polling connection
   * that holds no poll, and a fixed cost each. Over it, sessions are let go, the client heard from longest ago first:
   * first those waiting for a resume or holding frames their client never acknowledged, then any. Without an adapter
   * they end (their client resyncs if it comes back); with one only this process's copy goes (it is restored from the
   * adapter's store). Default: a quarter of the V8 heap limit (`--max-old-space-size`).
   */
  sessionsMaxBytes?: number;
  /**
   * How long the server remembers a session that ended (expired, or ended by the app or `sessionsMaxBytes`): a client that
   * names it in a handshake with its secret is told which of its emits the old session ran (`welcome.prevAck`), so
   * none runs twice. With an adapter, its store keeps the ended session this long, for every node. Default 1 800 000 ms.
   */
  endedSessionMemoryMs?: number;
  /** How many ended sessions this process remembers at most (about 320 bytes each), oldest forgotten first. Default 10 000. */
  endedSessionMemoryMax?: number;
  /**
   * Cross-origin access. Default: same-origin only. Requests without an `Origin` header (non-browser clients) and
   * requests a browser marks `Sec-Fetch-Site: same-origin` are always allowed; others are refused with
   * `origin_rejected` (HTTP 403 / WebSocket close 4403).
   */
  cors?: CorsOptions;
  /**
   * Reverse proxies whose forwarded headers are believed, as express's `trust proxy`: `true` (every hop), a hop
   * count, or a list of proxy addresses (IPs, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`). Under it the
   * origin check takes the scheme and host from `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host`, and the
   * client address (for `maxSessionsPerClient`) from `X-Forwarded-For`. Only trust proxies that overwrite these
   * headers (docs/deploy.md). Default `false`: forwarded headers are ignored.
   */
  trustProxy?: TrustProxy;
  /** Credential check run on every handshake and upstream POST. Default: everyone is accepted. */
  authenticate?: Authenticate;
  /** `retry:` value sent at the start of every SSE stream. Default 1000 ms. */
  sseRetryMs?: number;
  /** WebSocket acks are sent this long after the last accepted frame of a burst. Default 20 ms. */
  ackDelayMs?: number;
  /** Where sessions live. Default: an in-memory store. */
  sessionStore?: SessionStore;
  /**
   * A shared store that sessions are written to as they change, so they survive a restart or deploy of this
   * process (docs/design/scale-out.md). Default: none, sessions live in this process's memory only.
   */
  adapter?: RealtimeAdapter;
  /** Fan-out of broadcasts and room emits. Default: an in-memory bus delivering synchronously. */
  bus?: Bus;
  /** Default: `console` for warn/error, debug discarded. */
  logger?: Logger;
}

/** Options with every default applied. `sessionStore` and `bus` are filled in by the server. */
export interface ResolvedOptions {
  path: string;
  heartbeatMs: number;
  sessionGraceMs: number;
  replayBufferMaxMessages: number;
  replayBufferMaxBytes: number;
  maxMessageBytes: number;
  /** `maxBufferedBytes` raised to 4 messages of the limit at least. */
  maxBufferedBytes: number;
  /** Cut at once above it: 4 x `maxBufferedBytes`. */
  hardBufferedBytes: number;
  slowReaderMs: number;
  maxSessionsPerClient: number;
  clientAddressPrefix: AddressPrefixes;
  sessionsMaxBytes: number;
  endedSessionMemoryMs: number;
  endedSessionMemoryMax: number;
  cors: { origins: readonly string[] | '*'; credentials: boolean };
  trustProxy: TrustPredicate;
  authenticate: Authenticate | undefined;
  sseRetryMs: number;
  ackDelayMs: number;
  logger: Logger;
}

const consoleLogger: Logger = {
  debug: () => {},
  warn: (message, meta) => console.warn(`[realtime] ${message}`, meta ?? ''),
  error: (message, meta) => console.error(`[realtime] ${message}`, meta ?? ''),
};

/** `maxBufferedBytes` is never less than this many messages of the limit: a few large messages are not a slow reader. */
const BUFFERED_MIN_MESSAGES = 4;
/** A connection is cut at once when this many times `maxBufferedBytes` is queued for it (the hard memory bound). */
const HARD_BUFFERED_FACTOR = 4;

/** The one place defaults live. */
export const DEFAULTS = {
  path: '/realtime',
  heartbeatMs: 25_000,
  sessionGraceMs: 120_000,
  replayBufferMaxMessages: 1000,
  replayBufferMaxBytes: 1024 * 1024,
  maxMessageBytes: 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  slowReaderMs: 10_000,
  maxSessionsPerClient: 100,
  clientAddressPrefix: { ipv4: 32, ipv6: 64 },
  /** A quarter of the heap this process may use (`--max-old-space-size`). */
  sessionsMaxBytes: (): number => Math.floor(getHeapStatistics().heap_size_limit / 4),
  endedSessionMemoryMs: 1_800_000,
  endedSessionMemoryMax: 10_000,
  trustProxy: false,
  sseRetryMs: 1000,
  ackDelayMs: 20,
} as const;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`realtime server: ${name} must be a positive number`);
  return value;
}

function prefix(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`realtime server: ${name} must be an integer from 0 to ${max}`);
  return value;
}

function positiveOrInfinity(name: string, value: number): number {
  return value === Infinity ? value : positive(name, value);
}

/** Applies defaults into a new object; never mutates `options`. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const path = (options.path ?? DEFAULTS.path).replace(/\/+$/, '');
  const maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes ?? options.maxFrameBytes ?? DEFAULTS.maxMessageBytes);
  const frameBytes = maxMessageBytes + FRAME_ENVELOPE_BYTES;
  const maxBufferedBytes = Math.max(positive('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes), BUFFERED_MIN_MESSAGES * frameBytes);
  const logger = options.logger ?? consoleLogger;
  // Development only: the old name still works, but says so once per server.
  if (options.maxFrameBytes !== undefined && process.env.NODE_ENV !== 'production') logger.warn('maxFrameBytes is deprecated: use maxMessageBytes (the same limit, now both ways)');
  return {
    path: path.startsWith('/') ? path : `/${path}`,
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs),
    sessionGraceMs: positive('sessionGraceMs', options.sessionGraceMs ?? DEFAULTS.sessionGraceMs),
    replayBufferMaxMessages: positive('replayBufferMaxMessages', options.replayBufferMaxMessages ?? DEFAULTS.replayBufferMaxMessages),
    // Always room for one message of the limit: pushing it cannot drop itself, so the next resume cannot overrun on it.
    replayBufferMaxBytes: Math.max(positive('replayBufferMaxBytes', options.replayBufferMaxBytes ?? DEFAULTS.replayBufferMaxBytes), frameBytes),
    maxMessageBytes,
    maxBufferedBytes,
    hardBufferedBytes: HARD_BUFFERED_FACTOR * maxBufferedBytes,
    slowReaderMs: positive('slowReaderMs', options.slowReaderMs ?? DEFAULTS.slowReaderMs),
    maxSessionsPerClient: positiveOrInfinity('maxSessionsPerClient', options.maxSessionsPerClient ?? DEFAULTS.maxSessionsPerClient),
    clientAddressPrefix: {
      ipv4: prefix('clientAddressPrefix.ipv4', options.clientAddressPrefix?.ipv4 ?? DEFAULTS.clientAddressPrefix.ipv4, 32),
      ipv6: prefix('clientAddressPrefix.ipv6', options.clientAddressPrefix?.ipv6 ?? DEFAULTS.clientAddressPrefix.ipv6, 128),
    },
    sessionsMaxBytes: positiveOrInfinity('sessionsMaxBytes', options.sessionsMaxBytes ?? DEFAULTS.sessionsMaxBytes()),
    endedSessionMemoryMs: positive('endedSessionMemoryMs', options.endedSessionMemoryMs ?? DEFAULTS.endedSessionMemoryMs),
    endedSessionMemoryMax: positive('endedSessionMemoryMax', options.endedSessionMemoryMax ?? DEFAULTS.endedSessionMemoryMax),
    cors: { origins: options.cors?.origins ?? [], credentials: options.cors?.credentials ?? false },
    trustProxy: compileTrust(options.trustProxy ?? DEFAULTS.trustProxy),
    authenticate: options.authenticate,
    sseRetryMs: positive('sseRetryMs', options.sseRetryMs ?? DEFAULTS.sseRetryMs),
    ackDelayMs: Math.max(0, options.ackDelayMs ?? DEFAULTS.ackDelayMs),
    logger,
  };
}
