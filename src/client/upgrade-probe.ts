import type { ConnectionSettings } from './connection';
import type { ProbeGate, ProbeRunner, UpgradeProbe, UpgradeProbeSettings } from './upgrade-probe-types';

export type { UpgradeProbe, UpgradeProbeSettings } from './upgrade-probe-types';

/**
 * Decides whether an upgrade probe is worth it and loads the probe itself (upgrade-probe-runner.ts) only then: apps
 * whose WebSocket works never download it.
 */
export function createUpgradeProbe(connection: ConnectionSettings, settings: UpgradeProbeSettings): UpgradeProbe {
  const { scheduler, mode, transports } = connection;
  let refused = false;
  const gate: ProbeGate = {
    worthProbing: () =>
      mode.probes && settings.firstDelayMs > 0 && transports[0] === 'websocket' && settings.current() !== null && settings.current() !== 'websocket' && !refused,
    refuse: () => void (refused = true),
  };
  let runner: ProbeRunner | undefined;
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
