import type { ClientFrame, EmitFrame } from '../protocol/frames';
import { BaseTransport } from '../transports/base-transport';
import type { MessageEventLike, TransportEnvironment } from '../transports/environment';
import { CLOSE_CODE_STATUS, closeMessage, SocketConnection, type CloseEventLike } from '../transports/socket';
import type { TransportConnectParams, TransportFailure } from '../transports/transport';
import { buildUrl } from '../transports/url';
import { deliverMessage, emitsOf, encodeEmit, markSent, parseOrRaw, plainWelcome, toMessage } from './common';
import type { PlainState } from './plain';

/** Close codes a plain server may use to refuse a credential; every other close is a network drop. */
const AUTH_CLOSE_CODES = [4401, 4403];

/**
 * A WebSocket to a server that does not speak the realtime-fallback protocol (README, "Plain mode").
 *
 * Down: a text frame that parses to `{ event: string, data }` is that event; any other text is a `message` (JSON
 * when it parses); a binary frame is a `message` carrying the ArrayBuffer (or Blob/Buffer, as the platform gives it).
 * Up: each emit is one text frame `{ "event", "data" }`, acknowledged to the owner as soon as it is handed to the
 * socket (at-most-once: an emit in flight when the socket dies is lost).
 */
export class PlainWebSocketTransport extends BaseTransport {
  readonly name = 'websocket' as const;
  private readonly socket = new SocketConnection();
  /** Emits given before the socket opened, sent in order on `open`. */
  private queue: EmitFrame[] = [];

  constructor(
    params: TransportConnectParams,
    private readonly env: TransportEnvironment,
    private readonly state: PlainState,
  ) {
    super(params);
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    const emits = emitsOf(frames);
    const socket = this.socket.ready;
    if (socket === undefined) {
      this.queue.push(...emits);
      return;
    }
    for (const frame of emits) {
      if (this.closed) return; // an ack callback closed us
      socket.send(encodeEmit(frame));
      markSent(this.params.handlers, this.state, frame.seq);
    }
  }

  protected start(): void {
    const url = buildUrl(this.params.url, this.params.query, { ws: true });
    const fail = (failure: TransportFailure): void => this.fail(failure);
    const error = this.socket.open(this.env, url, { open: this.onOpen, message: this.onMessage, close: this.onClose, fail }, { binaryType: 'arraybuffer' });
    if (error !== undefined) this.timers.after(() => this.fail({ kind: 'network', message: error }));
  }

  protected release(): void {
    this.queue = [];
    this.socket.close();
  }

  private readonly onOpen = (): void => {
    if (this.closed) return;
    this.params.handlers.onFrame(plainWelcome(this.state));
    if (this.closed) return;
    const queued = this.queue;
    this.queue = [];
    this.send(queued);
  };

  private readonly onMessage = (event: MessageEventLike): void => {
    if (this.closed) return;
    const { event: name, data } = typeof event.data === 'string' ? toMessage(parseOrRaw(event.data)) : { event: 'message', data: event.data };
    deliverMessage(this.params.handlers, this.state, name, data);
  };

  private readonly onClose = (event: CloseEventLike): void => {
    const message = closeMessage(event);
    const status = AUTH_CLOSE_CODES.includes(event.code) ? CLOSE_CODE_STATUS[event.code] : undefined;
    this.fail(status !== undefined ? { kind: 'http', status, closeCode: event.code, message } : { kind: 'network', closeCode: event.code, message });
  };
}
