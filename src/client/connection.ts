import type { ServerFrame, TransportName } from '../protocol/frames';
import type { Transport, TransportFailure } from '../transports/transport';
import type { TransportEnvironment } from '../transports/environment';
import type { ClientMode, Handshake } from './mode/mode';
import type { AuthCredentials, Logger } from './types';
import type { BackoffScheduler } from './scheduler';

/** One connection attempt: a transport plus what the client knows about it. */
export interface Connection {
  name: TransportName;
  transport: Transport;
  opened: boolean;
  /** It connected but sent no welcome in time: what a buffering proxy looks like. */
  silent: boolean;
  cancelOpenTimer: () => void;
}

/** What a connection reports to whoever opened it (the connector, or the upgrade probe). */
export interface ConnectionHandlers {
  frame(conn: Connection, frame: ServerFrame): void;
  failure(conn: Connection, failure: TransportFailure): void;
}

/** Everything opening a connection needs, configured once from the client's options. */
export interface ConnectionSettings {
  mode: ClientMode;
  environment: TransportEnvironment;
  scheduler: BackoffScheduler;
  transports: readonly TransportName[];
  openTimeoutMs: Readonly<Record<TransportName, number>>;
  withCredentials: boolean;
  logger: Logger;
}

/** Opens `name` with `handshake`; it fails by itself when no welcome comes within its open timeout. */
export function openConnection(
  settings: ConnectionSettings,
  name: TransportName,
  handshake: Handshake,
  creds: AuthCredentials,
  handlers: ConnectionHandlers,
): Connection {
  const { mode, scheduler, transports } = settings;
  const conn: Connection = { name, opened: false, silent: false, cancelOpenTimer: () => {}, transport: undefined as unknown as Transport };
  const url = mode.url(name);
  conn.transport = mode.createTransport(
    name,
    {
      url,
      query: handshake.query,
      hidden: handshake.hidden,
      headers: creds.headers ?? {},
      withCredentials: settings.withCredentials,
      schedule: (callback, ms) => scheduler.schedule(callback, ms),
      now: () => scheduler.now(),
      checkBuffering: transports.indexOf(name) < transports.length - 1,
      handlers: { onFrame: (frame) => handlers.frame(conn, frame), onFailure: (failure) => handlers.failure(conn, failure) },
    },
    settings.environment,
  );
  const timeout = settings.openTimeoutMs[name];
  conn.cancelOpenTimer = scheduler.schedule(() => {
    conn.silent = true;
    handlers.failure(conn, { kind: 'network', message: `no welcome frame within ${timeout} ms` });
  }, timeout);
  settings.logger('debug', `connecting over ${name}`, { url });
  conn.transport.connect();
  return conn;
}

/**
 * Whether `name` can present these credentials: a WebSocket handshake carries a token (in a subprotocol) but no headers,
 * so a credential made of headers alone would be refused there, however often it is retried.
 */
export function canCarry(name: TransportName, creds: AuthCredentials): boolean {
  return name !== 'websocket' || creds.token !== undefined || Object.keys(creds.headers ?? {}).length === 0;
}

/** Stops a connection for good: its open timer and its transport. */
export function closeConnection(conn: Connection): void {
  conn.cancelOpenTimer();
  conn.transport.close();
}
