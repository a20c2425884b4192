// The client's shared types, in a leaf module (it imports nothing): options.ts, the modes and the connection all
// name them, and options.ts imports the modes, so keeping them there would tie those files into an import circle.

/** What the `auth` provider returns; called before every connection attempt. */
export interface AuthCredentials {
  /**
   * Never in a URL with our server: a WebSocket subprotocol, an `Authorization: Bearer` header on HTTP requests. In plain
   * mode, the `access_token` query parameter (where tutorials put it).
   */
  token?: string;
  /** Sent as request headers where the transport can (fetch, the EventSource polyfill). */
  headers?: Record<string, string>;
  /** Who the credential belongs to; with `persist`, what a page kept is resumed only for the same user. */
  user?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, details?: Record<string, unknown>) => void;
