import type { TransportName, WelcomeFrame } from '../protocol/frames';
import type { Connection } from './connection';
import type { Connector } from './connector-types';
import type { TypedEmitter } from './emitter';
import type { LifecycleEvents } from './lifecycle';
import type { ClientSession } from './session';

// What the upgrade probe's loader (upgrade-probe.ts) and its lazily loaded runner (upgrade-probe-runner.ts) share: in
// a file of their own, so that neither imports the other's types (the loader imports the runner, lazily).

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

/** The runner (upgrade-probe-runner.ts): `elapsedMs` is time already spent loading it, taken off the first delay. */
export interface ProbeRunner extends UpgradeProbe {
  schedule(elapsedMs?: number): void;
}
