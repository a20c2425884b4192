import type { ClientFrame, EmitFrame } from '../protocol/frames';
import type { MessageEventLike, TransportEnvironment } from '../transports/environment';
import { ScheduledCallbacks, type Transport, type TransportConnectParams, type TransportFailure } from '../transports/transport';
import { CLOSE_CODE_STATUS, createSocket, OPEN, type CloseEventLike, type ErrorEventLike, type SocketLike } from '../transports/websocket';
import { deliverMessage, emitsOf, encodeEmit, markSent, parseOrRaw, plainWelcome, toMessage, withQuery } from './common';
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
export class PlainWebSocketTransport implements Transport {
  readonly name = 'websocket' as const;
  private socket: SocketLike | undefined;
  private readonly timers: ScheduledCallbacks;
  private closed = false;
  private started = false;
  /** Emits given before the socket opened, sent in order on `open`. */
  private queue: EmitFrame[] = [];

  constructor(
    private readonly params: TransportConnectParams,
    private readonly env: TransportEnvironment,
    private readonly state: PlainState,
  ) {
    this.timers = new ScheduledCallbacks(params.schedule);
  }

  connect(): void {
    if (this.closed || this.started) return;
    this.started = true;
    const socket = createSocket(this.env, socketUrl(this.params.url, this.params.query));
    if (typeof socket === 'string') {
      this.timers.after(() => this.fail({ kind: 'network', message: socket }));
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.listen('add', socket);
  }

  send(frames: readonly ClientFrame[]): void {
    if (this.closed) return;
    const emits = emitsOf(frames);
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== OPEN) {
      this.queue.push(...emits);
      return;
    }
    for (const frame of emits) {
      if (this.closed) return; // an ack callback closed us
      socket.send(encodeEmit(frame));
      markSent(this.params.handlers, this.state, frame.seq);
    }
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

  private listen(how: 'add' | 'remove', socket: SocketLike): void {
    const method = how === 'add' ? socket.addEventListener : socket.removeEventListener;
    method.call(socket, 'open', this.onOpen);
    method.call(socket, 'message', this.onMessage);
    method.call(socket, 'close', this.onClose);
    // `error` stays attached after close(): `ws` emits one when a socket still connecting is closed, and an
    // EventEmitter with no `error` listener throws. `fail()` ignores it once closed.
    if (how === 'add') socket.addEventListener('error', this.onError);
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
    const reason = event.reason === '' ? '' : `: ${event.reason}`;
    const message = `WebSocket closed with ${event.code}${reason}`;
    const status = AUTH_CLOSE_CODES.includes(event.code) ? CLOSE_CODE_STATUS[event.code] : undefined;
    this.fail(status !== undefined ? { kind: 'http', status, closeCode: event.code, message } : { kind: 'network', closeCode: event.code, message });
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

/** The endpoint with the handshake query, http(s): turned into ws(s):. */
function socketUrl(url: string, query: Readonly<Record<string, string>>): string {
  const u = new URL(withQuery(url, query));
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.toString();
}
