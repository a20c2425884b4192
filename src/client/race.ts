import type { TransportName } from '../protocol/frames';
import type { AttemptWindow } from './attempt-window';
import { openAttempt, prepareAttempt } from './attempt';
import { closeConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { TypedEmitter } from './emitter';
import type { LifecycleEvents } from './lifecycle';
import type { AuthCredentials } from './types';

/** What the race needs of the connector that runs it. */
export interface RaceHost {
  /** The attempt the racers run alongside, or null between attempts. */
  readonly active: Connection | null;
  /** Which attempt is current (see `superseded`). */
  readonly attempt: number;
  /** True when the client closed or another attempt started since `attempt`. */
  superseded(attempt: number): boolean;
  credentials(): Promise<AuthCredentials>;
  /** Transports passed by for now (stale-strikes.ts): the next one races instead, at once. */
  avoided(name: TransportName): boolean;
  /** Loads what judges the racers' welcomes (welcome-hold.ts), before the first racer starts. */
  loadHold(): Promise<void>;
}

/**
 * The attempts started alongside the active one (docs/behaviour.md, "Fallback"): when an attempt has not welcomed within its
 * head start (`raceAfterMs`), the next transport starts too, and so on down the list; the connector keeps the first
 * to welcome (welcome-hold.ts judges whether a welcome may win) and closes the others.
 */
export interface Race {
  /** Attempts racing the active one, oldest first (none once one has opened). */
  readonly racers: readonly Connection[];
  /** An attempt on `transports[index]` just became the active one: its head start begins. */
  begin(index: number): void;
  /** `conn` won (or leads after the active one failed): it is no longer a racer. */
  take(conn: Connection): void;
  /** A racer failed: it drops out; when it was the newest, the next transport need not wait. False: not a racer. */
  failed(conn: Connection): boolean;
  /** Closes every racer and stops the head start. */
  stop(): void;
}

export function createRace(
  settings: ConnectionSettings,
  raceAfterMs: number,
  attemptWindow: AttemptWindow,
  life: TypedEmitter<LifecycleEvents>,
  handlers: ConnectionHandlers,
  host: RaceHost,
): Race {
  const { scheduler, transports } = settings;
  const racers: Connection[] = [];
  /** Index of the transport the next racer would start on. */
  let nextRace = 0;
  let cancelRace: (() => void) | null = null;

  const stopTimer = (): void => {
    cancelRace?.();
    cancelRace = null;
  };

  /** Gives the newest attempt its head start; when it runs out with nothing welcomed, the next transport starts. */
  function arm(): void {
    stopTimer();
    const { active } = host;
    if (raceAfterMs > 0 && active && !active.opened && nextRace < transports.length) {
      cancelRace = scheduler.schedule(() => {
        cancelRace = null;
        void next();
      }, raceAfterMs);
    }
  }

  /** Starts the transport after the newest attempt alongside the ones still waiting for their welcome. */
  async function next(): Promise<void> {
    const attempt = host.attempt;
    while (nextRace < transports.length - 1 && host.avoided(transports[nextRace]!)) nextRace++;
    const index = nextRace;
    const name = transports[index];
    // Stale: a new attempt began, one opened, or another call got here first.
    const stale = (): boolean => host.superseded(attempt) || !host.active || host.active.opened || nextRace !== index;
    if (name === undefined || stale()) return;
    // Trouble with credentials or loading ends it quietly: the walk meets the same on its own, and reports it there.
    const creds = await prepareAttempt(settings, name, {
      credentials: host.credentials,
      stale,
      before: host.loadHold,
      unusable: () => {
        nextRace++;
        arm(); // the walk would only skip it
        return false;
      },
    });
    if (!creds) return;
    nextRace++;
    const from = (racers.at(-1) ?? host.active)!.name;
    life.emit('fallback', { from, to: name, reason: `${from} has not answered in ${raceAfterMs} ms; ${name} starts alongside it` });
    racers.push(openAttempt(settings, name, creds, handlers, attemptWindow));
    arm();
  }

  return {
    racers,
    begin(index) {
      nextRace = index + 1;
      arm();
    },
    take(conn) {
      const i = racers.indexOf(conn);
      if (i >= 0) racers.splice(i, 1);
    },
    failed(conn) {
      const i = racers.indexOf(conn);
      if (i < 0) return false;
      racers.splice(i, 1);
      if (i === racers.length && nextRace < transports.length) {
        stopTimer();
        void next(); // a second call for the same transport finds it started and returns
      }
      return true;
    },
    stop() {
      stopTimer();
      for (const racer of racers.splice(0)) closeConnection(racer);
    },
  };
}
