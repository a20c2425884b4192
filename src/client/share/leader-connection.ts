import type { MessageFrame, OutboundFrame, ReplyFrame, TransportName, WelcomeFrame } from '../../protocol/frames';
import type { TransportEnvironment } from '../../transports/environment';
import type { TransportFailure } from '../../transports/transport';
import type { Connection, ConnectionSettings } from '../connection';
import { createConnector, type Connector, type ConnectorHost, type SessionFrame } from '../connector';
import { TypedEmitter } from '../emitter';
import type { RealtimeError } from '../errors';
import type { ClientState, LifecycleEvents, TransportReason } from '../lifecycle';
import { PROTOCOL_MODE } from '../mode/protocol-mode';
import type { ResolvedOptions } from '../options';
import { Outbox, type OutboxEntry } from '../outbox';
import { BackoffScheduler } from '../scheduler';
import type { ClientSession, LostSession } from '../session';
import { continueSession } from './continued-session';
import { createUpgradeProbe, type UpgradeProbe } from '../upgrade-probe';
import type { LeaderSeed } from './replica';

/** What the leading tab's connection reports to the leader. */
export interface LeaderConnectionHost {
  /** The connection opened (again) on `transport`; `welcome` names the session, `lost` what a refused resume lost. */
  opened(transport: TransportName, welcome: WelcomeFrame, lost: LostSession | null): void;
  /** The next server frame of the session, once and in order. */
  delivered(frame: MessageFrame | ReplyFrame): void;
  /** These entries got their numbers in the session (`seq`) and are about to go out for the first time. */
  numbered(entries: readonly { entry: OutboxEntry; seq: number }[]): void;
  /** The server accepted every client frame up to `n`. */
  acked(n: number): void;
  /** The connection dropped; the client reconnects by itself. */
  dropped(failure: TransportFailure): void;
  /** The session moved to a better transport (the upgrade probe), whose probe `welcome` names the session. */
  moved(transport: TransportName, welcome: WelcomeFrame): void;
  /** Retrying cannot help (refused origin or credential, a 4xx): the connection closed for good. */
  stopped(error: RealtimeError): void;
}

/**
 * The one real connection of a group of sharing tabs, in the leading tab: the client's connector, session, outbox
 * and upgrade probe, wired as `RealtimeClient` wires them, minus the app-facing half (the leader routes frames to
 * tabs instead). It starts from a seed: the session another tab ran and the frames it had not seen acknowledged.
 */
export class LeaderConnection {
  readonly life = new TypedEmitter<LifecycleEvents>();
  private readonly scheduler: BackoffScheduler;
  private readonly session: ClientSession;
  private readonly outbox: Outbox;
  private readonly connector: Connector;
  private readonly probe: UpgradeProbe;
  private _state: ClientState = 'idle';
  private _transport: TransportName | null = null;
  /** Entries numbered already (a resend after a reconnect is not news to the tabs). */
  private readonly sentOnce = new WeakSet<OutboxEntry>();
  /** What the welcome being handled lost (a refused resume), for `opened`. */
  private lostSession: LostSession | null = null;
  /**
   * The session's client frame numbering before this leader: the outbox numbers from 1, the server sees that plus
   * `seqBase` (0 again once the server starts a new session).
   */
  private seqBase: number;
  /** Nothing is sent while held (the leader found numbers it does not know the frames of, and starts over). */
  private held = false;
  /**
   * The highest number the tabs are sure to hear of (see `noted`). A numbered frame waits in `unheard` until then: a
   * leader that dies between sending a frame and its word leaving the tab would leave the next leader guessing.
   */
  private notedUpTo: number;
  private unheard: OutboxEntry[] = [];

  /** `known`: the highest number every tab knew of before this leader (the seed's frames are among them). */
  constructor(url: string, opts: ResolvedOptions, seed: LeaderSeed, known: number, private readonly host: LeaderConnectionHost) {
    this.notedUpTo = known;
    this.scheduler = new BackoffScheduler(opts.backoff, opts.clock, opts.random);
    this.session = continueSession(this.scheduler, (id) => this.sendAck(id), seed.session);
    this.outbox = new Outbox({ maxCount: opts.maxQueuedMessages, maxBytes: opts.maxQueuedBytes });
    this.seqBase = seed.seqBase;
    const mode = PROTOCOL_MODE.create({ endpoint: url, endpoints: {}, session: this.session, heartbeatTolerance: opts.heartbeatTolerance });
    const environment: TransportEnvironment = {};
    if (opts.WebSocket) environment.WebSocket = opts.WebSocket;
    if (opts.EventSource) environment.EventSource = opts.EventSource;
    if (opts.fetch) environment.fetch = opts.fetch;
    const settings: ConnectionSettings = {
      mode,
      environment,
      scheduler: this.scheduler,
      transports: opts.transports,
      openTimeoutMs: opts.openTimeoutMs,
      withCredentials: opts.withCredentials,
      logger: opts.logger,
    };
    const self = this;
    // Not a literal in the call: members the connector's host interface gains later (main adds `prepare`) are here
    // already, and a literal would be refused for naming one it does not have yet.
    const connectorHost: ConnectorHost & { prepare(): null } = {
      get state() {
        return self._state;
      },
      setState: (state) => this.setState(state),
      welcomed: (welcome) => this.welcomed(welcome),
      opened: (conn, welcome, reason) => this.opened(conn, welcome, reason),
      received: (conn, frame) => this.received(conn, frame),
      lost: (conn, failure) => {
        this.session.stopAckTimer();
        this.probe.stop();
        if (conn.opened) this.host.dropped(failure); // an attempt that never opened changes nothing for the tabs
      },
      stop: (error) => {
        this.close(error.message);
        this.host.stopped(error);
      },
      /** Nothing to restore before a handshake: the session is the one another tab left. */
      prepare: () => null,
    };
    this.connector = createConnector(settings, opts, url, this.life, connectorHost);
    this.probe = createUpgradeProbe(settings, {
      firstDelayMs: opts.upgradeProbeMs,
      connector: this.connector,
      session: this.session,
      life: this.life,
      current: () => this._transport,
      moved: (probe, welcome) => {
        this.connector.replaceWith(probe);
        this.session.moved(welcome);
        this.ackUpTo(welcome.ack);
        this._transport = probe.name;
        this.flush(true);
        this.connector.watchLiveness();
        this.host.moved(probe.name, welcome);
      },
    });
  }

  get state(): ClientState {
    return this._state;
  }

  get transport(): TransportName | null {
    return this._transport;
  }

  get maxFrame(): number {
    return this.session.maxFrame;
  }

  /** Timers still scheduled (zero after close). */
  get pendingTimers(): number {
    return this.scheduler.pending;
  }

  connect(): void {
    this.connector.start();
  }

  /** Queues a tab's emit or request for the connection; it goes out at once when the connection is open. */
  add(frame: OutboundFrame): OutboxEntry {
    return this.outbox.add(frame.t, frame.e, frame.d);
  }

  /** Takes back an entry not sent yet (after a new session, its tab sends it again). */
  remove(entry: OutboxEntry): boolean {
    return this.outbox.remove(entry);
  }

  /** Sends what the outbox holds that was not sent yet. */
  send(): void {
    this.flush(false);
  }

  /** Sends nothing more (the leader is about to start over from a fuller replica). */
  hold(): void {
    this.held = true;
  }

  /** The word of every number up to `n` has left this tab (it came back on its own channel): those frames may go. */
  noted(n: number): void {
    if (n <= this.notedUpTo) return;
    this.notedUpTo = n;
    const conn = this.connector.active;
    if (!conn?.opened || this.held) return;
    const ready = this.unheard.filter((e) => this.number(e) <= n && this.outbox.has(e));
    this.unheard = this.unheard.filter((e) => this.number(e) > n);
    if (ready.length > 0) conn.transport.send(ready.map((entry) => ({ ...entry.frame, seq: this.number(entry) })));
  }

  /** An entry's number in the session. */
  private number(entry: OutboxEntry): number {
    return entry.frame.seq + this.seqBase;
  }

  /**
   * Stops the connection without ending the session (the server keeps it for its grace period, and the next leader
   * resumes it). Releases every timer.
   */
  close(reason = 'the tab stopped leading'): void {
    if (this._state === 'closed') return;
    this.connector.stop();
    this.probe.stop();
    this.scheduler.dispose();
    this.session.stopAckTimer();
    this._transport = null;
    this.setState('closed');
    this.life.emit('close', { reason });
  }

  private flush(all: boolean): void {
    const conn = this.connector.active;
    if (!conn?.opened || this.held) return;
    const { frames } = this.outbox.take(this.scheduler.now(), all);
    if (frames.length === 0) return;
    // Told before the frames leave: a tab that leads next must know which numbers went out with what.
    const fresh = all ? frames.filter((e) => !this.sentOnce.has(e)) : frames;
    for (const e of fresh) this.sentOnce.add(e);
    if (fresh.length > 0) this.host.numbered(fresh.map((entry) => ({ entry, seq: this.number(entry) })));
    // In number order, up to the first whose word has not come back yet; the rest wait for it (noted).
    const cut = frames.findIndex((e) => this.number(e) > this.notedUpTo);
    const ready = cut < 0 ? frames : frames.slice(0, cut);
    const waiting = cut < 0 ? [] : frames.slice(cut);
    this.unheard = all ? waiting : this.unheard.concat(waiting);
    if (ready.length > 0) conn.transport.send(ready.map((entry) => ({ ...entry.frame, seq: this.number(entry) })));
  }

  private sendAck(id: number): boolean {
    const conn = this.connector.active;
    if (!conn?.opened) return false;
    conn.transport.send([{ t: 'ack', id }]);
    return true;
  }

  private welcomed(welcome: WelcomeFrame): void {
    this.lostSession = this.session.adopt(welcome);
    if (this.lostSession) {
      this.outbox.renumber();
      this.seqBase = 0;
      this.notedUpTo = 0;
      this.unheard = [];
    }
    this.ackUpTo(welcome.ack);
  }

  private opened(conn: Connection, welcome: WelcomeFrame, _reason: TransportReason): void {
    this._transport = conn.name;
    this.connector.remember(conn.name);
    this.setState('open');
    this.host.opened(conn.name, welcome, this.lostSession);
    this.lostSession = null;
    this.flush(true);
    this.connector.watchLiveness();
    this.probe.schedule();
  }

  private received(conn: Connection, frame: SessionFrame): void {
    switch (frame.t) {
      case 'msg':
      case 'reply': {
        const place = this.session.place(frame);
        if (place === 'seen') return;
        if (place === 'gap') return this.connector.fail(conn, { kind: 'protocol', message: `frame ${frame.id} arrived after ${this.session.lastDelivered}` });
        this.host.delivered(frame);
        if (this.connector.active === conn) this.session.delivered();
        return;
      }
      case 'ack':
        return this.ackUpTo(frame.n);
      case 'close':
        if (frame.code === 'session_ended') this.session.markEnded();
        return this.connector.fail(conn, { kind: 'network', message: `server closed the connection (${frame.code})` });
    }
  }

  /** The server accepted every client frame up to `n` (its numbering). */
  private ackUpTo(n: number): void {
    this.outbox.ack(n - this.seqBase);
    this.host.acked(n);
  }

  private setState(state: ClientState): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    this.life.emit('state', { state, previous });
  }
}
