import { describe, expect, it } from 'vitest';
import type { TransportName } from '../../src/protocol/frames';
import type { Transport } from '../../src/transports/transport';
import { openAttempt, prepareAttempt, type AttemptSteps } from '../../src/client/attempt';
import { createAttemptWindow, MAX_ATTEMPTS_PER_WINDOW } from '../../src/client/attempt-window';
import type { ConnectionSettings } from '../../src/client/connection';
import type { ClientMode } from '../../src/client/mode/mode';
import { BackoffScheduler, type Clock } from '../../src/client/scheduler';
import type { AuthCredentials } from '../../src/client/types';

const clock: Clock = { setTimeout: () => 0, clearTimeout: () => {}, now: () => 1000 };

function settings(prepare: (name: TransportName) => Promise<void> | null = () => null, made: string[] = []): ConnectionSettings {
  const mode = {
    url: () => 'http://x.test/rt',
    handshake: (creds: AuthCredentials) => ({ query: { who: creds.token ?? '' }, hidden: {} }),
    prepare,
    createTransport: (name: TransportName, params: { query: Record<string, string> }): Transport => {
      made.push(`${name}?${params.query.who}`);
      return { name, connect() {}, send() {}, close() {} };
    },
  } as unknown as ClientMode;
  const scheduler = new BackoffScheduler({ initialMs: 1, maxMs: 1, factor: 1, jitter: 0 }, clock);
  return { mode, environment: {}, scheduler, transports: ['websocket', 'sse', 'polling'], openTimeoutMs: { websocket: 1, sse: 1, polling: 1 }, withCredentials: false, logger: () => {} };
}

const steps = (over: Partial<AttemptSteps> = {}): AttemptSteps => ({
  credentials: async () => ({ token: 't' }),
  stale: () => false,
  openUnusable: () => false,
  ...over,
});

describe('prepareAttempt: the steps before any connection attempt', () => {
  it('gets fresh credentials and is ready with them when nothing must load', async () => {
    expect(await prepareAttempt(settings(), 'websocket', steps())).toEqual({ kind: 'ready', creds: { token: 't' } });
  });

  it('an auth provider that throws is said as such, with its cause', async () => {
    const cause = new Error('down');
    expect(await prepareAttempt(settings(), 'sse', steps({ credentials: () => Promise.reject(cause) }))).toEqual({ kind: 'auth_failed', cause });
  });

  it('a WebSocket cannot present headers: skipped, unless it is the last transport (its refusal is the answer then)', async () => {
    const headersOnly = steps({ credentials: async () => ({ headers: { authorization: 'Bearer x' } }) });
    expect(await prepareAttempt(settings(), 'websocket', headersOnly)).toEqual({ kind: 'unusable' });
    expect(await prepareAttempt(settings(), 'sse', headersOnly)).toMatchObject({ kind: 'ready' });
    expect(await prepareAttempt(settings(), 'websocket', { ...headersOnly, openUnusable: () => true })).toMatchObject({ kind: 'ready' });
  });

  it('waits for the transport code and what its owner must finish (a persisted session) alike, started together', async () => {
    const order: string[] = [];
    let loadCode!: () => void;
    let restore!: () => void;
    const code = new Promise<void>((r) => (loadCode = r));
    const restoring = new Promise<void>((r) => (restore = r));
    const s = settings((name) => (order.push(`load ${name}`), code));
    const result = prepareAttempt(s, 'sse', steps({ before: (creds) => (order.push(`restore for ${creds.token}`), restoring) }));
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(['restore for t', 'load sse']);
    loadCode();
    await new Promise((r) => setTimeout(r, 0));
    let settled = false;
    void result.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBe(false); // the handshake must not be made before the session is restored
    restore();
    expect(await result).toMatchObject({ kind: 'ready' });
  });

  it('code that did not download is said, with its cause', async () => {
    const cause = new Error('ChunkLoadError');
    expect(await prepareAttempt(settings(() => Promise.reject(cause)), 'sse', steps())).toEqual({ kind: 'load_failed', cause });
  });

  it('after every await, an attempt that no longer counts stops quietly (even when that await failed)', async () => {
    let stale = false;
    const staleAfterAuth = steps({ credentials: async () => ((stale = true), { token: 't' }), stale: () => stale });
    expect(await prepareAttempt(settings(), 'sse', staleAfterAuth)).toEqual({ kind: 'stale' });
    stale = false;
    const failingAuth = steps({ credentials: async () => ((stale = true), Promise.reject(new Error('x'))), stale: () => stale });
    expect(await prepareAttempt(settings(), 'sse', failingAuth)).toEqual({ kind: 'stale' });
    stale = false;
    const staleWhileLoading = settings(() => ((stale = true), Promise.resolve()));
    expect(await prepareAttempt(staleWhileLoading, 'sse', steps({ stale: () => stale }))).toEqual({ kind: 'stale' });
    stale = false;
    const failedWhileStale = settings(() => ((stale = true), Promise.reject(new Error('x'))));
    expect(await prepareAttempt(failedWhileStale, 'sse', steps({ stale: () => stale }))).toEqual({ kind: 'stale' });
  });
});

describe('openAttempt', () => {
  it('opens the transport with a handshake of these credentials and counts the attempt in the attempt window', () => {
    const made: string[] = [];
    const window = createAttemptWindow();
    const s = settings(() => null, made);
    for (let i = 0; i < MAX_ATTEMPTS_PER_WINDOW; i++) {
      const conn = openAttempt(s, 'sse', { token: `t${i}` }, { frame() {}, failure() {} }, window);
      expect(conn).toMatchObject({ name: 'sse', opened: false });
    }
    expect(made).toEqual(['sse?t0', 'sse?t1', 'sse?t2', 'sse?t3']);
    expect(window.wait(1000)).toBe(1000); // the window is full: the next attempt waits
    s.scheduler.dispose();
  });
});
