import type { TransportName, WelcomeFrame } from '../protocol/frames';
import type { Connection, ConnectionSettings } from './connection';
import type { Connector } from './connector';
import type { TypedEmitter } from './emitter';
import type { LifecycleEvents } from './lifecycle';
import type { ClientSession } from './session';

/**
 * While the session runs on a fallback, tries the first transport (WebSocket) now and then; when one opens for the
 * same session, the session moves over to it. This part decides whether a probe is worth it and loads the probe
 * itself (upgrade-probe-runner.ts) only then: apps whose WebSocket works never download it.
 */
export interface UpgradeProbe {
  /** Plans the next probe, if the session is on a fallback and the mode can move sessions. */
  schedule(): void;
  stop(): void;
  /** The server refused this page's origin over WebSocket (but not over HTTP): probing again cannot succeed. */
  originRefused(): void;
}

export interface UpgradeProbeSettings {
  /** First delay before a probe, in ms; 0 disables probing. */
  firstDelayMs: number;
  connector: Connector;
  session: ClientSession;
  life: TypedEmitter<LifecycleEvents>;
  /** The transport the session is on now. */
  current(): TransportName | null;
  /** The probe opened: the session moves to it. */
  moved(probe: Connection, welcome: WelcomeFrame): void;
}

/** What the loader and the runner share: whether probing can succeed at all. */
export interface ProbeGate {
  worthProbing(): boolean;
  refuse(): void;
}

export function createUpgradeProbe(connection: ConnectionSettings, settings: UpgradeProbeSettings): UpgradeProbe {
  const { scheduler, mode, transports } = connection;
  let refused = false;
  const gate: ProbeGate = {
    worthProbing: () =>
      mode.probes && settings.firstDelayMs > 0 && transports[0] === 'websocket' && settings.current() !== null && settings.current() !== 'websocket' && !refused,
    refuse: () => void (refused = true),
  };
  let runner: ReturnType<typeof import('./upgrade-probe-runner').createProbeRunner> | undefined;
  /** Bumped by stop(): a load that finishes after it schedules nothing. */
  let generation = 0;

  return {
    schedule() {
      if (runner) return runner.schedule();
      if (!gate.worthProbing()) return;
      const wanted = ++generation;
      const askedAt = scheduler.now();
      import('./upgrade-probe-runner').then(
        (m) => {
          if (wanted !== generation) return;
          runner ??= m.createProbeRunner(connection, settings, gate);
          runner.schedule(scheduler.now() - askedAt);
        },
        (error: unknown) => connection.logger('warn', 'could not load the upgrade probe; staying on the fallback', { error }),
      );
    },
    stop() {
      generation++;
      runner?.stop();
    },
    originRefused: gate.refuse,
  };
}
