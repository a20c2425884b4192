import type { TransportName } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import type { Connection } from './connection';
import type { RealtimeError } from './errors';
import { classifyFailure, type FailureDecision } from './failure-policy';
import type { FallbackWalk } from './fallback-walk';
import type { ClientMode } from './mode/mode';

/** What follows a failed active connection: stop for good, or the next attempt and when. */
export type RetryPlan =
  | { kind: 'stop'; error: RealtimeError }
  | {
      kind: 'retry';
      delayMs: number;
      reason: string;
      /** The walk only moves on from this transport (a `fallback`, not a retry). */
      from?: TransportName;
      /** Ask the auth provider for a fresh credential first (it is asked once per refusal). */
      refreshAuth?: boolean;
      /** A step of the fallback walk: the failure counts among the walk's (`transport_failed`). */
      walked?: boolean;
      /** Every transport failed: said once per walk. */
      round?: boolean;
    };

/**
 * What a failure means, from its status and the mode: `canRefreshAuth` when an auth provider was not asked again since
 * the last refusal. A WebSocket refused for its origin moves on when an HTTP transport comes next (failure-policy.ts).
 */
export function judgeFailure(conn: Connection, failure: TransportFailure, walk: FallbackWalk, transports: readonly TransportName[], mode: ClientMode, canRefreshAuth: boolean): FailureDecision {
  const httpTransportNext = conn.name === 'websocket' && !conn.opened && walk.index < transports.length - 1;
  const decision = classifyFailure(failure, canRefreshAuth, httpTransportNext);
  // A plain server that refuses a transport it has no route for does not offer it: the walk moves on.
  if (mode.refusalMeansUnavailable && !conn.opened && decision.action === 'stop' && decision.error.code === 'rejected') return { action: 'retry' };
  return decision;
}

/**
 * The next attempt after `conn` failed, by the failure policy's `decision` and then the fallback walk (which it moves
 * on). `immediate`: the connection is known dead (silent while the page was hidden): reconnect at once, same transport.
 */
export function planRetry(decision: FailureDecision, conn: Connection, failure: TransportFailure, immediate: boolean, walk: FallbackWalk, mode: ClientMode): RetryPlan {
  switch (decision.action) {
    case 'stop':
      return { kind: 'stop', error: decision.error };
    case 'refresh_auth':
      return { kind: 'retry', delayMs: 0, reason: 'refreshing the credential', refreshAuth: true };
    case 'wait':
      return { kind: 'retry', delayMs: decision.delayMs, reason: `server asked to retry after ${decision.delayMs} ms` };
  }
  if (immediate) {
    if (conn.opened) walk.reason = 'connect';
    return { kind: 'retry', delayMs: 0, reason: failure.message };
  }
  const step = failure.kind === 'buffered' ? walk.buffered() : walk.failed(conn.opened, conn.silent);
  switch (step.kind) {
    case 'reopen':
      return { kind: 'retry', delayMs: mode.reopenDelayMs(conn.name) ?? step.delayMs, reason: failure.message, walked: true };
    case 'retry':
      return { kind: 'retry', delayMs: step.delayMs, reason: failure.message, walked: true };
    case 'next':
      return { kind: 'retry', delayMs: 0, reason: `${conn.name} failed: ${failure.message}`, from: conn.name, walked: true };
    case 'round':
      return { kind: 'retry', delayMs: step.delayMs, reason: `every transport failed; last: ${failure.message}`, walked: true, round: true };
  }
}
