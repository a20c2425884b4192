// The client's shared types, in a leaf module (it imports nothing): options.ts, the modes and the connection all
// name them, and options.ts imports the modes, so keeping them there would tie those files into an import circle.

/** What the `auth` provider returns; called before every connection attempt. */
export interface AuthCredentials {
  /** Sent as the `access_token` query parameter (WebSocket and native EventSource cannot send headers). */
  token?: string;
  /** Sent as request headers where the transport can (fetch, the EventSource polyfill). */
  headers?: Record<string, string>;
  /** Who the credential belongs to; with `persist`, what a page kept is resumed only for the same user. */
  user?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, details?: Record<string, unknown>) => void;
