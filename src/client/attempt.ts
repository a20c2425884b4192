import type { TransportName } from '../protocol/frames';
import type { AttemptWindow } from './attempt-window';
import { canCarry, openConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { AuthCredentials } from './types';

/** Where the steps before an attempt ended: ready to open with `creds`, or why not. */
export type AttemptStep =
  | { kind: 'ready'; creds: AuthCredentials }
  /** Closed, or superseded while it awaited something: nothing more is to be done for it. */
  | { kind: 'stale' }
  | { kind: 'auth_failed'; cause: unknown }
  /** The transport cannot present the credential (canCarry): trying would only be refused. */
  | { kind: 'unusable' }
  /** What had to load first (a transport's chunk) did not. */
  | { kind: 'load_failed'; cause: unknown };

export interface AttemptSteps {
  credentials(): Promise<AuthCredentials>;
  /** True when the attempt no longer counts (closed, another attempt started, one opened). */
  stale(): boolean;
  /** Whether to open a transport that cannot present the credential (the last one: its refusal is the answer). */
  openUnusable(): boolean;
  /** What else must finish first, alongside the transport's code (restoring a persisted session), or null. */
  before?(creds: AuthCredentials): Promise<void> | null;
}

const STALE: AttemptStep = { kind: 'stale' };

/**
 * The steps before any connection attempt (the connector's, and a racer's alongside it): fresh credentials, whether
 * the transport can present them, and what must load first; after every await, whether the attempt still counts.
 */
export async function prepareAttempt(settings: ConnectionSettings, name: TransportName, steps: AttemptSteps): Promise<AttemptStep> {
  let creds: AuthCredentials;
  try {
    creds = await steps.credentials();
  } catch (cause) {
    return steps.stale() ? STALE : { kind: 'auth_failed', cause };
  }
  if (steps.stale()) return STALE;
  if (!canCarry(name, creds) && !steps.openUnusable()) return { kind: 'unusable' };
  // Awaited only when there is something to wait for: a transport whose code is here opens in this same turn.
  const loading = [steps.before?.(creds), settings.mode.prepare(name)].filter((p) => p);
  if (loading.length > 0) {
    try {
      await Promise.all(loading);
    } catch (cause) {
      return steps.stale() ? STALE : { kind: 'load_failed', cause };
    }
    if (steps.stale()) return STALE;
  }
  return { kind: 'ready', creds };
}

/** Opens the attempt (its welcome decides the rest) and counts it in the attempt window. */
export function openAttempt(settings: ConnectionSettings, name: TransportName, creds: AuthCredentials, handlers: ConnectionHandlers, window: AttemptWindow): Connection {
  window.started(settings.scheduler.now());
  return openConnection(settings, name, settings.mode.handshake(creds, false), creds, handlers);
}
