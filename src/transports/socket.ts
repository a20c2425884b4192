import { resolveWebSocket, type MessageEventLike, type TransportEnvironment } from './environment';
import type { TransportFailure } from './transport';

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

interface ErrorEventLike {
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

/** `WebSocket.OPEN`. */
const OPEN = 1;

/** Creates a socket, or says why none could be: no implementation, or the constructor threw (a malformed URL). */
function createSocket(env: TransportEnvironment, url: string, protocols: string[]): SocketLike | string {
  const Ctor = resolveWebSocket(env);
  if (Ctor === undefined) return 'no WebSocket implementation available';
  try {
    return (protocols.length > 0 ? new Ctor(url, protocols) : new Ctor(url)) as SocketLike;
  } catch (error) {
    return `WebSocket could not be created: ${String(error)}`;
  }
}

/** What a WebSocket transport does with its socket's events. */
export interface SocketListeners {
  open(): void;
  message(event: MessageEventLike): void;
  close(event: CloseEventLike): void;
  /** The socket's `error` event, as a failure. */
  fail(failure: TransportFailure): void;
}

/** The socket of one WebSocket transport, with the transport's listeners on it. */
export class SocketConnection {
  private socket: SocketLike | undefined;
  private detach: (() => void) | undefined;

  /** Creates the socket and attaches `listeners`; returns why no socket could be made, if none could. */
  open(env: TransportEnvironment, url: string, listeners: SocketListeners, options: { binaryType?: 'arraybuffer'; protocols?: string[] } = {}): string | undefined {
    const { binaryType, protocols = [] } = options;
    const socket = createSocket(env, url, protocols);
    if (typeof socket === 'string') return socket;
    if (binaryType !== undefined) socket.binaryType = binaryType;
    this.socket = socket;
    this.detach = listenTo(socket, listeners);
    return undefined;
  }

  /** The socket while it is open (sends go there); `undefined` before and after. */
  get ready(): SocketLike | undefined {
    return this.socket?.readyState === OPEN ? this.socket : undefined;
  }

  /** Detaches the listeners (but `error`, see {@link listenTo}) and closes the socket normally. */
  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.detach?.();
    this.detach = undefined;
    socket?.close(1000);
  }
}

/**
 * Attaches `listeners` to `socket`; returns the function that detaches them. `error` stays attached: `ws` emits one
 * when a socket still connecting is closed, and an EventEmitter with no `error` listener throws. A transport's
 * `fail()` ignores it once closed.
 */
function listenTo(socket: SocketLike, listeners: SocketListeners): () => void {
  // Browsers fire `error` with no detail, then `close` (1006); the first one reported wins.
  const onError = (event: ErrorEventLike): void =>
    listeners.fail({ kind: 'network', message: `WebSocket error${event.message ? `: ${event.message}` : ''}` });
  const attached: [string, (event: never) => void][] = [
    ['open', listeners.open],
    ['message', listeners.message],
    ['close', listeners.close],
  ];
  for (const [type, listener] of attached) socket.addEventListener(type, listener);
  socket.addEventListener('error', onError);
  return () => {
    for (const [type, listener] of attached) socket.removeEventListener(type, listener);
  };
}

/** `WebSocket closed with 1006`, with the reason when there is one. */
export function closeMessage(event: CloseEventLike): string {
  return `WebSocket closed with ${event.code}${event.reason === '' ? '' : `: ${event.reason}`}`;
}
