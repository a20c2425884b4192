import { PROTOCOL_VERSION, QUERY, type ReplyFrame, type MessageFrame, type ServerFrame, type TransportName, type WelcomeFrame } from '../protocol/frames';
import { utf8Length } from '../protocol/codec';
import type { Transport, TransportFailure } from '../transports/transport';
import { createTransport } from '../transports/create';
import { newPlainState, type PlainState } from '../plain/plain';

type PlainTransportFactory = typeof import('../plain/create').createPlainTransport;
import type { TransportEnvironment } from '../transports/environment';
import { BackoffScheduler } from './scheduler';
import { TypedEmitter, type EventMap } from './emitter';
import { resolveOptions, type AuthCredentials, type ClientOptions, type ResolvedOptions } from './options';
import { RealtimeError } from './errors';
import { Outbox, type OutboxEntry } from './outbox';
import { classifyFailure } from './failure-policy';
import { FallbackWalk } from './fallback-walk';
import { recallTransport, rememberTransport } from './transport-memory';
import { isOnline, watchBrowserSignals } from './browser-signals';
import type { ClientState, LifecycleEvents, Subscribable, TransportReason } from './lifecycle';

/** Client acknowledgements: after this many delivered frames, or this long after the first unacknowledged one. */
const ACK_EVERY_FRAMES = 32;
const ACK_DELAY_MS = 1000;
/** Largest frame accepted before the server has announced its own limit. */
const DEFAULT_MAX_FRAME = 1024 * 1024;

/** One connection attempt: a transport plus what the client knows about it. */
interface Connection {
  name: TransportName;
  transport: Transport;
  opened: boolean;
  /** It connected but sent no welcome in time: what a buffering proxy looks like. */
  silent?: boolean;
  cancelOpenTimer: () => void;
}

interface PendingRequest {
  entry: OutboxEntry;
  resolve(value: unknown): void;
  reject(error: RealtimeError): void;
  cancelTimer(): void;
}

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
 * delivered once and in order, and every emit delivered once, across reconnects and transport switches.
 */
export class RealtimeClient<ServerEvents extends object = EventMap, ClientEvents extends object = EventMap>
  implements Subscribable<ServerEvents>
{
  /** Lifecycle events (state, transport, reconnecting, resync, error, close). */
  readonly lifecycle: Subscribable<LifecycleEvents>;

  private readonly opts: ResolvedOptions;
  private readonly url: string;
  private readonly scheduler: BackoffScheduler;
  private readonly app: TypedEmitter<ServerEvents>;
  private readonly life: TypedEmitter<LifecycleEvents>;
  private readonly outbox: Outbox;
  private readonly environment: TransportEnvironment;
  /** Plain mode: what its transports share across reconnects, and their factory (loaded on first use). */
  private readonly plain: PlainState = newPlainState();
  private plainFactory: PlainTransportFactory | undefined;

  private _state: ClientState = 'idle';
  private _transport: TransportName | null = null;
  private session: { sid: string; secret: string } | null = null;
  private sessionEnded = false;
  private heartbeatMs = 0;
  private maxFrame = DEFAULT_MAX_FRAME;
  private lastDelivered = 0;
  private lastHeardAt = 0;
  private unackedCount = 0;

  private conn: Connection | null = null;
  private probe: Connection | null = null;
  private probeFailures = 0;
  /** The server refused this page's origin over WebSocket (but not over HTTP): probing it again cannot succeed. */
  private webSocketOriginRefused = false;
  /** Bumped whenever pending async work (auth calls) must be ignored. */
  private attemptSerial = 0;
  /** Every unanswered request, by its outbox entry; and the transmitted ones by sequence number. */
  private readonly requests = new Map<OutboxEntry, PendingRequest>();
  private readonly requestsBySeq = new Map<number, PendingRequest>();

  private readonly walk: FallbackWalk;
  private retriesSinceOpen = 0;
  private authRefreshed = false;
  private waitingForOnline = false;
  private everOpened = false;

  private cancelRetry: () => void = noop;
  private cancelAck: (() => void) | null = null;
  private cancelLiveness: () => void = noop;
  private cancelProbe: () => void = noop;
  private unwatchBrowser: () => void = noop;

  constructor(url: string, options: ClientOptions = {}) {
    this.opts = resolveOptions(options);
    this.url = normaliseUrl(url);
    this.scheduler = new BackoffScheduler(this.opts.backoff, this.opts.clock, this.opts.random);
    this.walk = new FallbackWalk(this.opts.transports.length, this.opts.retriesPerTransport, (attempt) => this.scheduler.backoff(attempt));
    const onListenerError = (error: unknown, event: string): void =>
      this.opts.logger('error', `listener for "${event}" threw`, { error });
    this.app = new TypedEmitter<ServerEvents>(onListenerError);
    this.life = new TypedEmitter<LifecycleEvents>(onListenerError);
    this.lifecycle = this.life;
    this.environment = {};
    if (this.opts.WebSocket) this.environment.WebSocket = this.opts.WebSocket;
    if (this.opts.EventSource) this.environment.EventSource = this.opts.EventSource;
    if (this.opts.fetch) this.environment.fetch = this.opts.fetch;
    this.outbox = new Outbox({ maxCount: this.opts.maxQueuedMessages, maxBytes: this.opts.maxQueuedBytes });
    if (this.opts.autoConnect) this.connect();
  }

  get state(): ClientState {
    return this._state;
  }

  get transport(): TransportName | null {
    return this._transport;
  }

  /** The server's session id, once a connection has opened. Stable across reconnects unless a resync happened. */
  get sessionId(): string | null {
    return this.session?.sid ?? null;
  }

  /** Emits and requests accepted and not yet acknowledged by the server. */
  get queued(): { messages: number; bytes: number } {
    return { messages: this.outbox.size, bytes: this.outbox.bytes };
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
    if (this.opts.protocol === 'plain') {
      return Promise.reject(new RealtimeError('invalid_argument', 'request() needs a server that speaks the realtime-fallback protocol, not plain mode'));
    }
    let entry: OutboxEntry;
    try {
      entry = this.accept('req', event, data, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeout = options.timeout ?? this.opts.requestTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      const pending: PendingRequest = {
        entry,
        resolve: resolve as (value: unknown) => void,
        reject,
        cancelTimer: noop,
      };
      pending.cancelTimer = this.scheduler.schedule(() => {
        this.forgetRequest(pending);
        this.outbox.remove(entry); // only if never sent: a sent frame keeps its place in the numbering
        reject(new RealtimeError('timeout', `request "${event}" got no reply within ${timeout} ms`));
      }, timeout);
      this.requests.set(entry, pending);
      this.flush(false);
    });
  }

  /** Starts connecting (again). Does nothing while already connecting or open. */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'open' || this._state === 'reconnecting') return;
    this.unwatchBrowser = watchBrowserSignals({
      online: () => this.onOnline(),
      offline: () => this.onOffline(),
      visible: () => this.onVisible(),
    });
    const remembered = recallTransport(this.opts.storage, this.url, this.scheduler.now());
    const index = remembered ? this.opts.transports.indexOf(remembered) : -1;
    this.walk.start(index);
    this.authRefreshed = false;
    this.retriesSinceOpen = 0;
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    void this.attempt();
  }

  /**
   * Closes the connection and releases every timer, socket and page listener. Pending requests reject with
   * `closed`; emits not yet acknowledged stay queued for a later `connect()`.
   */
  close(): void {
    if (this._state === 'closed') return;
    this.shutdown({ reason: 'closed by the application' });
  }

  // ---- accepting outbound frames ------------------------------------------------

  private accept(kind: 'emit' | 'req', event: string, data: unknown, ttlMs: number | undefined): OutboxEntry {
    if (this._state === 'closed') throw new RealtimeError('closed', `cannot ${kind === 'emit' ? 'emit' : 'request'} "${event}": the client is closed`);
    if (typeof event !== 'string' || event.length === 0) throw new RealtimeError('invalid_argument', 'event name must be a non-empty string');
    if (ttlMs !== undefined && !(ttlMs >= 0)) throw new RealtimeError('invalid_argument', 'ttlMs must be a number >= 0');
    let size: number;
    try {
      const json = JSON.stringify({ e: event, d: data });
      size = utf8Length(json);
    } catch (cause) {
      throw new RealtimeError('invalid_argument', `payload of "${event}" is not JSON-serialisable`, { cause });
    }
    if (size > this.maxFrame) {
      throw new RealtimeError('payload_too_large', `payload of "${event}" is ${size} bytes; the server accepts ${this.maxFrame}`);
    }
    return this.outbox.add(kind, event, data, ttlMs === undefined ? undefined : this.scheduler.now() + ttlMs);
  }

  /** Transmits what the outbox holds: everything unacknowledged right after a (re)open, else only new frames. */
  private flush(all: boolean): void {
    const conn = this.conn;
    if (!conn || !conn.opened) return;
    const { frames, expired } = this.outbox.take(this.scheduler.now(), all);
    for (const entry of expired) {
      const error = new RealtimeError('expired', `"${entry.frame.e}" expired before it could be sent`);
      const pending = this.requests.get(entry);
      if (pending) this.settle(pending, error);
      else this.life.emit('error', error);
    }
    for (const entry of frames) {
      const pending = this.requests.get(entry);
      if (pending) this.requestsBySeq.set(entry.frame.seq, pending);
    }
    if (frames.length > 0) conn.transport.send(frames.map((entry) => entry.frame));
  }

  private forgetRequest(pending: PendingRequest): void {
    this.requests.delete(pending.entry);
    if (pending.entry.frame.seq !== 0) this.requestsBySeq.delete(pending.entry.frame.seq);
  }

  private settle(pending: PendingRequest, error: RealtimeError | null, value?: unknown): void {
    pending.cancelTimer();
    this.forgetRequest(pending);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  // ---- connecting -----------------------------------------------------------------

  private async credentials(): Promise<AuthCredentials> {
    return this.opts.auth ? await this.opts.auth() : {};
  }

  private async attempt(): Promise<void> {
    this.cancelRetry();
    // No online check here: an attempt is always worth one try (browsers can report offline wrongly at start-up);
    // it is the retries that wait for `online` (scheduleRetry).
    const serial = ++this.attemptSerial;
    const name = this.opts.transports[this.walk.index]!;
    let creds: AuthCredentials;
    try {
      creds = await this.credentials();
    } catch (cause) {
      if (serial !== this.attemptSerial || this._state === 'closed') return;
      this.life.emit('error', new RealtimeError('unauthorized', 'the auth provider failed; retrying', { cause }));
      this.scheduleRetry(this.walk.pause(), 'auth provider failed');
      return;
    }
    if (serial !== this.attemptSerial || this._state === 'closed') return; // closed or superseded during the await
    if (this.opts.protocol === 'plain' && !this.plainFactory) {
      // A separate chunk in the ESM build: apps that never use plain mode never download it.
      this.plainFactory = (await import('../plain/create')).createPlainTransport;
      if (this.superseded(serial)) return;
    }
    this.conn = this.openConnection(name, this.handshakeQuery(creds, false), creds);
  }

  /** True when the client was closed or another attempt started while this one awaited something. */
  private superseded(serial: number): boolean {
    return serial !== this.attemptSerial || this._state === 'closed';
  }

  private handshakeQuery(creds: AuthCredentials, probe: boolean): Record<string, string> {
    if (this.opts.protocol === 'plain') return creds.token === undefined ? {} : { [QUERY.token]: creds.token };
    const query: Record<string, string> = { [QUERY.version]: String(PROTOCOL_VERSION) };
    if (this.session && !this.sessionEnded) {
      query[QUERY.session] = this.session.sid;
      query[QUERY.secret] = this.session.secret;
      query[QUERY.last] = String(this.lastDelivered);
    }
    if (probe) query[QUERY.probe] = '1';
    if (creds.token !== undefined) query[QUERY.token] = creds.token;
    return query;
  }

  /** Opens a transport whose callbacks route by what the connection is now: active, probe, or stale (ignored). */
  private openConnection(name: TransportName, query: Record<string, string>, creds: AuthCredentials): Connection {
    const conn: Connection = { name, opened: false, cancelOpenTimer: noop, transport: undefined as unknown as Transport };
    const make = this.opts.protocol === 'plain' ? this.createPlain : createTransport;
    conn.transport = make(
      name,
      {
        url: this.opts.protocol === 'plain' ? this.plainUrl(name) : this.url,
        query,
        headers: creds.headers ?? {},
        withCredentials: this.opts.withCredentials,
        schedule: (callback, ms) => this.scheduler.schedule(callback, ms),
        now: () => this.scheduler.now(),
        checkBuffering: this.opts.transports.indexOf(name) < this.opts.transports.length - 1,
        handlers: {
          onFrame: (frame) => (conn === this.probe ? this.onProbeFrame(conn, frame) : this.onFrame(conn, frame)),
          onFailure: (failure) => (conn === this.probe ? this.onProbeFailure(conn, failure) : this.onFailure(conn, failure)),
        },
      },
      this.environment,
    );
    const timeout = this.opts.openTimeoutMs[name];
    conn.cancelOpenTimer = this.scheduler.schedule(() => {
      const failure: TransportFailure = { kind: 'network', message: `no welcome frame within ${timeout} ms` };
      conn.silent = true;
      if (conn === this.probe) this.onProbeFailure(conn, failure);
      else this.onFailure(conn, failure);
    }, timeout);
    this.opts.logger('debug', `connecting over ${name}`, { url: this.url });
    conn.transport.connect();
    return conn;
  }

  private readonly createPlain: typeof createTransport = (name, params, env) =>
    this.plainFactory!(name, params, env, this.opts.endpoints, this.plain);

  /** A plain endpoint, resolved against the client's URL. */
  private plainUrl(name: TransportName): string {
    return new URL(this.opts.endpoints[name]!, `${this.url}/`).toString();
  }

  private onFrame(conn: Connection, frame: ServerFrame): void {
    if (conn !== this.conn) return; // a replaced transport's late callback
    this.lastHeardAt = this.scheduler.now();
    if (!conn.opened) {
      if (frame.t === 'welcome') return this.onWelcome(conn, frame);
      if (frame.t === 'error') return this.onFailure(conn, errorFrameFailure(frame));
      return this.onFailure(conn, { kind: 'protocol', message: `expected a welcome frame, got "${frame.t}"` });
    }
    switch (frame.t) {
      case 'msg':
      case 'reply':
        return this.onSequenced(conn, frame);
      case 'ack':
        return this.outbox.ack(frame.n);
      case 'ping':
        return;
      case 'error':
        if (frame.status !== undefined && frame.status !== 400 && frame.status !== 413) return this.onFailure(conn, errorFrameFailure(frame));
        this.life.emit('error', new RealtimeError('protocol', `server reported ${frame.code}: ${frame.message}`, { status: frame.status }));
        return;
      case 'close':
        if (frame.code === 'session_ended') this.sessionEnded = true;
        return this.onFailure(conn, { kind: 'network', message: `server closed the connection (${frame.code})` });
      case 'welcome':
        return this.onFailure(conn, { kind: 'protocol', message: 'second welcome frame on one connection' });
    }
  }

  private onWelcome(conn: Connection, welcome: WelcomeFrame): void {
    conn.cancelOpenTimer();
    conn.opened = true;
    this.adoptSession(welcome);
    this.walk.opened();
    this.retriesSinceOpen = 0;
    this.authRefreshed = false;
    this.everOpened = true;
    this.switchTransport(conn.name, this.walk.reason);
    this.setState('open');
    this.life.emit('open', { transport: conn.name, sessionId: welcome.sid, resumed: welcome.resumed });
    this.flush(true);
    this.watchLiveness();
    this.scheduleProbe();
  }

  /** Takes the session from a welcome; a refused resume becomes a `resync` event, never a silent gap. */
  private adoptSession(welcome: WelcomeFrame): void {
    const previous = this.session;
    this.session = { sid: welcome.sid, secret: welcome.secret };
    this.heartbeatMs = welcome.hb;
    this.maxFrame = welcome.maxFrame;
    if (previous && !welcome.resumed) {
      const reason = this.sessionEnded ? 'session_ended' : welcome.resumeFailed ?? 'unknown_session';
      // Replies to acknowledged requests died with the old session.
      for (const pending of [...this.requests.values()]) {
        if (!this.outbox.has(pending.entry)) this.settle(pending, new RealtimeError('server_error', `the session ended before "${pending.entry.frame.e}" was answered`));
      }
      this.requestsBySeq.clear();
      const resent = this.outbox.renumber();
      this.lastDelivered = 0;
      this.unackedCount = 0;
      this.cancelAck?.();
      this.cancelAck = null;
      this.life.emit('resync', { reason, previousSessionId: previous.sid, sessionId: welcome.sid, resent });
    }
    this.sessionEnded = false;
    this.outbox.ack(welcome.ack);
  }

  private switchTransport(name: TransportName, reason: TransportReason): void {
    const previous = this._transport;
    this._transport = name;
    rememberTransport(this.opts.storage, this.url, name, name === this.opts.transports[0], this.opts.rememberTransportMs, this.scheduler.now());
    if (previous !== name) this.life.emit('transport', { transport: name, previous, reason });
  }

  private onSequenced(conn: Connection, frame: MessageFrame | ReplyFrame): void {
    if (frame.id <= this.lastDelivered) return; // replay overlap: already handed to the app
    if (frame.id !== this.lastDelivered + 1) {
      return this.onFailure(conn, { kind: 'protocol', message: `frame ${frame.id} arrived after ${this.lastDelivered}: resuming to fill the gap` });
    }
    this.lastDelivered = frame.id;
    if (frame.t === 'msg') {
      this.app.emit(frame.e as keyof ServerEvents, frame.d as ServerEvents[keyof ServerEvents]);
    } else {
      const pending = this.requestsBySeq.get(frame.re);
      if (pending) {
        const error = frame.err ? new RealtimeError('server_error', `request "${pending.entry.frame.e}" failed: ${frame.err.message}`) : null;
        this.settle(pending, error, frame.d);
      }
    }
    if (this.conn === conn) this.noteDelivered(conn);
  }

  private noteDelivered(conn: Connection): void {
    this.unackedCount++;
    if (this.unackedCount >= ACK_EVERY_FRAMES) this.sendAck(conn);
    else if (!this.cancelAck) this.cancelAck = this.scheduler.schedule(() => this.sendAck(conn), ACK_DELAY_MS);
  }

  private sendAck(conn: Connection): void {
    this.cancelAck?.();
    this.cancelAck = null;
    if (this.unackedCount === 0 || conn !== this.conn || !conn.opened) return;
    this.unackedCount = 0;
    conn.transport.send([{ t: 'ack', id: this.lastDelivered }]);
  }

  /** Liveness by wall clock: a throttled background timer that fires late still measures the real silence. */
  private watchLiveness(): void {
    this.cancelLiveness();
    // Plain servers announce no heartbeat: only an explicit idle timeout declares them dead.
    const limit = this.opts.protocol === 'plain' ? (this.opts.endpoints.idleTimeoutMs ?? 0) : this.heartbeatMs * this.opts.heartbeatTolerance;
    if (limit <= 0) return;
    const check = (): void => {
      const conn = this.conn;
      if (!conn || !conn.opened) return;
      const silent = this.scheduler.now() - this.lastHeardAt;
      if (silent >= limit) this.onFailure(conn, { kind: 'network', message: `no heartbeat for ${silent} ms (limit ${limit} ms)` });
      else this.cancelLiveness = this.scheduler.schedule(check, limit - silent);
    };
    this.cancelLiveness = this.scheduler.schedule(check, limit);
  }

  // ---- failures, fallback and retries ---------------------------------------------

  private onFailure(conn: Connection, failure: TransportFailure, immediate = false): void {
    if (conn !== this.conn) return;
    this.conn = null;
    conn.cancelOpenTimer();
    conn.transport.close();
    this.cancelLiveness();
    this.cancelAck?.();
    this.cancelAck = null;
    this.stopProbe();
    this.opts.logger('warn', `${conn.name} ${conn.opened ? 'dropped' : 'failed'}: ${failure.message}`, { failure });
    this.life.emit('transportFailed', { transport: conn.name, opened: conn.opened, probe: false, failure });
    if (this._state === 'closed') return; // a listener closed the client
    if (conn.opened) this.setState('reconnecting');

    const httpTransportNext = conn.name === 'websocket' && !conn.opened && this.walk.index < this.opts.transports.length - 1;
    if (conn.name === 'websocket' && failure.code === 'origin_rejected') this.webSocketOriginRefused = true;
    let decision = classifyFailure(failure, this.opts.auth !== undefined && !this.authRefreshed, httpTransportNext);
    // A plain server without a route for this transport answers 404/405/501: that transport is unavailable, so the
    // walk moves on instead of stopping.
    if (this.opts.protocol === 'plain' && !conn.opened && decision.action === 'stop' && decision.error.code === 'rejected') decision = { action: 'retry' };
    switch (decision.action) {
      case 'stop':
        return this.shutdown({ reason: decision.error.message, error: decision.error });
      case 'refresh_auth':
        this.authRefreshed = true;
        return this.scheduleRetry(0, 'refreshing the credential');
      case 'wait':
        return this.scheduleRetry(decision.delayMs, `server asked to retry after ${decision.delayMs} ms`);
    }
    if (immediate) {
      if (conn.opened) this.walk.reason = 'connect';
      return this.scheduleRetry(0, failure.message);
    }
    const step = failure.kind === 'buffered' ? this.walk.buffered() : this.walk.failed(conn.opened, conn.silent === true);
    switch (step.kind) {
      case 'reopen': {
        // A plain SSE stream may have set its own reconnect delay with `retry:`.
        const sseRetry = this.opts.protocol === 'plain' && conn.name === 'sse' ? this.plain.retryMs : undefined;
        return this.scheduleRetry(sseRetry ?? step.delayMs, failure.message);
      }
      case 'retry':
        return this.scheduleRetry(step.delayMs, failure.message);
      case 'next':
        return this.scheduleRetry(0, `${conn.name} failed: ${failure.message}`);
      case 'round':
        return this.scheduleRetry(step.delayMs, `every transport failed; last: ${failure.message}`);
    }
  }

  private scheduleRetry(delayMs: number, reason: string): void {
    this.cancelRetry();
    if (this._state === 'closed') return;
    const transport = this.opts.transports[this.walk.index]!;
    this.retriesSinceOpen++;
    this.life.emit('reconnecting', { attempt: this.retriesSinceOpen, delayMs, transport, reason });
    if (!isOnline()) {
      this.waitingForOnline = true;
      return;
    }
    this.cancelRetry = this.scheduler.schedule(() => {
      this.cancelRetry = noop;
      void this.attempt();
    }, delayMs);
  }

  private onOnline(): void {
    if (!this.waitingForOnline && this.cancelRetry === noop) return;
    if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
    this.waitingForOnline = false;
    this.cancelRetry();
    this.cancelRetry = noop;
    void this.attempt();
  }

  private onOffline(): void {
    if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
    if (this.conn) return; // an attempt in flight fails on its own; its retry will then wait for `online`
    this.cancelRetry();
    this.cancelRetry = noop;
    this.waitingForOnline = true;
  }

  private onVisible(): void {
    const conn = this.conn;
    if (!conn || !conn.opened) return;
    const silent = this.scheduler.now() - this.lastHeardAt;
    const limit = this.opts.protocol === 'plain' ? (this.opts.endpoints.idleTimeoutMs ?? 0) : this.heartbeatMs * this.opts.heartbeatTolerance;
    if (limit > 0 && silent > limit) {
      this.onFailure(conn, { kind: 'network', message: `silent for ${silent} ms while the page was hidden` }, true);
    }
  }

  // ---- upgrade probe ---------------------------------------------------------------

  /** While on a fallback, try the preferred transport now and then; move the live session over if it works. */
  private scheduleProbe(): void {
    this.stopProbe();
    const best = this.opts.transports[0];
    // Plain servers cannot move a session between connections, so plain mode never probes.
    if (this.opts.protocol === 'plain' || this.opts.upgradeProbeMs === 0 || best !== 'websocket' || this._transport === best) return;
    if (this.webSocketOriginRefused) return;
    const base = this.opts.upgradeProbeMs;
    const delay = this.scheduler.backoff(this.probeFailures, { initialMs: base, maxMs: base * 16, factor: 2, jitter: 0.5 });
    this.cancelProbe = this.scheduler.schedule(() => void this.startProbe(), delay);
  }

  private async startProbe(): Promise<void> {
    const serial = this.attemptSerial;
    let creds: AuthCredentials;
    try {
      creds = await this.credentials();
    } catch {
      return this.scheduleProbe();
    }
    if (serial !== this.attemptSerial || !this.conn?.opened || this.probe) return;
    // Assigned before connect() can report anything, so the callbacks already see it as the probe.
    this.probe = this.openConnection('websocket', this.handshakeQuery(creds, true), creds);
  }

  private onProbeFrame(probe: Connection, frame: ServerFrame): void {
    if (probe !== this.probe) return;
    const active = this.conn;
    if (frame.t !== 'welcome' || !frame.probe || !active || !this.session || frame.sid !== this.session.sid) {
      return this.onProbeFailure(probe, { kind: 'protocol', message: `probe got "${frame.t}" instead of a probe welcome` });
    }
    // Move the session: the server replays after `last`; the old transport is ignored from here on.
    probe.cancelOpenTimer();
    probe.opened = true;
    probe.transport.send([{ t: 'upgrade', last: this.lastDelivered }]);
    this.probe = null;
    this.probeFailures = 0;
    this.conn = probe;
    this.walk.moveTo(this.opts.transports.indexOf('websocket')); // a later drop reopens WebSocket, not the fallback
    active.cancelOpenTimer();
    active.transport.close();
    this.unackedCount = 0;
    this.cancelAck?.();
    this.cancelAck = null;
    this.lastHeardAt = this.scheduler.now();
    this.heartbeatMs = frame.hb;
    this.outbox.ack(frame.ack);
    this.switchTransport('websocket', 'upgrade');
    this.flush(true);
    this.watchLiveness();
  }

  private onProbeFailure(probe: Connection, failure: TransportFailure): void {
    if (probe !== this.probe) return;
    this.probe = null;
    probe.cancelOpenTimer();
    probe.transport.close();
    this.probeFailures++;
    if (failure.code === 'origin_rejected') this.webSocketOriginRefused = true;
    this.life.emit('transportFailed', { transport: probe.name, opened: false, probe: true, failure });
    if (this.conn?.opened) this.scheduleProbe();
  }

  private stopProbe(): void {
    this.cancelProbe();
    this.cancelProbe = noop;
    const probe = this.probe;
    this.probe = null;
    if (probe) {
      probe.cancelOpenTimer();
      probe.transport.close();
    }
  }

  // ---- ending ----------------------------------------------------------------------

  private shutdown(detail: { reason: string; error?: RealtimeError }): void {
    this.attemptSerial++;
    const conn = this.conn;
    this.conn = null;
    conn?.transport.close();
    this.stopProbe();
    this.scheduler.dispose(); // every timer: retries, open timeouts, heartbeats, polls, acks, request timeouts
    this.cancelRetry = noop;
    this.cancelAck = null;
    this.cancelLiveness = noop;
    this.unwatchBrowser();
    this.unwatchBrowser = noop;
    this.waitingForOnline = false;
    const error = detail.error ?? new RealtimeError('closed', 'the client was closed');
    for (const pending of [...this.requests.values()]) {
      this.outbox.remove(pending.entry);
      this.settle(pending, error);
    }
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

  /** Timers still scheduled; zero after `close()`. For tests and diagnostics. */
  get pendingTimers(): number {
    return this.scheduler.pending;
  }
}

function noop(): void {}

function errorFrameFailure(frame: { code: string; message: string; status?: number; retryAfter?: number }): TransportFailure {
  const failure: TransportFailure = { kind: frame.status !== undefined ? 'http' : 'protocol', code: frame.code, message: `${frame.code}: ${frame.message}` };
  if (frame.status !== undefined) failure.status = frame.status;
  if (frame.retryAfter !== undefined) failure.retryAfter = frame.retryAfter;
  return failure;
}

/** Accepts http(s), ws(s) and page-relative URLs; the endpoint is kept as http(s). */
function normaliseUrl(url: string): string {
  if (typeof url !== 'string' || url.length === 0) throw new RealtimeError('invalid_argument', 'url must be a non-empty string');
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let parsed: URL;
  try {
    parsed = base ? new URL(url, base) : new URL(url);
  } catch (cause) {
    throw new RealtimeError('invalid_argument', `invalid url ${JSON.stringify(url)}`, { cause });
  }
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RealtimeError('invalid_argument', `url must use http, https, ws or wss, got ${parsed.protocol}`);
  }
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}
