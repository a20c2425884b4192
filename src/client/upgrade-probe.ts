import type { ServerFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import { closeConnection, openConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { Connector } from './connector';
import type { TypedEmitter } from './emitter';
import type { LifecycleEvents } from './lifecycle';
import type { AuthCredentials } from './options';
import type { ClientSession } from './session';

/**
 * While the session runs on a fallback, tries the first transport (WebSocket) now and then, backing off after each
 * failed try; when one opens with a probe welcome for the same session, the session moves over to it.
 */
export class UpgradeProbe {
  private probe: Connection | null = null;
  private failures = 0;
  /** The server refused this page's origin over WebSocket (but not over HTTP): probing again cannot succeed. */
  originRefused = false;
  private cancelTimer: () => void = () => {};
  /** Once the session moved to it, the probe is the connector's active connection and reports there. */
  private readonly handlers: ConnectionHandlers = {
    frame: (conn, frame) => (conn === this.probe ? this.frame(conn, frame) : this.connector.handlers.frame(conn, frame)),
    failure: (conn, failure) => (conn === this.probe ? this.fail(conn, failure) : this.connector.handlers.failure(conn, failure)),
  };

  constructor(
    private readonly settings: ConnectionSettings,
    /** First delay before a probe, in ms; 0 disables probing. */
    private readonly firstDelayMs: number,
    private readonly connector: Connector,
    private readonly session: ClientSession,
    private readonly life: TypedEmitter<LifecycleEvents>,
    /** The transport the session is on now. */
    private readonly current: () => TransportName | null,
    /** The probe opened: the session moves to it. */
    private readonly moved: (probe: Connection, welcome: WelcomeFrame) => void,
  ) {}

  /** Plans the next probe, if the session is on a fallback and the mode can move sessions. */
  schedule(): void {
    this.stop();
    const best = this.settings.transports[0];
    const base = this.firstDelayMs;
    if (!this.settings.mode.probes || base === 0 || best !== 'websocket' || this.current() === best || this.originRefused) return;
    const delay = this.settings.scheduler.backoff(this.failures, { initialMs: base, maxMs: base * 16, factor: 2, jitter: 0.5 });
    this.cancelTimer = this.settings.scheduler.schedule(() => void this.start(), delay);
  }

  stop(): void {
    this.cancelTimer();
    this.cancelTimer = () => {};
    const probe = this.probe;
    this.probe = null;
    if (probe) closeConnection(probe);
  }

  private async start(): Promise<void> {
    const attempt = this.connector.attempt;
    let creds: AuthCredentials;
    try {
      creds = await this.connector.credentials();
    } catch {
      return this.schedule();
    }
    if (attempt !== this.connector.attempt || !this.connector.active?.opened || this.probe) return;
    // Assigned before the transport can report anything, so its callbacks already see it as the probe.
    this.probe = openConnection(this.settings, 'websocket', this.settings.mode.query(creds, true), creds, this.handlers);
  }

  private frame(probe: Connection, frame: ServerFrame): void {
    if (probe !== this.probe) return;
    if (frame.t !== 'welcome' || !frame.probe || !this.connector.active || frame.sid !== this.session.id) {
      return this.fail(probe, { kind: 'protocol', message: `probe got "${frame.t}" instead of a probe welcome` });
    }
    // Move the session: the server replays after `last`; the old transport is ignored from here on.
    probe.cancelOpenTimer();
    probe.opened = true;
    probe.transport.send([{ t: 'upgrade', last: this.session.lastDelivered }]);
    this.probe = null;
    this.failures = 0;
    this.moved(probe, frame);
  }

  private fail(probe: Connection, failure: TransportFailure): void {
    if (probe !== this.probe) return;
    this.probe = null;
    closeConnection(probe);
    this.failures++;
    if (failure.code === 'origin_rejected') this.originRefused = true;
    this.life.emit('transportFailed', { transport: probe.name, opened: false, probe: true, failure });
    if (this.connector.active?.opened) this.schedule();
  }
}
