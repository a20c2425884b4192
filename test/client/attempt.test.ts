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

/** Steps that record what the pipeline said; `unusable` passes the transport by unless told to open it. */
function steps(over: Partial<AttemptSteps> = {}, openUnusable = false) {
  const said: string[] = [];
  const s: AttemptSteps = {
    credentials: async () => ({ token: 't' }),
    stale: () => false,
    unusable: () => (said.push('unusable'), openUnusable),
    authFailed: (cause) => said.push(`auth failed: ${(cause as Error).message}`),
    loadFailed: (cause) => said.push(`load failed: ${(cause as Error).message}`),
    ...over,
  };
  return Object.assign(s, { said });
}

describe('prepareAttempt: the steps before any connection attempt', () => {
  it('gets fresh credentials and resolves with them when nothing must load', async () => {
    const s = steps();
    expect(await prepareAttempt(settings(), 'websocket', s)).toEqual({ token: 't' });
    expect(s.said).toEqual([]);
  });

  it('an auth provider that throws is said, with its cause, and nothing opens', async () => {
    const s = steps({ credentials: () => Promise.reject(new Error('down')) });
    expect(await prepareAttempt(settings(), 'sse', s)).toBeNull();
    expect(s.said).toEqual(['auth failed: down']);
  });

  it('a WebSocket cannot present headers: its owner decides (pass it by, or open the last one: its refusal is the answer)', async () => {
    const headersOnly = { credentials: async () => ({ headers: { authorization: 'Bearer x' } }) };
    const passBy = steps(headersOnly);
    expect(await prepareAttempt(settings(), 'websocket', passBy)).toBeNull();
    expect(passBy.said).toEqual(['unusable']);
    const http = steps(headersOnly);
    expect(await prepareAttempt(settings(), 'sse', http)).toEqual({ headers: { authorization: 'Bearer x' } });
    expect(http.said).toEqual([]);
    const last = steps(headersOnly, true);
    expect(await prepareAttempt(settings(), 'websocket', last)).toEqual({ headers: { authorization: 'Bearer x' } });
    expect(last.said).toEqual(['unusable']);
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
    expect(await result).toEqual({ token: 't' });
  });

  it('code that did not download is said, with its cause, and nothing opens', async () => {
    const s = steps();
    expect(await prepareAttempt(settings(() => Promise.reject(new Error('ChunkLoadError'))), 'sse', s)).toBeNull();
    expect(s.said).toEqual(['load failed: ChunkLoadError']);
  });

  it('after every await, an attempt that no longer counts ends quietly (even when that await failed)', async () => {
    let stale = false;
    const cases: [ReturnType<typeof steps>, ConnectionSettings][] = [
      [steps({ credentials: async () => ((stale = true), { token: 't' }), stale: () => stale }), settings()],
      [steps({ credentials: async () => ((stale = true), Promise.reject(new Error('x'))), stale: () => stale }), settings()],
      [steps({ stale: () => stale }), settings(() => ((stale = true), Promise.resolve()))],
      [steps({ stale: () => stale }), settings(() => ((stale = true), Promise.reject(new Error('x'))))],
    ];
    for (const [s, conn] of cases) {
      stale = false;
      expect(await prepareAttempt(conn, 'sse', s)).toBeNull();
      expect(s.said).toEqual([]);
    }
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
