import type { TransportFailure } from '../transports/transport';
import { RealtimeError } from './errors';

/** What to do about a failed connection, decided from its HTTP status alone (the same for every transport). */
export type FailureDecision =
  /** 401/403 and a fresh credential may help: ask the auth provider once more and retry now. */
  | { action: 'refresh_auth' }
  /** Retrying cannot help. */
  | { action: 'stop'; error: RealtimeError }
  /** 429/503 with Retry-After: wait exactly that long, then try the same transport. */
  | { action: 'wait'; delayMs: number }
  /** Network errors, 5xx, timeouts, 408/410: follow the fallback and backoff rules. */
  | { action: 'retry' };

/**
 * `canRefreshAuth`: the auth provider has not been asked again since the last refusal. `httpTransportNext`: the
 * failed attempt was a WebSocket that never opened, and an HTTP transport comes after it in the walk.
 */
export function classifyFailure(failure: TransportFailure, canRefreshAuth: boolean, httpTransportNext = false): FailureDecision {
  const status = failure.status;
  if (failure.code === 'origin_rejected') {
    // Chromium sends no `Sec-Fetch-Site` on WebSocket handshakes (156 checked; Firefox and WebKit do), only on
    // fetches, so there a same-origin page behind a proxy that hides its origin (TLS terminated, no trustProxy) is
    // refused over WebSocket and accepted over SSE and polling: move on. A refusal there is final.
    if (httpTransportNext) return { action: 'retry' };
    // Not a credential problem: a fresh token cannot help, and the message must say what can.
    return { action: 'stop', error: new RealtimeError('origin_rejected', `the server refused this page's origin (${failure.message})`, { status: status ?? 403, cause: failure }) };
  }
  if (status === undefined) return { action: 'retry' };
  if (status === 401 || status === 403) {
    if (canRefreshAuth) return { action: 'refresh_auth' };
    return { action: 'stop', error: new RealtimeError('unauthorized', `server refused the credential (HTTP ${status}): ${failure.message}`, { status, cause: failure }) };
  }
  if ((status === 429 || status === 503) && failure.retryAfter !== undefined) {
    return { action: 'wait', delayMs: failure.retryAfter * 1000 };
  }
  // 408 (request timeout), 410 (session/connection gone: resume) and 429 without Retry-After are worth retrying.
  if (status >= 400 && status < 500 && status !== 408 && status !== 410 && status !== 429) {
    return { action: 'stop', error: new RealtimeError('rejected', `server rejected the connection (HTTP ${status}): ${failure.message}`, { status, cause: failure }) };
  }
  return { action: 'retry' };
}

/** An `error` frame as a failure: with a status it stands for an HTTP answer, without one it is a protocol error. */
export function errorFrameFailure(frame: { code: string; message: string; status?: number; retryAfter?: number }): TransportFailure {
  const failure: TransportFailure = { kind: frame.status !== undefined ? 'http' : 'protocol', code: frame.code, message: `${frame.code}: ${frame.message}` };
  if (frame.status !== undefined) failure.status = frame.status;
  if (frame.retryAfter !== undefined) failure.retryAfter = frame.retryAfter;
  return failure;
}
