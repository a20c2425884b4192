import type { ClientFrame, MessageFrame, OutboundFrame, ReplyFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import type { TransportEnvironment } from '../transports/environment';
import type { TransportFailure } from '../transports/transport';
import type { Connection, ConnectionSettings } from './connection';
import { createConnector } from './connector';
import type { Connector } from './connector-types';
import type { SessionFrame } from './frame-check';
import type { TypedEmitter } from './emitter';
import type { RealtimeError } from './errors';
import type { ClientState, LifecycleEvents, TransportReason } from './lifecycle';
import type { ClientMode, ModeSettings } from './mode/mode';
import type { ResolvedOptions } from './options';
import { Outbox } from './outbox';
import { BackoffScheduler } from './scheduler';
import { createClientSession, type ClientSession, type LostSession, type SessionPoint } from './session';
import type { AuthCredentials } from './types';
import { createUpgradeProbe, type UpgradeProbe } from './upgrade-probe';

/**
 * What a session core reports to its owner (the client, or the leading tab's connection). Every call comes after the
 * core has done its own part; the core's lifecycle events (state, transport, open, close) are emitted by the core.
 */
export interface SessionOwner {
  /** The session's client frame numbering before the outbox's own (a leading tab continues another tab's); 0 else. */
  readonly seqBase?: number;
  /** A welcome took the session; `lost`: what a refused resume lost (null when it resumed, or on a first welcome). */
  welcomed(welcome: WelcomeFrame, lost: LostSession | null): void;
  /** The connection opened (again) on `transport`, after `welcomed`. */
  opened?(transport: TransportName, welcome: WelcomeFrame): void;
  /** The next server frame of the session, once and in order. */
  delivered(frame: MessageFrame | ReplyFrame): void;
  /** The server accepted every client frame up to `n` (the session's numbering); the outbox has let them go. */
  acked?(n: number): void;
  /** What to send now of the outbox (`all`: everything unacknowledged, right after a (re)open; else only new ones). */
  outgoing(all: boolean): OutboundFrame[];
  /** The open connection dropped; the core reconnects by itself. */
  dropped?(failure: TransportFailure): void;
  /** The session moved to a better transport (the upgrade probe), whose probe `welcome` names the session. */
  moved?(transport: TransportName, welcome: WelcomeFrame): void;
  /** Retrying cannot help (refused origin or credential, a 4xx): the owner closes the core, with or without `error`. */
  stopped(error: RealtimeError): void;
  /** The core is closing (its timers are released already): settle what waits on it. */
  closing?(detail: { reason: string; error?: RealtimeError }): void;
  /** What must finish before a handshake with `creds` (restoring a persisted session), or null when nothing must. */
  prepare?(creds: AuthCredentials): Promise<void> | null;
}

/** What a session core is made from: the resolved options, and the parts its owner chooses. */
export interface SessionCoreSettings {
  endpoint: string;
  options: ResolvedOptions;
  life: TypedEmitter<LifecycleEvents>;
  /** Makes the mode (what the server speaks) over the core's session. */
  mode(settings: ModeSettings): ClientMode;
  /** Where another tab left the session (the leading tab resumes it), or null: a session of its own. */
  from?: SessionPoint | null;
  /** Called whenever the session's resume point or the outbox changes (to persist them). */
  changed?: () => void;
}

/**
 * One session's connection life, whoever owns it: the connector (attempts, racing, fallback, retries, liveness), the
 * upgrade probe, the session (ordering, duplicates, acknowledgements of what arrived), the outbox (acknowledged by the
 * server), the state and the shutdown. Its owner says what the frames mean (SessionOwner): the client hands them to the
 * app, the leading tab to every tab.
 */
export class SessionCore {
  readonly scheduler: BackoffScheduler;
  readonly session: ClientSession;
  readonly outbox: Outbox;
  readonly mode: ClientMode;
  private readonly connector: Connector;
  private readonly probe: UpgradeProbe;
  private readonly life: TypedEmitter<LifecycleEvents>;
  private readonly debug: boolean;
  private readonly log: ResolvedOptions['logger'];
  private _state: ClientState = 'idle';
  private _transport: TransportName | null = null;

  constructor(settings: SessionCoreSettings, private readonly owner: SessionOwner) {
    const { options: opts, endpoint, life } = settings;
    this.life = life;
    this.debug = opts.debug;
    this.log = opts.logger;
    this.scheduler = new BackoffScheduler(opts.backoff, opts.clock, opts.random);
    this.outbox = new Outbox({ maxCount: opts.maxQueuedMessages, maxBytes: opts.maxQueuedBytes }, settings.changed);
    this.session = createClientSession(this.scheduler, (id) => this.send([{ t: 'ack', id }]), settings.changed);
    if (settings.from) this.session.restore(settings.from);
    this.mode = settings.mode({ endpoint, endpoints: opts.endpoints, session: this.session, heartbeatTolerance: opts.heartbeatTolerance });
    const environment: TransportEnvironment = {};
    if (opts.WebSocket) environment.WebSocket = opts.WebSocket;
    if (opts.EventSource) environment.EventSource = opts.EventSource;
    if (opts.fetch) environment.fetch = opts.fetch;
    const connection: ConnectionSettings = {
      mode: this.mode,
      environment,
      scheduler: this.scheduler,
      transports: opts.transports,
      openTimeoutMs: opts.openTimeoutMs,
      withCredentials: opts.withCredentials,
      logger: opts.logger,
    };
    const state = (): ClientState => this._state;
    this.connector = createConnector(connection, opts, endpoint, life, {
      get state() {
        return state();
      },
      setState: (s) => this.setState(s),
      welcomed: (welcome) => this.welcomed(welcome),
      opened: (conn, welcome, reason) => this.opened(conn, welcome, reason),
      received: (conn, frame) => this.received(conn, frame),
      lost: (conn, failure) => this.lost(conn, failure),
      stop: (error) => owner.stopped(error),
      prepare: (creds) => owner.prepare?.(creds) ?? null,
    });
    this.probe = createUpgradeProbe(connection, {
      firstDelayMs: opts.upgradeProbeMs,
      connector: this.connector,
      session: this.session,
      life,
      current: () => this._transport,
      moved: (probe, welcome) => this.upgraded(probe, welcome),
    });
  }

  get state(): ClientState {
    return this._state;
  }

  get transport(): TransportName | null {
    return this._transport;
  }

  /** Timers still scheduled; zero after `shutdown()`. */
  get pendingTimers(): number {
    return this.scheduler.pending;
  }

  /** Starts connecting (again), from the remembered transport or the first. */
  start(): void {
    this.connector.start();
  }

  /** Transmits what the owner takes from the outbox (`outgoing`), on the active open connection. */
  flush(all: boolean): void {
    const conn = this.connector.active;
    if (!conn?.opened) return;
    const frames = this.owner.outgoing(all);
    if (frames.length === 0) return;
    if (this.debug) this.log('debug', `${conn.name} → ${frames.map((f) => f.t).join(' ')}`);
    conn.transport.send(frames);
  }

  /** Sends `frames` on the active open connection as they are; false when there is none. */
  send(frames: readonly ClientFrame[]): boolean {
    const conn = this.connector.active;
    if (!conn?.opened) return false;
    conn.transport.send(frames);
    return true;
  }

  /** Stops everything (every timer, socket and page listener) and says why (`close`, and `error` when given). */
  shutdown(detail: { reason: string; error?: RealtimeError }): void {
    if (this._state === 'closed') return;
    this.connector.stop();
    this.probe.stop();
    this.scheduler.dispose(); // every timer: retries, open timeouts, heartbeats, polls, acks, request timeouts
    this.session.stopAckTimer();
    this.owner.closing?.(detail);
    this._transport = null;
    this.setState('closed');
    if (detail.error) this.life.emit('error', detail.error);
    this.life.emit('close', detail);
  }

  /** Takes the session from a welcome; what the server accepted of the outbox goes. */
  private welcomed(welcome: WelcomeFrame): void {
    this.owner.welcomed(welcome, this.session.adopt(welcome));
    this.ack(welcome.ack);
  }

  private opened(conn: Connection, welcome: WelcomeFrame, reason: TransportReason): void {
    // The transport's own name: a shared tab's link names the transport the leading tab is on.
    const name = conn.transport.name;
    this.switchTransport(name, reason);
    this.setState('open');
    this.life.emit('open', { transport: name, sessionId: welcome.sid, resumed: welcome.resumed });
    this.owner.opened?.(name, welcome);
    if (this._state !== 'open') return; // a listener closed it: nothing may be scheduled after that
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
        return this.ack(frame.n);
      case 'close':
        if (frame.code === 'session_ended') this.session.markEnded();
        return this.connector.fail(conn, { kind: 'network', message: `server closed the connection (${frame.code})` });
    }
  }

  private deliver(conn: Connection, frame: MessageFrame | ReplyFrame): void {
    const place = this.session.place(frame);
    if (place === 'seen') return; // replay overlap: already handed over
    if (place === 'gap') {
      return this.connector.fail(conn, { kind: 'protocol', message: `frame ${frame.id} arrived after ${this.session.lastDelivered}: resuming to fill the gap` });
    }
    this.owner.delivered(frame);
    if (this.connector.active === conn) this.session.delivered();
  }

  /** The server accepted every client frame up to `n`, in the session's numbering. */
  private ack(n: number): void {
    this.outbox.ack(n - (this.owner.seqBase ?? 0));
    this.owner.acked?.(n);
  }

  private lost(conn: Connection, failure: TransportFailure): void {
    this.session.stopAckTimer();
    this.probe.stop();
    if (conn.name === 'websocket' && failure.code === 'origin_rejected') this.probe.originRefused();
    if (conn.opened) this.owner.dropped?.(failure); // an attempt that never opened changes nothing for the owner
  }

  /** The upgrade probe opened: the session continues on it. */
  private upgraded(probe: Connection, welcome: WelcomeFrame): void {
    this.connector.replaceWith(probe);
    this.session.moved(welcome);
    this.ack(welcome.ack);
    this.switchTransport(probe.name, 'upgrade');
    this.flush(true);
    this.connector.watchLiveness();
    this.owner.moved?.(probe.name, welcome);
  }

  private switchTransport(name: TransportName, reason: TransportReason): void {
    const previous = this._transport;
    this._transport = name;
    this.connector.remember(name);
    if (previous !== name) this.life.emit('transport', { transport: name, previous, reason });
  }

  private setState(state: ClientState): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    this.life.emit('state', { state, previous });
  }
}
