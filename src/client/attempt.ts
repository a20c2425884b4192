import type { TransportName } from '../protocol/frames';
import type { AttemptWindow } from './attempt-window';
import { canCarry, openConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { AuthCredentials } from './types';

/** What an attempt's owner says at each step (the connector, a racer, the upgrade probe). */
export interface AttemptSteps {
  credentials(): Promise<AuthCredentials>;
  /** True when the attempt no longer counts (closed, another attempt started, one opened). */
  stale(): boolean;
  /** The transport cannot present the credential (canCarry): true to open it anyway (the last one: its refusal is
   *  the answer), false to pass it by. */
  unusable(): boolean;
  /** The auth provider threw; without this, the attempt just ends. */
  authFailed?(cause: unknown): void;
  /** What had to load first (a transport's chunk) did not; without this, the attempt just ends. */
  loadFailed?(cause: unknown): void;
  /** What else must finish first, alongside the transport's code (restoring a persisted session), or null. */
  before?(creds: AuthCredentials): Promise<void> | null;
}

/**
 * The steps before any connection attempt: fresh credentials, whether the transport can present them, and what must
 * load first; after every await, whether the attempt still counts. Resolves with the credentials to open with, or
 * null when there is nothing to open (stale, passed by, or failed: said through `steps`).
 */
export async function prepareAttempt(settings: ConnectionSettings, name: TransportName, steps: AttemptSteps): Promise<AuthCredentials | null> {
  let creds: AuthCredentials;
  try {
    creds = await steps.credentials();
  } catch (cause) {
    if (!steps.stale()) steps.authFailed?.(cause);
    return null;
  }
  if (steps.stale() || (!canCarry(name, creds) && !steps.unusable())) return null;
  // Awaited only when there is something to wait for: a transport whose code is here opens in this same turn.
  const loading = [steps.before?.(creds), settings.mode.prepare(name)].filter((p) => p);
  if (loading.length > 0) {
    try {
      await Promise.all(loading);
    } catch (cause) {
      if (!steps.stale()) steps.loadFailed?.(cause);
      return null;
    }
    if (steps.stale()) return null;
  }
  return creds;
}

/** Opens the attempt (its welcome decides the rest) and counts it in the attempt window. */
export function openAttempt(settings: ConnectionSettings, name: TransportName, creds: AuthCredentials, handlers: ConnectionHandlers, window: AttemptWindow): Connection {
  window.started(settings.scheduler.now());
  return openConnection(settings, name, settings.mode.handshake(creds, false), creds, handlers);
}
