import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/client/failure-policy';
import { RealtimeError } from '../../src/client/errors';
import type { TransportFailure } from '../../src/transports/transport';

const http = (status: number, retryAfter?: number): TransportFailure =>
  retryAfter === undefined
    ? { kind: 'http', message: `HTTP ${status}`, status }
    : { kind: 'http', message: `HTTP ${status}`, status, retryAfter };

describe('classifyFailure', () => {
  it.each([true, false])('origin_rejected stops at once, auth refresh available: %s (a fresh token cannot help)', (canRefresh) => {
    const failure: TransportFailure = { ...http(403), code: 'origin_rejected', message: 'origin_rejected: origin https://a.example is not allowed' };
    const decision = classifyFailure(failure, canRefresh);
    expect(decision.action).toBe('stop');
    if (decision.action !== 'stop') return;
    expect(decision.error.code).toBe('origin_rejected');
    expect(decision.error.status).toBe(403);
    expect(decision.error.message).toContain('https://a.example');
    expect(decision.error.message).not.toMatch(/credential/);
  });

  it('origin_rejected on a WebSocket with an HTTP transport after it: move on (browsers vouch for same-origin only over HTTP)', () => {
    const failure: TransportFailure = { ...http(403), code: 'origin_rejected' };
    expect(classifyFailure(failure, true, true)).toEqual({ action: 'retry' });
    expect(classifyFailure(failure, true, false).action).toBe('stop');
  });

  it.each([401, 403])('%i with a refresh available: refresh the credential', (status) => {
    expect(classifyFailure(http(status), true)).toEqual({ action: 'refresh_auth' });
  });

  it.each([401, 403])('%i after the refresh: stop with unauthorized', (status) => {
    const failure = http(status);
    const decision = classifyFailure(failure, false);
    expect(decision.action).toBe('stop');
    if (decision.action !== 'stop') return;
    expect(decision.error).toBeInstanceOf(RealtimeError);
    expect(decision.error.code).toBe('unauthorized');
    expect(decision.error.status).toBe(status);
    expect(decision.error.cause).toBe(failure);
    expect(decision.error.message).toContain(`HTTP ${status}`);
  });

  it.each([
    [429, 2, 2000],
    [503, 30, 30_000],
    [429, 0.5, 500],
    [503, 0, 0],
  ])('%i with Retry-After %s s: wait %i ms', (status, retryAfter, delayMs) => {
    expect(classifyFailure(http(status, retryAfter), true)).toEqual({ action: 'wait', delayMs });
  });

  it.each([429, 503])('%i without Retry-After: retry', (status) => {
    expect(classifyFailure(http(status), true)).toEqual({ action: 'retry' });
  });

  it.each([400, 404, 413, 405, 422])('%i: stop with rejected', (status) => {
    const failure = http(status);
    const decision = classifyFailure(failure, true);
    expect(decision.action).toBe('stop');
    if (decision.action !== 'stop') return;
    expect(decision.error.code).toBe('rejected');
    expect(decision.error.status).toBe(status);
    expect(decision.error.cause).toBe(failure);
    expect(decision.error.message).toContain(`HTTP ${status}`);
  });

  it('a Retry-After on a rejecting status does not make it retryable', () => {
    expect(classifyFailure(http(400, 5), true).action).toBe('stop');
  });

  it.each([408, 410])('%i: retry', (status) => {
    expect(classifyFailure(http(status), false)).toEqual({ action: 'retry' });
  });

  it.each([500, 502, 504, 599])('%i: retry', (status) => {
    expect(classifyFailure(http(status), false)).toEqual({ action: 'retry' });
  });

  it('a Retry-After on a plain 500 means retry, not wait', () => {
    expect(classifyFailure(http(500, 3), true)).toEqual({ action: 'retry' });
  });

  it.each(['network', 'protocol', 'content_type'] as const)('no status (%s failure): retry', (kind) => {
    expect(classifyFailure({ kind, message: 'dropped' }, false)).toEqual({ action: 'retry' });
  });
});
