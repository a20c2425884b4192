import { decodeServerBatch, decodeServerFrame, encodeFrame } from '../protocol/codec';
import type { ClientFrame } from '../protocol/frames';
import { resolveWebSocket, type MessageEventLike, type TransportEnvironment } from './environment';
import { buildUrl, ScheduledCallbacks, type Transport, type TransportConnectParams, type TransportFailure } from './transport';

/**
 * Close codes that stand for an HTTP status (docs/protocol.md §3 "Handshake rejection" and §4 "WebSocket").
 * 1009 ("message too big", sent after `error{frame_too_large}`) is reported as HTTP 413, what the upstream POST
 * answers in the same situation, so the owner maps both transports alike.
 */
export const CLOSE_CODE_STATUS: Readonly<Record<number, number>> = {
  1009: 413,
  4400: 400,
  4401: 401,
  4403: 403,
  4429: 429,
  4503: 503,
};

export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

export interface ErrorEventLike {
  readonly message?: string;
}

/** The part of a WebSocket (the browser's or `ws`'s) the WebSocket transports use. */
export interface SocketLike {
  readonly readyState: number;
  binaryType?: string;
  send(data: string): void;
  close(code?: number): void;
  addEventListener(type: string, listener: (event: never) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
}

/** Creates a socket, or says why none could be: no implementation, or the constructor threw (a malformed URL). */
export function createSocket(env: TransportEnvironment, url: string): SocketLike | string {
  const Ctor = resolveWebSocket(env);
  if (Ctor === undefined) return 'no WebSocket implementation available';
  try {
    return new Ctor(url) as SocketLike;
  } catch (error) {
    return `WebSocket could not be created: ${String(error)}`;
  }
}

/** `WebSocket.OPEN`. */
export const OPEN = 1;

/**
 * One WebSocket connection attempt (`E/ws`), one JSON frame per text message.
 *
 * The platform WebSocket is used directly: one socket per attempt, no retry of its own. The owner's scheduler
 * decides every retry and creates a new transport for it (README, design notes: why reconnecting-websocket is no
 * longer used at runtime).
 */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket' as const;
  private socket: SocketLike | undefined;
  private readonly timers: ScheduledCallbacks;
  private closed = false;
  private started = false;
  /** Frames given before the socket opened, sent in order on `open`. */
  private queue: ClientFrame[] = [];

  constructor(
    private readonly params: TransportConnectParams,
    private readonly env: TransportEnvironment = {},
  ) {
    this.timers = new ScheduledCallbacks(params.schedule);
  }

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    const socket = createSocket(this.env, buildUrl(this.params.url, '/ws', this.params.query, true));
    if (typeof socket === 'string') {
      // Reported asynchronously like every other failure, so the owner never sees a callback inside connect().
      this.timers.after(() => this.fail({ kind: 'network', message: socket }));
      return;
    }
    this.socket = socket;
    this.listen('add');
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== OPEN) {
      this.queue.push(...frames);
      return;
    }
    for (const frame of frames) socket.send(encodeFrame(frame));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.cancelAll();
    this.queue = [];
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    this.listen('remove', socket);
    socket.close(1000);
  }

  private listen(how: 'add' | 'remove', socket = this.socket!): void {
    const method = how === 'add' ? socket.addEventListener : socket.removeEventListener;
    method.call(socket, 'open', this.onOpen);
    method.call(socket, 'message', this.onMessage);
    method.call(socket, 'close', this.onClose);
    // `error` stays attached after close(): `ws` emits one when a socket still connecting is closed, and an
    // EventEmitter with no `error` listener throws. `fail()` ignores it once closed.
    if (how === 'add') socket.addEventListener('error', this.onError);
  }

  private readonly onOpen = (): void => {
    const queued = this.queue;
    this.queue = [];
    this.send(queued);
  };

  private readonly onMessage = (event: MessageEventLike): void => {
    if (this.closed) return;
    if (typeof event.data !== 'string') {
      this.fail({ kind: 'protocol', message: 'binary WebSocket message' });
      return;
    }
    // One frame, or a JSON array of frames the server coalesced (protocol §4).
    const batch = event.data.startsWith('[');
    const decoded = batch ? decodeServerBatch(event.data) : decodeServerFrame(event.data);
    if (!decoded.ok) {
      this.fail({ kind: 'protocol', message: decoded.reason });
      return;
    }
    for (const frame of Array.isArray(decoded.frame) ? decoded.frame : [decoded.frame]) {
      if (this.closed) return; // the owner closed us from inside a callback
      this.params.handlers.onFrame(frame);
    }
  };

  private readonly onClose = (event: CloseEventLike): void => {
    const reason = event.reason === '' ? '' : `: ${event.reason}`;
    const message = `WebSocket closed with ${event.code}${reason}`;
    const status = CLOSE_CODE_STATUS[event.code];
    const failure: TransportFailure =
      status !== undefined ? { kind: 'http', status, closeCode: event.code, message } : { kind: 'network', closeCode: event.code, message };
    // Our server names the protocol error in the close reason too (the error frame before it may be lost).
    if (status !== undefined && /^[a-z_]+$/.test(event.reason)) failure.code = event.reason;
    this.fail(failure);
  };

  /** Browsers fire `error` with no detail, then `close` (1006); the first one reported wins. */
  private readonly onError = (event: ErrorEventLike): void => {
    this.fail({ kind: 'network', message: `WebSocket error${event.message ? `: ${event.message}` : ''}` });
  };

  private fail(failure: TransportFailure): void {
    if (this.closed) return;
    this.close();
    this.params.handlers.onFailure(failure);
  }

}
