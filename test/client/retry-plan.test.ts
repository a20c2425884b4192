import { describe, expect, it } from 'vitest';
import type { TransportName } from '../../src/protocol/frames';
import type { Transport, TransportFailure } from '../../src/transports/transport';
import type { Connection } from '../../src/client/connection';
import { FallbackWalk } from '../../src/client/fallback-walk';
import type { ClientMode } from '../../src/client/mode/mode';
import { judgeFailure, planRetry } from '../../src/client/retry-plan';

const TRANSPORTS: TransportName[] = ['websocket', 'sse', 'polling'];
const conn = (name: TransportName, opened: boolean, silent = false): Connection => ({
  name,
  opened,
  silent,
  cancelOpenTimer: () => {},
  transport: { name } as Transport,
});
const mode = (over: Partial<ClientMode> = {}): ClientMode => ({ refusalMeansUnavailable: false, reopenDelayMs: () => undefined, ...over }) as ClientMode;
/** Backoff of 100 × 2^attempt, no jitter: the delays say which step it was. */
const walk = (): FallbackWalk => new FallbackWalk(TRANSPORTS.length, 2, (attempt) => 100 * 2 ** attempt);
const network: TransportFailure = { kind: 'network', message: 'reset' };

describe('judgeFailure: what a failure means', () => {
  it('a 4xx stops, unless plain mode, where it only means the transport is not offered', () => {
    const refused: TransportFailure = { kind: 'http', status: 404, message: 'not found' };
    expect(judgeFailure(conn('sse', false), refused, walk(), TRANSPORTS, mode(), false)).toMatchObject({ action: 'stop' });
    expect(judgeFailure(conn('sse', false), refused, walk(), TRANSPORTS, mode({ refusalMeansUnavailable: true }), false)).toEqual({ action: 'retry' });
    // Once open, a refusal is a refusal in plain mode too.
    expect(judgeFailure(conn('sse', true), refused, walk(), TRANSPORTS, mode({ refusalMeansUnavailable: true }), false)).toMatchObject({ action: 'stop' });
  });

  it('a WebSocket refused for its origin moves on when an HTTP transport comes next, and stops on the last one', () => {
    const origin: TransportFailure = { kind: 'http', status: 403, code: 'origin_rejected', message: 'origin' };
    expect(judgeFailure(conn('websocket', false), origin, walk(), TRANSPORTS, mode(), true)).toEqual({ action: 'retry' });
    expect(judgeFailure(conn('websocket', false), origin, walk(), ['websocket'], mode(), true)).toMatchObject({ action: 'stop', error: { code: 'origin_rejected' } });
  });

  it('a refused credential asks the provider again once, then stops', () => {
    const refused: TransportFailure = { kind: 'http', status: 401, message: 'no' };
    expect(judgeFailure(conn('sse', false), refused, walk(), TRANSPORTS, mode(), true)).toEqual({ action: 'refresh_auth' });
    expect(judgeFailure(conn('sse', false), refused, walk(), TRANSPORTS, mode(), false)).toMatchObject({ action: 'stop', error: { code: 'unauthorized' } });
  });
});

describe('planRetry: the next attempt after a failure', () => {
  it('follows the failure policy first: stop, a fresh credential at once, or the server-given wait', () => {
    const w = walk();
    expect(planRetry({ action: 'refresh_auth' }, conn('sse', false), network, false, w, mode())).toEqual({ kind: 'retry', delayMs: 0, reason: 'refreshing the credential', refreshAuth: true });
    expect(planRetry({ action: 'wait', delayMs: 3000 }, conn('sse', false), network, false, w, mode())).toEqual({ kind: 'retry', delayMs: 3000, reason: 'server asked to retry after 3000 ms' });
    expect(w.index).toBe(0); // the walk did not move
  });

  it('a transport that never opened hands over to the next at once; after the last, the round backs off', () => {
    const w = walk();
    expect(planRetry({ action: 'retry' }, conn('websocket', false), network, false, w, mode())).toEqual({ kind: 'retry', delayMs: 0, reason: 'websocket failed: reset', from: 'websocket', walked: true });
    expect(planRetry({ action: 'retry' }, conn('sse', false), network, false, w, mode())).toMatchObject({ delayMs: 0, from: 'sse' });
    expect(planRetry({ action: 'retry' }, conn('polling', false), network, false, w, mode())).toEqual({ kind: 'retry', delayMs: 100, reason: 'every transport failed; last: reset', walked: true, round: true });
    expect(w.index).toBe(0);
  });

  it('a dropped connection is reopened with backoff, or after the delay the server set (SSE retry:)', () => {
    const w = walk();
    expect(planRetry({ action: 'retry' }, conn('sse', true), network, false, w, mode())).toEqual({ kind: 'retry', delayMs: 100, reason: 'reset', walked: true });
    expect(planRetry({ action: 'retry' }, conn('sse', true), network, false, w, mode({ reopenDelayMs: () => 7 }))).toMatchObject({ delayMs: 7 });
  });

  it('a connection known dead (silent while hidden) reconnects at once on the same transport, outside the walk', () => {
    const w = walk();
    w.reason = 'fallback';
    expect(planRetry({ action: 'retry' }, conn('sse', true), network, true, w, mode())).toEqual({ kind: 'retry', delayMs: 0, reason: 'reset' });
    expect(w.reason).toBe('connect');
    expect(w.index).toBe(0);
  });

  it('a buffered stream moves on to the next transport at once', () => {
    const w = walk();
    expect(planRetry({ action: 'retry' }, conn('websocket', true), { kind: 'buffered', message: 'held back' }, false, w, mode())).toMatchObject({ delayMs: 0, from: 'websocket' });
    expect(w.index).toBe(1);
  });
});
