import type { AckFrame, CloseFrame, MessageFrame, ReplyFrame, ServerFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import { isOnline, watchBrowserSignals } from './browser-signals';
import { closeConnection, openConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { TypedEmitter } from './emitter';
import { RealtimeError } from './errors';
import { classifyFailure } from './failure-policy';
import { FallbackWalk } from './fallback-walk';
import type { ClientState, LifecycleEvents, TransportReason } from './lifecycle';
import { Liveness } from './liveness';
import type { AuthCredentials, ResolvedOptions } from './options';
import { recallTransport, rememberTransport } from './transport-memory';

/** The frames of an open connection that concern the session, not the connection. */
export type SessionFrame = MessageFrame | ReplyFrame | AckFrame | CloseFrame;

/** What the connector asks of the client it connects. */
export interface ConnectorHost {
  readonly state: ClientState;
  setState(state: ClientState): void;
  /** A welcome arrived on the active connection: take the session it names. */
  welcomed(welcome: WelcomeFrame): void;
  /** The active connection is open (after `welcomed`); `reason` is why this transport is the one. */
  opened(conn: Connection, welcome: WelcomeFrame, reason: TransportReason): void;
  received(conn: Connection, frame: SessionFrame): void;
  /** The active connection is gone: stop what ran on it. */
  lost(conn: Connection, failure: TransportFailure): void;
  /** Retrying cannot help: the client closes with `error`. */
  stop(error: RealtimeError): void;
}

/** The options the connector works from, picked once from the resolved ones. */
export type ConnectorOptions = Pick<ResolvedOptions, 'transports' | 'retriesPerTransport' | 'auth' | 'storage' | 'rememberTransportMs' | 'logger'>;

/**
 * Gets the client a working connection and keeps it: one attempt at a time with fresh credentials, the fallback walk
 * and backoff after a failure, the failure policy (stop, refresh the credential, wait as told), retries held while
 * the browser is offline, and the liveness of the open connection.
 */
export class Connector {
  /** The connection in use (opening or open), or null between attempts. */
  active: Connection | null = null;
  readonly liveness: Liveness;
  private readonly walk: FallbackWalk;
  /** Bumped whenever pending async work (auth calls) must be ignored. */
  private attempts = 0;
  private retriesSinceOpen = 0;
  private authRefreshed = false;
  private waitingForOnline = false;
  private everOpened = false;
  private cancelRetry: (() => void) | null = null;
  private unwatchBrowser: () => void = () => {};
  /** Where its connections report (a probe that became the active connection reports here too). */
  readonly handlers: ConnectionHandlers = {
    frame: (conn, frame) => this.frame(conn, frame),
    failure: (conn, failure) => this.fail(conn, failure),
  };

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly options: ConnectorOptions,
    private readonly endpoint: string,
    private readonly life: TypedEmitter<LifecycleEvents>,
    private readonly host: ConnectorHost,
  ) {
    const { scheduler } = settings;
    this.walk = new FallbackWalk(options.transports.length, options.retriesPerTransport, (attempt) => scheduler.backoff(attempt));
    this.liveness = new Liveness(scheduler, () => settings.mode.livenessLimitMs());
  }

  /** Which attempt is current: async work started under another number is stale. */
  get attempt(): number {
    return this.attempts;
  }

  async credentials(): Promise<AuthCredentials> {
    const { auth } = this.options;
    return auth ? await auth() : {};
  }

  /** Starts connecting from the remembered transport, or the first. */
  start(): void {
    this.unwatchBrowser = watchBrowserSignals({ online: () => this.onOnline(), offline: () => this.onOffline(), visible: () => this.onVisible() });
    const { transports, storage } = this.options;
    const remembered = recallTransport(storage, this.endpoint, this.settings.scheduler.now());
    this.walk.start(remembered ? transports.indexOf(remembered) : -1);
    this.authRefreshed = false;
    this.retriesSinceOpen = 0;
    this.host.setState(this.everOpened ? 'reconnecting' : 'connecting');
    void this.connect();
  }

  /** Stops everything: the active connection, the pending retry, the page listeners. */
  stop(): void {
    this.attempts++;
    const conn = this.active;
    this.active = null;
    conn?.transport.close();
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.liveness.stop();
    this.unwatchBrowser();
    this.unwatchBrowser = () => {};
    this.waitingForOnline = false;
  }

  /** Remembers `name` for this URL (or forgets, when it is the first choice), for the next page load. */
  remember(name: TransportName): void {
    const { storage, transports, rememberTransportMs } = this.options;
    rememberTransport(storage, this.endpoint, name, name === transports[0], rememberTransportMs, this.settings.scheduler.now());
  }

  /** Watches the open connection's silence from now on. */
  watchLiveness(): void {
    this.liveness.watch((silentMs, limitMs) => {
      const conn = this.active;
      if (conn?.opened) this.fail(conn, { kind: 'network', message: `no heartbeat for ${silentMs} ms (limit ${limitMs} ms)` });
    });
  }

  /** An upgrade probe took the session over: it is the active connection now, the old one is closed. */
  replaceWith(probe: Connection): void {
    const previous = this.active;
    this.active = probe;
    this.walk.moveTo(this.options.transports.indexOf(probe.name)); // a later drop reopens this one, not the fallback
    if (previous) closeConnection(previous);
    this.liveness.heard();
  }

  private async connect(): Promise<void> {
    this.cancelRetry?.();
    this.cancelRetry = null;
    // No online check here: an attempt is always worth one try (browsers can report offline wrongly at start-up);
    // it is the retries that wait for `online` (retry).
    const attempt = ++this.attempts;
    const name = this.options.transports[this.walk.index]!;
    let creds: AuthCredentials;
    try {
      creds = await this.credentials();
    } catch (cause) {
      if (this.superseded(attempt)) return;
      this.life.emit('error', new RealtimeError('unauthorized', 'the auth provider failed; retrying', { cause }));
      this.retry(this.walk.pause(), 'auth provider failed');
      return;
    }
    if (this.superseded(attempt)) return; // closed or superseded during the await
    const loading = this.settings.mode.prepare();
    if (loading) {
      await loading;
      if (this.superseded(attempt)) return;
    }
    this.active = openConnection(this.settings, name, this.settings.mode.query(creds, false), creds, this.handlers);
  }

  /** True when the client was closed or another attempt started while this one awaited something. */
  private superseded(attempt: number): boolean {
    return attempt !== this.attempts || this.host.state === 'closed';
  }

  private frame(conn: Connection, frame: ServerFrame): void {
    if (conn !== this.active) return; // a replaced transport's late callback
    this.liveness.heard();
    if (!conn.opened) {
      if (frame.t === 'welcome') return this.open(conn, frame);
      if (frame.t === 'error') return this.fail(conn, errorFrameFailure(frame));
      return this.fail(conn, { kind: 'protocol', message: `expected a welcome frame, got "${frame.t}"` });
    }
    switch (frame.t) {
      case 'msg':
      case 'reply':
      case 'ack':
      case 'close':
        return this.host.received(conn, frame);
      case 'ping':
        return;
      case 'error':
        if (frame.status !== undefined && frame.status !== 400 && frame.status !== 413) return this.fail(conn, errorFrameFailure(frame));
        this.life.emit('error', new RealtimeError('protocol', `server reported ${frame.code}: ${frame.message}`, { status: frame.status }));
        return;
      case 'welcome':
        return this.fail(conn, { kind: 'protocol', message: 'second welcome frame on one connection' });
    }
  }

  private open(conn: Connection, welcome: WelcomeFrame): void {
    conn.cancelOpenTimer();
    conn.opened = true;
    this.host.welcomed(welcome);
    this.walk.opened();
    this.retriesSinceOpen = 0;
    this.authRefreshed = false;
    this.everOpened = true;
    this.host.opened(conn, welcome, this.walk.reason);
  }

  /** The active connection failed or dropped: decide, from the failure, whether and when to try again, and where. */
  fail(conn: Connection, failure: TransportFailure, immediate = false): void {
    if (conn !== this.active) return;
    this.active = null;
    closeConnection(conn);
    this.liveness.stop();
    this.host.lost(conn, failure);
    this.options.logger('warn', `${conn.name} ${conn.opened ? 'dropped' : 'failed'}: ${failure.message}`, { failure });
    this.life.emit('transportFailed', { transport: conn.name, opened: conn.opened, probe: false, failure });
    if (this.host.state === 'closed') return; // a listener closed the client
    if (conn.opened) this.host.setState('reconnecting');

    const { transports, auth } = this.options;
    const httpTransportNext = conn.name === 'websocket' && !conn.opened && this.walk.index < transports.length - 1;
    let decision = classifyFailure(failure, auth !== undefined && !this.authRefreshed, httpTransportNext);
    if (this.settings.mode.refusalMeansUnavailable && !conn.opened && decision.action === 'stop' && decision.error.code === 'rejected') decision = { action: 'retry' };
    switch (decision.action) {
      case 'stop':
        return this.host.stop(decision.error);
      case 'refresh_auth':
        this.authRefreshed = true;
        return this.retry(0, 'refreshing the credential');
      case 'wait':
        return this.retry(decision.delayMs, `server asked to retry after ${decision.delayMs} ms`);
    }
    if (immediate) {
      if (conn.opened) this.walk.reason = 'connect';
      return this.retry(0, failure.message);
    }
    const step = failure.kind === 'buffered' ? this.walk.buffered() : this.walk.failed(conn.opened, conn.silent);
    switch (step.kind) {
      case 'reopen':
        return this.retry(this.settings.mode.reopenDelayMs(conn.name) ?? step.delayMs, failure.message);
      case 'retry':
        return this.retry(step.delayMs, failure.message);
      case 'next':
        return this.retry(0, `${conn.name} failed: ${failure.message}`);
      case 'round':
        return this.retry(step.delayMs, `every transport failed; last: ${failure.message}`);
    }
  }

  private retry(delayMs: number, reason: string): void {
    this.cancelRetry?.();
    this.cancelRetry = null;
    if (this.host.state === 'closed') return;
    const transport = this.options.transports[this.walk.index]!;
    this.retriesSinceOpen++;
    this.life.emit('reconnecting', { attempt: this.retriesSinceOpen, delayMs, transport, reason });
    if (!isOnline()) {
      this.waitingForOnline = true;
      return;
    }
    this.cancelRetry = this.settings.scheduler.schedule(() => {
      this.cancelRetry = null;
      void this.connect();
    }, delayMs);
  }

  private onOnline(): void {
    if (!this.waitingForOnline && this.cancelRetry === null) return;
    if (this.host.state !== 'connecting' && this.host.state !== 'reconnecting') return;
    this.waitingForOnline = false;
    void this.connect();
  }

  private onOffline(): void {
    if (this.host.state !== 'connecting' && this.host.state !== 'reconnecting') return;
    if (this.active) return; // an attempt in flight fails on its own; its retry will then wait for `online`
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.waitingForOnline = true;
  }

  /** Back from the background: a connection silent for longer than its limit is dead, however the timers ran. */
  private onVisible(): void {
    const conn = this.active;
    if (!conn?.opened) return;
    const overdue = this.liveness.overdue();
    if (overdue) this.fail(conn, { kind: 'network', message: `silent for ${overdue.silentMs} ms while the page was hidden` }, true);
  }
}

function errorFrameFailure(frame: { code: string; message: string; status?: number; retryAfter?: number }): TransportFailure {
  const failure: TransportFailure = { kind: frame.status !== undefined ? 'http' : 'protocol', code: frame.code, message: `${frame.code}: ${frame.message}` };
  if (frame.status !== undefined) failure.status = frame.status;
  if (frame.retryAfter !== undefined) failure.retryAfter = frame.retryAfter;
  return failure;
}
