import type { PrivateParams } from '../protocol/carriers';
import type { ClientFrame, ServerFrame, TransportName } from '../protocol/frames';

/** Why a transport stopped. A transport reports at most one failure and is dead afterwards. */
export interface TransportFailure {
  /**
   * - `network`: could not connect, or the connection dropped (WebSocket close, EventSource error, fetch rejected)
   * - `http`: the server answered with an HTTP error status (see `status`, `retryAfter`)
   * - `content_type`: the response was not the media type the transport needs (a proxy's HTML page, say)
   * - `protocol`: the server sent something that is not a valid frame
   * - `buffered`: the connection works, but a proxy holds the stream back (SSE; `message` says what was measured)
   */
  kind: 'network' | 'http' | 'content_type' | 'protocol' | 'buffered';
  message: string;
  status?: number;
  /** Seconds, from a `Retry-After` header. */
  retryAfter?: number;
  /** WebSocket close code, when there was one. */
  closeCode?: number;
  /** The protocol error code the server named (an `error` frame, an error body, a close reason), when it named one. */
  code?: string;
}

/** Callbacks through which a transport reports; it knows nothing else of its owner. */
export interface TransportHandlers {
  /** Every decoded server frame, in arrival order (the welcome included). */
  onFrame(frame: ServerFrame): void;
  /** Called once when the transport fails or drops; never after `close()`. */
  onFailure(failure: TransportFailure): void;
}

/** The only timer a transport may use: the owner's scheduler, so `close()` can release it. */
export type ScheduleFn = (callback: () => void, delayMs: number) => () => void;

/** Callbacks a transport scheduled through its owner's scheduler, all cancelled at once by its `close()`. */
export class ScheduledCallbacks {
  private readonly cancels = new Set<() => void>();

  constructor(private readonly schedule: ScheduleFn) {}

  /** Runs `callback` after `delayMs` (0: on a later turn, never inside the caller). Returns its cancel function. */
  after(callback: () => void, delayMs = 0): () => void {
    const cancel = this.schedule(() => {
      this.cancels.delete(cancel);
      callback();
    }, delayMs);
    this.cancels.add(cancel);
    return () => {
      if (this.cancels.delete(cancel)) cancel();
    };
  }

  cancelAll(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
  }
}

/** Everything a transport needs to open one connection. */
export interface TransportConnectParams {
  /** The endpoint URL `E` (http: or https:); the transport appends its own path. */
  url: string;
  /** Handshake query parameters (`v`, `sid`, `last`, `probe`; `access_token` in plain mode). */
  query: Readonly<Record<string, string>>;
  /** Handshake parameters no URL may show: sent in headers, or in a subprotocol by WebSocket. */
  hidden: Readonly<PrivateParams>;
  /** Extra request headers, where the transport can send them. */
  headers: Readonly<Record<string, string>>;
  withCredentials: boolean;
  schedule: ScheduleFn;
  /** The owner's clock in ms (injectable in tests), for transports that measure time; timers go through `schedule`. */
  now: () => number;
  /**
   * SSE: measure whether a proxy buffers the stream and fail with `buffered` if so. The owner turns it off when it
   * has no later transport to move to, since a slow stream is then better than none.
   */
  checkBuffering: boolean;
  handlers: TransportHandlers;
}

/**
 * One connection attempt over one transport. It opens in the constructor or `connect()`, reports frames and
 * at most one failure, and after `close()` it is silent and holds no timer, listener or socket.
 */
export interface Transport {
  readonly name: TransportName;
  connect(): void;
  /**
   * Sends frames upstream in order. HTTP transports batch them into one POST at a time; the polling transport
   * turns an `ack` frame into the `last` of its next poll instead of posting it.
   */
  send(frames: readonly ClientFrame[]): void;
  close(): void;
}

export type TransportFactory = (params: TransportConnectParams) => Transport;
