import ReconnectingWebSocket from 'reconnecting-websocket';
import { decodeServerFrame, encodeFrame } from '../protocol/codec';
import type { ClientFrame } from '../protocol/frames';
import { resolveWebSocket, type MessageEventLike, type TransportEnvironment } from './environment';
import { buildUrl, type Transport, type TransportConnectParams, type TransportFailure } from './transport';

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

/**
 * Largest delay a JS timer honours (2^31 - 1 ms); a larger one fires at once. reconnecting-websocket's own
 * connection timeout is set to it: the owner enforces open timeouts through its scheduler.
 */
const MAX_TIMER_MS = 2_147_483_647;

interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
  readonly target: unknown;
}

interface ErrorEventLike {
  readonly message?: string;
}

/**
 * One WebSocket connection attempt (`E/ws`), one JSON frame per text message.
 *
 * The socket is reconnecting-websocket with its retry loop disabled (`maxRetries: 0`: exactly one attempt). The
 * owner's scheduler decides every retry and creates a new transport for it. One RWS instance per attempt also keeps
 * clear of RWS 4.4.0's lock: once `maxRetries` is reached `_connect()` returns with `_connectLock` still set, so a
 * later `reconnect()` on that instance silently does nothing (test/transports/rws-lock.test.ts shows it).
 */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket' as const;
  private socket: ReconnectingWebSocket | undefined;
  private readonly cancels = new Set<() => void>();
  private closed = false;
  private started = false;
  private early: ClientFrame[] = [];

  constructor(
    private readonly params: TransportConnectParams,
    private readonly env: TransportEnvironment = {},
  ) {}

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    const Ctor = resolveWebSocket(this.env);
    if (Ctor === undefined) {
      // Reported asynchronously like every other failure, so the owner never sees a callback inside connect().
      this.later(() => this.fail({ kind: 'network', message: 'no WebSocket implementation available' }));
      return;
    }
    const socket = new ReconnectingWebSocket(buildUrl(this.params.url, '/ws', this.params.query, true), undefined, {
      WebSocket: Ctor,
      maxRetries: 0,
      startClosed: false,
      connectionTimeout: MAX_TIMER_MS,
      maxEnqueuedMessages: Infinity,
    });
    this.socket = socket;
    socket.addEventListener('message', this.onMessage);
    socket.addEventListener('close', this.onClose);
    socket.addEventListener('error', this.onError);
    const early = this.early;
    this.early = [];
    this.send(early);
  }

  /**
   * Frames sent before `connect()` wait here; frames sent before the socket opened are queued by RWS and flushed,
   * in order, on open.
   */
  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    if (this.socket === undefined) {
      this.early.push(...frames);
      return;
    }
    for (const frame of frames) this.socket.send(encodeFrame(frame));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    this.early = [];
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    socket.removeEventListener('message', this.onMessage);
    socket.removeEventListener('close', this.onClose);
    socket.removeEventListener('error', this.onError);
    socket.close(1000);
  }

  private readonly onMessage = (event: MessageEventLike): void => {
    if (this.closed) return;
    if (typeof event.data !== 'string') {
      this.fail({ kind: 'protocol', message: 'binary WebSocket message' });
      return;
    }
    const decoded = decodeServerFrame(event.data);
    if (!decoded.ok) {
      this.fail({ kind: 'protocol', message: decoded.reason });
      return;
    }
    this.params.handlers.onFrame(decoded.frame);
  };

  private readonly onClose = (event: CloseEventLike): void => {
    if (this.closed) return;
    if (event.target === this.socket) {
      // RWS synthesises this close (code 1000, target = the RWS instance) in `_disconnect()` when the real socket
      // reported an error, and removes its listeners first: the real close code never reaches us.
      this.fail({ kind: 'network', message: 'WebSocket error' });
      return;
    }
    const reason = event.reason === '' ? '' : `: ${event.reason}`;
    const status = CLOSE_CODE_STATUS[event.code];
    if (status !== undefined) {
      this.fail({ kind: 'http', status, closeCode: event.code, message: `WebSocket closed with ${event.code}${reason}` });
    } else {
      this.fail({ kind: 'network', closeCode: event.code, message: `WebSocket closed with ${event.code}${reason}` });
    }
  };

  private readonly onError = (event: ErrorEventLike): void => {
    if (this.closed) return;
    this.fail({ kind: 'network', message: `WebSocket error${event.message ? `: ${event.message}` : ''}` });
  };

  private fail(failure: TransportFailure): void {
    if (this.closed) return;
    this.close();
    this.params.handlers.onFailure(failure);
  }

  private later(callback: () => void): void {
    const cancel = this.params.schedule(() => {
      this.cancels.delete(cancel);
      callback();
    }, 0);
    this.cancels.add(cancel);
  }
}
