import type { MessageFrame, ReplyFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import { MAX_FRAME_DEPTH, nestedDeeperThan, utf8Length } from '../protocol/codec';
import type { TransportFailure } from '../transports/transport';
import type { TransportEnvironment } from '../transports/environment';
import type { Connection, ConnectionSettings } from './connection';
import { createConnector, type Connector, type ConnectorHost, type SessionFrame } from './connector';
import { encodePayload } from './encode-payload';
import { TypedEmitter, type EventMap } from './emitter';
import { RealtimeError } from './errors';
import { invalid } from './option-checks';
import type { LifecycleEvents, ClientState, Subscribable, TransportReason } from './lifecycle';
import type { ClientMode } from './mode/mode';
import { MODES } from './mode/modes';
import { resolveOptions, type ClientOptions, type Logger } from './options';
import { Outbox, type OutboxEntry } from './outbox';
import type { PersistedSession } from './persist-session';
import type { PersistStore } from './persistence';
import { createPendingRequests, type PendingRequests } from './requests';
import { BackoffScheduler } from './scheduler';
import { createClientSession, type ClientSession } from './session';
import type { ShareModeFactory } from './share/share-mode';
import { LifecycleEmitter } from './unheard-errors';
import { createUpgradeProbe, type UpgradeProbe } from './upgrade-probe';
import { normaliseUrl } from './url';

export interface EmitOptions {
  /** Drop the emit if it could not be sent within this many ms (an `expired` error is reported). Default: no limit. */
  ttlMs?: number;
}

export interface RequestOptions {
  /** Reject with code `timeout` when no reply came within this many ms. Default `requestTimeoutMs`. */
  timeout?: number;
}

/**
 * One realtime connection that keeps working: WebSocket, then SSE, then long-polling, with every server message
 * delivered once and in order, and every emit delivered once, across reconnects and transport switches. This class is
 * the public API and the client's state; the connector gets and keeps connections, the session orders what arrives,
 * the outbox and the pending requests hold what goes out, the mode says what the server speaks.
 */
export class RealtimeClient<ServerEvents extends object = EventMap, ClientEvents extends object = EventMap>
  implements Subscribable<ServerEvents>
{
  /** Lifecycle events (state, transport, reconnecting, resync, error, close). */
  readonly lifecycle: Subscribable<LifecycleEvents>;

  private readonly scheduler: BackoffScheduler;
  private readonly app: TypedEmitter<ServerEvents>;
  private readonly life: TypedEmitter<LifecycleEvents>;
  private readonly outbox: Outbox;
  private readonly requests: PendingRequests;
  private readonly session: ClientSession;
  private readonly mode: ClientMode;
  private readonly connector: Connector;
  private readonly probe: UpgradeProbe;
  private readonly requestTimeoutMs: number;
  private readonly debug: boolean;
  private readonly log: Logger;
  /** With `persist`: the kept session taken back before the first handshake, then kept written (a lazy chunk). */
  private persisting: Promise<void> | null = null;
  private persisted: PersistedSession | null = null;

  private _state: ClientState = 'idle';
  private _transport: TransportName | null = null;

  /** `share`: the tab-sharing mode, which only the client of `realtime-fallback/share` passes (src/share.ts). */
  constructor(url: string, options: ClientOptions = {}, share?: ShareModeFactory) {
    const opts = resolveOptions(options);
    const endpoint = normaliseUrl(url);
    this.scheduler = new BackoffScheduler(opts.backoff, opts.clock, opts.random);
    const onListenerError = (error: unknown, event: string): void => opts.logger('error', `listener for "${event}" threw`, { error });
    this.app = new TypedEmitter<ServerEvents>(onListenerError);
    this.life = new LifecycleEmitter(onListenerError, options.logger);
    this.lifecycle = this.life;
    const changed = (): void => this.persisted?.changed();
    this.outbox = new Outbox({ maxCount: opts.maxQueuedMessages, maxBytes: opts.maxQueuedBytes }, changed);
    this.requests = createPendingRequests(this.scheduler, this.outbox);
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.debug = opts.debug;
    this.log = opts.logger;
    this.session = createClientSession(this.scheduler, (id) => this.sendAck(id), changed);
    const modeSettings = { endpoint, endpoints: opts.endpoints, session: this.session, heartbeatTolerance: opts.heartbeatTolerance };
    // With `share`, the connection is the leading tab's (src/client/share, in its own entry so others do not pay).
    if (opts.share && !share) throw invalid('option share needs the RealtimeClient of realtime-fallback/share');
    this.mode = opts.share ? share!(modeSettings, opts, this.life) : MODES[opts.protocol].create(modeSettings);
    const environment: TransportEnvironment = {};
    if (opts.WebSocket) environment.WebSocket = opts.WebSocket;
    if (opts.EventSource) environment.EventSource = opts.EventSource;
    if (opts.fetch) environment.fetch = opts.fetch;
    const settings: ConnectionSettings = {
      mode: this.mode,
      environment,
      scheduler: this.scheduler,
      transports: opts.transports,
      openTimeoutMs: opts.openTimeoutMs,
      withCredentials: opts.withCredentials,
      logger: opts.logger,
    };
    const storageFailed = (error: unknown): void =>
      this.life.emit('error', new RealtimeError('storage_failed', 'persist failed; going on in memory', { cause: error }));
    const { persist } = opts;
    const restore = (user: string): Promise<void> =>
      import('./persist-session')
        .then((m) => {
          const store = persist as true | PersistStore;
          return m.persistSession({ store, endpoint, storage: opts.storage, resume: opts.resume, session: this.session, outbox: this.outbox, failed: storageFailed }, user);
        })
        .then((p) => void (this.persisted = p), storageFailed);
    this.connector = createConnector(settings, opts, endpoint, this.life, this.connectorHost(persist ? restore : null));
    this.probe = createUpgradeProbe(settings, {
      firstDelayMs: opts.upgradeProbeMs,
      connector: this.connector,
      session: this.session,
      life: this.life,
      current: () => this._transport,
      moved: (probe, welcome) => this.upgraded(probe, welcome),
    });
    // On the next microtask, so that listeners added right after construction hear the first `state` change.
    if (opts.autoConnect) queueMicrotask(() => this._state === 'idle' && this.connect());
  }

  get state(): ClientState {
    return this._state;
  }

  get transport(): TransportName | null {
    return this._transport;
  }

  /** The server's session id, once a connection has opened. Stable across reconnects unless a resync happened. */
  get sessionId(): string | null {
    return this.session.id;
  }

  /** Emits and requests accepted and not yet acknowledged by the server. */
  get queued(): { messages: number; bytes: number } {
    return { messages: this.outbox.size, bytes: this.outbox.bytes };
  }

  /** Timers still scheduled; zero after `close()`. For tests and diagnostics. */
  get pendingTimers(): number {
    return this.scheduler.pending;
  }

  on<K extends keyof ServerEvents>(event: K, listener: (payload: ServerEvents[K]) => void): () => void {
    return this.app.on(event, listener);
  }

  once<K extends keyof ServerEvents>(event: K, listener: (payload: ServerEvents[K]) => void): () => void {
    return this.app.once(event, listener);
  }

  off<K extends keyof ServerEvents>(event: K, listener: (payload: ServerEvents[K]) => void): void {
    this.app.off(event, listener);
  }

  /**
   * Sends an event to the server. Queued while not open and delivered exactly once when a transport opens.
   * Throws `RealtimeError` (`outbox_full`, `payload_too_large`, `invalid_argument`, `closed`) instead of dropping it.
   */
  emit<K extends keyof ClientEvents & string>(event: K, data: ClientEvents[K], options: EmitOptions = {}): void {
    this.accept('emit', event, data, options.ttlMs);
    this.flush(false);
  }

  /** Sends a request; resolves with the server's reply, or rejects with a `RealtimeError` (`timeout`, `server_error`, …). */
  request<R = unknown>(event: string, data?: unknown, options: RequestOptions = {}): Promise<R> {
    if (!this.mode.requests) {
      return Promise.reject(new RealtimeError('invalid_argument', 'request() needs a server that speaks the realtime-fallback protocol, not plain mode'));
    }
    let entry: OutboxEntry;
    try {
      entry = this.accept('req', event, data, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const reply = this.requests.track<R>(entry, options.timeout ?? this.requestTimeoutMs);
    this.flush(false);
    return reply;
  }

  /** Starts connecting (again). Does nothing while already connecting or open. */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'open' || this._state === 'reconnecting') return;
    this.connector.start();
  }

  /**
   * Closes the connection and releases every timer, socket and page listener. Pending requests reject with
   * `closed`; emits not yet acknowledged stay queued for a later `connect()`.
   */
  close(): void {
    if (this._state === 'closed') return;
    this.shutdown({ reason: 'closed by the application' });
  }

  /**
   * Logs out: closes the client, drops the session and every emit not yet acknowledged, and deletes what `persist`
   * kept, so that nothing of it is resumed or sent later, by this page or the next.
   */
  async forget(): Promise<void> {
    this.close();
    this.outbox.clear();
    this.session.forget();
    await this.persisting;
    await this.persisted?.forget();
  }

  // ---- outbound -------------------------------------------------------------------

  private accept(kind: 'emit' | 'req', event: string, data: unknown, ttlMs: number | undefined): OutboxEntry {
    if (this._state === 'closed') throw new RealtimeError('closed', `cannot ${kind === 'emit' ? 'emit' : 'request'} "${event}": the client is closed`);
    if (typeof event !== 'string' || event.length === 0) throw new RealtimeError('invalid_argument', 'event name must be a non-empty string');
    if (ttlMs !== undefined && !(ttlMs >= 0)) throw new RealtimeError('invalid_argument', 'ttlMs must be a number >= 0');
    const text = encodePayload(kind, event, data);
    // The server refuses deeper frames unread: refused here, the emit is not left to be resent for ever.
    if (nestedDeeperThan(text, MAX_FRAME_DEPTH)) throw new RealtimeError('invalid_argument', `payload of "${event}" nests deeper than ${MAX_FRAME_DEPTH - 1} levels`);
    const size = utf8Length(text);
    const limit = this.session.maxFrame;
    if (size > limit) throw new RealtimeError('payload_too_large', `payload of "${event}" is ${size} bytes; the server accepts ${limit}`);
    return this.outbox.add(kind, event, data, ttlMs === undefined ? undefined : this.scheduler.now() + ttlMs, size);
  }

  /** Transmits what the outbox holds: everything unacknowledged right after a (re)open, else only new frames. */
  private flush(all: boolean): void {
    const conn = this.connector.active;
    if (!conn?.opened) return;
    const { frames, expired } = this.outbox.take(this.scheduler.now(), all);
    for (const entry of expired) {
      const error = new RealtimeError('expired', `"${entry.frame.e}" expired before it could be sent`);
      if (!this.requests.expired(entry, error)) this.life.emit('error', error);
    }
    this.requests.sent(frames);
    if (frames.length === 0) return;
    if (this.debug) this.log('debug', `${conn.name} → ${frames.map((entry) => entry.frame.t).join(' ')}`);
    conn.transport.send(frames.map((entry) => entry.frame));
  }

  /** Acknowledges what arrived, on the active open connection; false when there is none. */
  private sendAck(id: number): boolean {
    const conn = this.connector.active;
    if (!conn?.opened) return false;
    conn.transport.send([{ t: 'ack', id }]);
    return true;
  }

  // ---- what the connector reports ---------------------------------------------------

  /** `restore`: with `persist`, takes back what an earlier page kept for a user (once, before the first handshake). */
  private connectorHost(restore: ((user: string) => Promise<void>) | null): ConnectorHost {
    const state = (): ClientState => this._state;
    return {
      get state() {
        return state();
      },
      setState: (state) => this.setState(state),
      welcomed: (welcome) => this.welcomed(welcome),
      opened: (conn, welcome, reason) => this.opened(conn, welcome, reason),
      received: (conn, frame) => this.received(conn, frame),
      lost: (conn, failure) => this.lost(conn, failure),
      stop: (error) => this.shutdown({ reason: error.message, error }),
      prepare: (creds) => restore && (this.persisting ??= restore(creds.user ?? '')),
    };
  }

  /** Takes the session from a welcome; a refused resume becomes a `resync` event, never a silent gap. */
  private welcomed(welcome: WelcomeFrame): void {
    const lost = this.session.adopt(welcome);
    if (lost) {
      const resent = this.outbox.renumber(lost.accepted); // first: a request the old session ran fails, not re-runs
      this.requests.sessionLost();
      this.life.emit('resync', { reason: lost.reason, previousSessionId: lost.previousSessionId, sessionId: welcome.sid, resent });
    }
    this.outbox.ack(welcome.ack);
    // After a reload with `resume: 'skip'`: what the server sent while the page was away counts as seen.
    const kept = this.persisted;
    if (kept?.skip && welcome.resumed && welcome.head !== undefined) this.session.skipTo(welcome.head);
    if (kept) kept.skip = false;
  }

  private opened(conn: Connection, welcome: WelcomeFrame, reason: TransportReason): void {
    // The transport's own name: a shared tab's link names the transport the leading tab is on.
    const name = conn.transport.name;
    this.switchTransport(name, reason);
    this.setState('open');
    this.life.emit('open', { transport: name, sessionId: welcome.sid, resumed: welcome.resumed });
    if (this._state !== 'open') return; // a listener closed the client: nothing may be scheduled after that
    this.flush(true);
    this.connector.watchLiveness();
    this.probe.schedule();
  }

  private received(conn: Connection, frame: SessionFrame): void {
    switch (frame.t) {
      case 'msg':
      case 'reply':
        return this.deliver(conn, frame);
      case 'ack':
        return this.outbox.ack(frame.n);
      case 'close':
        if (frame.code === 'session_ended') this.session.markEnded();
        return this.connector.fail(conn, { kind: 'network', message: `server closed the connection (${frame.code})` });
    }
  }

  private deliver(conn: Connection, frame: MessageFrame | ReplyFrame): void {
    const place = this.session.place(frame);
    if (place === 'seen') return; // replay overlap: already handed to the app
    if (place === 'gap') {
      return this.connector.fail(conn, { kind: 'protocol', message: `frame ${frame.id} arrived after ${this.session.lastDelivered}: resuming to fill the gap` });
    }
    if (frame.t === 'msg') this.app.emit(frame.e as keyof ServerEvents, frame.d as ServerEvents[keyof ServerEvents]);
    else this.requests.answer(frame);
    if (this.connector.active === conn) this.session.delivered();
  }

  private lost(conn: Connection, failure: TransportFailure): void {
    this.session.stopAckTimer();
    this.probe.stop();
    if (conn.name === 'websocket' && failure.code === 'origin_rejected') this.probe.originRefused();
  }

  /** The upgrade probe opened: the session continues on it. */
  private upgraded(probe: Connection, welcome: WelcomeFrame): void {
    this.connector.replaceWith(probe);
    this.session.moved(welcome);
    this.outbox.ack(welcome.ack);
    this.switchTransport(probe.name, 'upgrade');
    this.flush(true);
    this.connector.watchLiveness();
  }

  private switchTransport(name: TransportName, reason: TransportReason): void {
    const previous = this._transport;
    this._transport = name;
    this.connector.remember(name);
    if (previous !== name) this.life.emit('transport', { transport: name, previous, reason });
  }

  // ---- ending ----------------------------------------------------------------------

  private shutdown(detail: { reason: string; error?: RealtimeError }): void {
    this.connector.stop();
    this.probe.stop();
    this.scheduler.dispose(); // every timer: retries, open timeouts, heartbeats, polls, acks, request timeouts
    this.session.stopAckTimer();
    this.requests.rejectAll(detail.error ?? new RealtimeError('closed', 'the client was closed'));
    this._transport = null;
    this.setState('closed');
    if (detail.error) this.life.emit('error', detail.error);
    this.life.emit('close', detail);
  }

  private setState(state: ClientState): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    this.life.emit('state', { state, previous });
  }
}
