import type { ClientFrame, MessageFrame, OutboundFrame, ReplyFrame, TransportName, WelcomeFrame } from '../protocol/frames';
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
export interface SessionCore {
  readonly scheduler: BackoffScheduler;
  readonly session: ClientSession;
  readonly outbox: Outbox;
  readonly mode: ClientMode;
  readonly state: ClientState;
  readonly transport: TransportName | null;
  /** Timers still scheduled; zero after `shutdown()`. */
  readonly pendingTimers: number;
  /** Starts connecting (again), from the remembered transport or the first. */
  start(): void;
  /** Transmits what the owner takes from the outbox (`outgoing`), on the active open connection. */
  flush(all: boolean): void;
  /** Sends `frames` on the active open connection as they are; false when there is none. */
  send(frames: readonly ClientFrame[]): boolean;
  /** Stops everything (every timer, socket and page listener) and says why (`close`, and `error` when given). */
  shutdown(detail: { reason: string; error?: RealtimeError }): void;
}

export function createSessionCore(settings: SessionCoreSettings, owner: SessionOwner): SessionCore {
  // State in closures rather than fields: the minifier shortens these names, it cannot shorten properties.
  const { options: opts, endpoint, life } = settings;
  const scheduler = new BackoffScheduler(opts.backoff, opts.clock, opts.random);
  const outbox = new Outbox({ maxCount: opts.maxQueuedMessages, maxBytes: opts.maxQueuedBytes }, settings.changed);
  const session = createClientSession(scheduler, (id) => send([{ t: 'ack', id }]), settings.changed);
  if (settings.from) session.restore(settings.from);
  const mode = settings.mode({ endpoint, endpoints: opts.endpoints, session, heartbeatTolerance: opts.heartbeatTolerance });
  const connection: ConnectionSettings = {
    mode,
    // Each falls back to the platform's where it is undefined (transports/environment.ts).
    environment: { WebSocket: opts.WebSocket, EventSource: opts.EventSource, fetch: opts.fetch },
    scheduler,
    transports: opts.transports,
    openTimeoutMs: opts.openTimeoutMs,
    withCredentials: opts.withCredentials,
    logger: opts.logger,
  };
  let state: ClientState = 'idle';
  let transport: TransportName | null = null;

  const connector: Connector = createConnector(connection, opts, endpoint, life, {
    get state() {
      return state;
    },
    setState,
    welcomed,
    opened,
    received,
    lost,
    stop: (error) => owner.stopped(error),
    prepare: (creds) => owner.prepare?.(creds) ?? null,
  });
  const probe: UpgradeProbe = createUpgradeProbe(connection, {
    firstDelayMs: opts.upgradeProbeMs,
    connector,
    session,
    life,
    current: () => transport,
    moved: upgraded,
  });

  function flush(all: boolean): void {
    const conn = connector.active;
    if (!conn?.opened) return;
    const frames = owner.outgoing(all);
    if (frames.length === 0) return;
    if (opts.debug) opts.logger('debug', `${conn.name} → ${frames.map((f) => f.t).join(' ')}`);
    conn.transport.send(frames);
  }

  function send(frames: readonly ClientFrame[]): boolean {
    const conn = connector.active;
    if (!conn?.opened) return false;
    conn.transport.send(frames);
    return true;
  }

  /** Takes the session from a welcome; what the server accepted of the outbox goes. */
  function welcomed(welcome: WelcomeFrame): void {
    owner.welcomed(welcome, session.adopt(welcome));
    ack(welcome.ack);
  }

  function opened(conn: Connection, welcome: WelcomeFrame, reason: TransportReason): void {
    // The transport's own name: a shared tab's link names the transport the leading tab is on.
    const name = conn.transport.name;
    switchTransport(name, reason);
    setState('open');
    life.emit('open', { transport: name, sessionId: welcome.sid, resumed: welcome.resumed });
    owner.opened?.(name, welcome);
    if (state !== 'open') return; // a listener closed it: nothing may be scheduled after that
    flush(true);
    connector.watchLiveness();
    probe.schedule();
  }

  function received(conn: Connection, frame: SessionFrame): void {
    switch (frame.t) {
      case 'msg':
      case 'reply':
        return deliver(conn, frame);
      case 'ack':
        return ack(frame.n);
      case 'close':
        if (frame.code === 'session_ended') session.markEnded();
        return connector.fail(conn, { kind: 'network', message: `server closed the connection (${frame.code})` });
    }
  }

  function deliver(conn: Connection, frame: MessageFrame | ReplyFrame): void {
    const place = session.place(frame);
    if (place === 'seen') return; // replay overlap: already handed over
    if (place === 'gap') {
      return connector.fail(conn, { kind: 'protocol', message: `frame ${frame.id} arrived after ${session.lastDelivered}: resuming to fill the gap` });
    }
    owner.delivered(frame);
    if (connector.active === conn) session.delivered();
  }

  /** The server accepted every client frame up to `n`, in the session's numbering. */
  function ack(n: number): void {
    outbox.ack(n - (owner.seqBase ?? 0));
    owner.acked?.(n);
  }

  function lost(conn: Connection, failure: TransportFailure): void {
    session.stopAckTimer();
    probe.stop();
    if (conn.name === 'websocket' && failure.code === 'origin_rejected') probe.originRefused();
    if (conn.opened) owner.dropped?.(failure); // an attempt that never opened changes nothing for the owner
  }

  /** The upgrade probe opened: the session continues on it. */
  function upgraded(conn: Connection, welcome: WelcomeFrame): void {
    connector.replaceWith(conn);
    session.moved(welcome);
    ack(welcome.ack);
    switchTransport(conn.name, 'upgrade');
    flush(true);
    connector.watchLiveness();
    owner.moved?.(conn.name, welcome);
  }

  function switchTransport(name: TransportName, reason: TransportReason): void {
    const previous = transport;
    transport = name;
    connector.remember(name);
    if (previous !== name) life.emit('transport', { transport: name, previous, reason });
  }

  function setState(next: ClientState): void {
    const previous = state;
    if (previous === next) return;
    state = next;
    life.emit('state', { state: next, previous });
  }

  return {
    scheduler,
    session,
    outbox,
    mode,
    get state() {
      return state;
    },
    get transport() {
      return transport;
    },
    get pendingTimers() {
      return scheduler.pending;
    },
    start: () => connector.start(),
    flush,
    send,
    shutdown(detail) {
      if (state === 'closed') return;
      connector.stop();
      probe.stop();
      scheduler.dispose(); // every timer: retries, open timeouts, heartbeats, polls, acks, request timeouts
      session.stopAckTimer();
      owner.closing?.(detail);
      transport = null;
      setState('closed');
      if (detail.error) life.emit('error', detail.error);
      life.emit('close', detail);
    },
  };
}
