import type { ServerFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import { prepareAttempt } from './attempt';
import { closeConnection, openConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { ProbeGate, ProbeRunner, UpgradeProbeSettings } from './upgrade-probe-types';

/**
 * The probe itself, loaded on first need (upgrade-probe.ts): tries WebSocket now and then, backing off after each
 * failed try; when one opens with a probe welcome for the same session, the session moves over to it.
 */
export function createProbeRunner(connection: ConnectionSettings, settings: UpgradeProbeSettings, gate: ProbeGate): ProbeRunner {
  // State in closures rather than fields: the minifier shortens these names, it cannot shorten properties.
  const { scheduler } = connection;
  const { firstDelayMs: base, connector, session, life } = settings;
  let probe: Connection | null = null;
  let failures = 0;
  let cancelTimer = (): void => {};
  /** Once the session moved to it, the probe is the connector's active connection and reports there. */
  const handlers: ConnectionHandlers = {
    frame: (conn, frame) => (conn === probe ? onFrame(conn, frame) : connector.handlers.frame(conn, frame)),
    failure: (conn, failure) => (conn === probe ? fail(conn, failure) : connector.handlers.failure(conn, failure)),
  };

  /** `elapsedMs`: time already spent waiting for this module to load, taken off the first delay. */
  function schedule(elapsedMs = 0): void {
    stop();
    if (!gate.worthProbing()) return;
    const delay = scheduler.backoff(failures, { initialMs: base, maxMs: base * 16, factor: 2, jitter: 0.5 });
    cancelTimer = scheduler.schedule(() => void start(), Math.max(0, delay - elapsedMs));
  }

  function stop(): void {
    cancelTimer();
    cancelTimer = () => {};
    const current = probe;
    probe = null;
    if (current) closeConnection(current);
  }

  async function start(): Promise<void> {
    const attempt = connector.attempt;
    const creds = await prepareAttempt(connection, 'websocket', {
      credentials: connector.credentials,
      stale: () => attempt !== connector.attempt || !connector.active?.opened || probe !== null,
      unusable: () => false, // it would be refused: the session stays where it is
      authFailed: () => schedule(),
    });
    // Assigned before the transport can report anything, so its callbacks already see it as the probe.
    if (creds) probe = openConnection(connection, 'websocket', connection.mode.handshake(creds, true), creds, handlers);
  }

  function onFrame(conn: Connection, frame: ServerFrame): void {
    if (frame.t !== 'welcome' || !frame.probe || !connector.active || frame.sid !== session.id) {
      return fail(conn, { kind: 'protocol', message: `probe got "${frame.t}" instead of a probe welcome` });
    }
    // Move the session: the server replays after `last`; the old transport is ignored from here on.
    conn.cancelOpenTimer();
    conn.opened = true;
    conn.transport.send([{ t: 'upgrade', last: session.lastDelivered }]);
    probe = null;
    failures = 0;
    settings.moved(conn, frame);
  }

  function fail(conn: Connection, failure: TransportFailure): void {
    probe = null;
    closeConnection(conn);
    failures++;
    if (failure.code === 'origin_rejected') gate.refuse();
    life.emit('transportFailed', { transport: conn.name, opened: false, probe: true, failure });
    if (connector.active?.opened) schedule();
  }

  return { schedule, stop, originRefused: gate.refuse };
}
