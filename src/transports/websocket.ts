import { offeredSubprotocols } from '../protocol/carriers';
import { encodeFrame } from '../protocol/codec';
import type { ClientFrame } from '../protocol/frames';
import { BaseTransport } from './base-transport';
import type { MessageEventLike, TransportEnvironment } from './environment';
import { messageFrames } from './message-frames';
import { CLOSE_CODE_STATUS, closeMessage, SocketConnection, type CloseEventLike } from './socket';
import type { TransportConnectParams, TransportFailure } from './transport';
import { buildUrl } from './url';

/**
 * One WebSocket connection attempt (`E/ws`), one JSON frame per text message.
 *
 * The platform WebSocket is used directly: one socket per attempt, no retry of its own. The owner's scheduler
 * decides every retry and creates a new transport for it (docs/design-notes.md: why reconnecting-websocket is no
 * longer used at runtime).
 */
export class WebSocketTransport extends BaseTransport {
  readonly name = 'websocket' as const;
  private readonly socket = new SocketConnection();
  /** Frames given before the socket opened, sent in order on `open`. */
  private queue: ClientFrame[] = [];

  constructor(
    params: TransportConnectParams,
    private readonly env: TransportEnvironment = {},
  ) {
    super(params);
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    const socket = this.socket.ready;
    if (socket === undefined) {
      this.queue.push(...frames);
      return;
    }
    for (const frame of frames) socket.send(encodeFrame(frame));
  }

  protected start(): void {
    const url = buildUrl(this.params.url, this.params.query, { path: '/ws', ws: true });
    const fail = (failure: TransportFailure): void => this.fail(failure);
    const listeners = { open: this.onOpen, message: this.onMessage, close: this.onClose, fail };
    const error = this.socket.open(this.env, url, listeners, { protocols: offeredSubprotocols(this.params.hidden) });
    // Reported asynchronously like every other failure, so the owner never sees a callback inside connect().
    if (error !== undefined) this.timers.after(() => this.fail({ kind: 'network', message: error }));
  }

  protected release(): void {
    this.queue = [];
    this.socket.close();
  }

  private readonly onOpen = (): void => {
    const queued = this.queue;
    this.queue = [];
    this.send(queued);
  };

  private readonly onMessage = (event: MessageEventLike): void => {
    if (this.closed) return;
    const frames = messageFrames(event.data, 'binary WebSocket message');
    if ('kind' in frames) return this.fail(frames);
    for (const frame of frames) {
      if (this.closed) return; // the owner closed us from inside a callback
      this.params.handlers.onFrame(frame);
    }
  };

  private readonly onClose = (event: CloseEventLike): void => {
    const message = closeMessage(event);
    const status = CLOSE_CODE_STATUS[event.code];
    const failure: TransportFailure =
      status !== undefined ? { kind: 'http', status, closeCode: event.code, message } : { kind: 'network', closeCode: event.code, message };
    // Our server names the protocol error in the close reason too (the error frame before it may be lost).
    if (status !== undefined && /^[a-z_]+$/.test(event.reason)) failure.code = event.reason;
    this.fail(failure);
  };
}
