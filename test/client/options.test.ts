import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS, overrideOptions, resolveOptions, type ClientOptions } from '../../src/client/options';
import { RealtimeError } from '../../src/client/errors';
import type { TransportName } from '../../src/protocol/frames';

afterEach(() => {
  vi.unstubAllGlobals();
});

function rejection(options: ClientOptions): RealtimeError {
  try {
    resolveOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(RealtimeError);
    expect((error as RealtimeError).code).toBe('invalid_argument');
    return error as RealtimeError;
  }
  throw new Error(`expected resolveOptions(${JSON.stringify(options)}) to throw`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('resolveOptions defaults', () => {
  it('fills in every default', () => {
    const r = resolveOptions();
    expect(r).toMatchObject({
      transports: ['websocket', 'sse', 'polling'],
      autoConnect: true,
      openTimeoutMs: { websocket: 5000, sse: 5000, polling: 10000 },
      raceAfterMs: 1000,
      backoff: { initialMs: 500, maxMs: 30000, factor: 2, jitter: 0.5 },
      retriesPerTransport: 3,
      heartbeatTolerance: 2.5,
      maxQueuedMessages: 1000,
      maxQueuedBytes: 1048576,
      requestTimeoutMs: 10000,
      withCredentials: false,
      rememberTransportMs: 600000,
      upgradeProbeMs: 30000,
      auth: undefined,
      WebSocket: undefined,
      EventSource: undefined,
      fetch: undefined,
      clock: undefined,
      random: Math.random,
    });
    expect(r.logger).toBeTypeOf('function');
    expect(() => r.logger('error', 'silent by default')).not.toThrow();
  });

  it('hands out fresh frozen objects, never DEFAULTS itself: nothing changes them once made', () => {
    const a = resolveOptions();
    expect(a.transports).not.toBe(DEFAULTS.transports);
    expect(() => (a.transports as TransportName[]).pop()).toThrow(TypeError);
    expect(() => ((a.backoff as { initialMs: number }).initialMs = 1)).toThrow(TypeError);
    expect(() => ((a.openTimeoutMs as { sse: number }).sse = 1)).toThrow(TypeError);
    expect(() => ((a as { raceAfterMs: number }).raceAfterMs = 1)).toThrow(TypeError);
    expect(DEFAULTS.transports).toEqual(['websocket', 'sse', 'polling']);
    expect(DEFAULTS.backoff.initialMs).toBe(500);
    expect(DEFAULTS.openTimeoutMs.sse).toBe(5000);
    const b = resolveOptions();
    expect(b.transports).toEqual(['websocket', 'sse', 'polling']);
    expect(b.backoff.initialMs).toBe(500);
  });

  it('uses sessionStorage when present and none is given; null disables it', () => {
    expect(resolveOptions().storage).toBeNull(); // Node 20 has no sessionStorage
    const fake = { getItem: () => null, setItem: () => {}, removeItem: () => {} };
    vi.stubGlobal('sessionStorage', fake);
    expect(resolveOptions().storage).toBe(fake);
    expect(resolveOptions({ storage: null }).storage).toBeNull();
  });

  it('treats a sessionStorage whose access throws as none', () => {
    Object.defineProperty(globalThis, 'sessionStorage', {
      configurable: true,
      get() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    try {
      expect(resolveOptions().storage).toBeNull();
    } finally {
      delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
    }
  });
});

describe('resolveOptions with caller values', () => {
  it('keeps 0 and false instead of replacing them with defaults', () => {
    const r = resolveOptions({
      autoConnect: false,
      retriesPerTransport: 0,
      maxQueuedMessages: 0,
      maxQueuedBytes: 0,
      requestTimeoutMs: 0,
      rememberTransportMs: 0,
      upgradeProbeMs: 0,
      openTimeoutMs: { sse: 0 },
      backoff: { initialMs: 0, jitter: 0 },
    });
    expect(r.autoConnect).toBe(false);
    expect(r.retriesPerTransport).toBe(0);
    expect(r.maxQueuedMessages).toBe(0);
    expect(r.maxQueuedBytes).toBe(0);
    expect(r.requestTimeoutMs).toBe(0);
    expect(r.rememberTransportMs).toBe(0);
    expect(r.upgradeProbeMs).toBe(0);
    expect(r.openTimeoutMs).toEqual({ websocket: 5000, sse: 0, polling: 10000 });
    expect(r.backoff).toEqual({ initialMs: 0, maxMs: 30000, factor: 2, jitter: 0 });
  });

  it('merges partial backoff and open timeouts with the defaults', () => {
    const r = resolveOptions({ backoff: { maxMs: 1000 }, openTimeoutMs: { polling: 2500 } });
    expect(r.backoff).toEqual({ initialMs: 500, maxMs: 1000, factor: 2, jitter: 0.5 });
    expect(r.openTimeoutMs).toEqual({ websocket: 5000, sse: 5000, polling: 2500 });
  });

  it('passes through injected collaborators', () => {
    const random = () => 0.25;
    const logger = vi.fn();
    const clock = { setTimeout: () => 0, clearTimeout: () => {}, now: () => 0 };
    const auth = () => ({ token: 't' });
    const r = resolveOptions({ random, logger, clock, auth, transports: ['polling'], withCredentials: true });
    expect(r.random).toBe(random);
    expect(r.logger).toBe(logger);
    expect(r.clock).toBe(clock);
    expect(r.auth).toBe(auth);
    expect(r.transports).toEqual(['polling']);
    expect(r.withCredentials).toBe(true);
  });

  it("never mutates or aliases the caller's object", () => {
    const options: ClientOptions = {
      transports: ['sse', 'polling'],
      backoff: { maxMs: 1000 },
      openTimeoutMs: { sse: 100 },
      retriesPerTransport: 1,
    };
    const snapshot = structuredClone(options);
    deepFreeze(options); // a write to it would throw in strict-mode modules
    const r = resolveOptions(options);
    expect(options).toEqual(snapshot);
    expect(r.transports).not.toBe(options.transports);
    expect(r.backoff).not.toBe(options.backoff);
    expect(r.openTimeoutMs).not.toBe(options.openTimeoutMs);
    expect(() => (r.transports as TransportName[]).push('websocket')).toThrow(TypeError);
    expect(options.transports).toEqual(['sse', 'polling']);
  });

  it('overrides are data resolved into a new frozen object; the options they start from stay as they were', () => {
    const given = resolveOptions({ backoff: { maxMs: 1000 }, raceAfterMs: 300 });
    const linked = overrideOptions(given, { backoff: { initialMs: 25 }, raceAfterMs: 0, transports: ['websocket'] });
    expect(linked).not.toBe(given);
    expect(Object.isFrozen(linked) && Object.isFrozen(linked.backoff)).toBe(true);
    expect(linked.backoff).toEqual({ initialMs: 25, maxMs: 1000, factor: 2, jitter: 0.5 });
    expect(linked.raceAfterMs).toBe(0);
    expect(linked.transports).toEqual(['websocket']);
    expect(given.backoff.initialMs).toBe(500);
    expect(given.raceAfterMs).toBe(300);
    expect(given.transports).toEqual(['websocket', 'sse', 'polling']);
  });

  // Regression: a spread merge let an explicit `undefined` (allowed by Partial<>) replace the default.
  it('an explicit undefined inside backoff / openTimeoutMs falls back to the default', () => {
    const r = resolveOptions({ backoff: { initialMs: undefined, maxMs: 1000 }, openTimeoutMs: { sse: undefined } });
    expect(r.backoff.initialMs).toBe(500);
    expect(r.openTimeoutMs.sse).toBe(5000);
  });
});

describe('resolveOptions rejects invalid values with invalid_argument', () => {
  it('an empty transport list', () => {
    expect(rejection({ transports: [] }).message).toMatch(/transports must list at least one transport/);
  });

  it('an unknown transport, naming it and the valid ones', () => {
    const e = rejection({ transports: ['websocket', 'carrier-pigeon' as TransportName] });
    expect(e.message).toContain('"carrier-pigeon"');
    expect(e.message).toContain('websocket, sse, polling');
  });

  it('a transport listed twice', () => {
    expect(rejection({ transports: ['sse', 'polling', 'sse'] }).message).toMatch(/lists a transport twice/);
  });

  it('transports that are not an array', () => {
    expect(rejection({ transports: 'websocket' as unknown as TransportName[] }).message).toMatch(/transports/);
  });

  it.each([
    ['retriesPerTransport', { retriesPerTransport: -1 }, '-1'],
    ['maxQueuedMessages', { maxQueuedMessages: -5 }, '-5'],
    ['maxQueuedBytes', { maxQueuedBytes: Number.NaN }, 'NaN'],
    ['requestTimeoutMs', { requestTimeoutMs: -0.5 }, '-0.5'],
    ['rememberTransportMs', { rememberTransportMs: Number.POSITIVE_INFINITY }, 'Infinity'],
    ['upgradeProbeMs', { upgradeProbeMs: -1 }, '-1'],
    ['raceAfterMs', { raceAfterMs: -1 }, '-1'],
    ['openTimeoutMs.sse', { openTimeoutMs: { sse: -100 } }, '-100'],
    ['backoff.initialMs', { backoff: { initialMs: -1 } }, '-1'],
    ['backoff.maxMs', { backoff: { maxMs: -1 } }, '-1'],
  ] as [string, ClientOptions, string][])('%s out of range', (name, options, shown) => {
    const e = rejection(options);
    expect(e.message).toContain(`option ${name} must be a finite number >= 0`);
    expect(e.message).toContain(`got ${shown}`);
  });

  it.each([1.01, 2, -0.1, Number.NaN])('backoff.jitter %s', (jitter) => {
    expect(rejection({ backoff: { jitter } }).message).toMatch(/backoff\.jitter must be within 0\.\.1/);
  });

  it.each([0.99, 0, -2, Number.NaN])('backoff.factor %s', (factor) => {
    expect(rejection({ backoff: { factor } }).message).toMatch(/backoff\.factor must be >= 1/);
  });

  it.each([0.5, 0, Number.NaN])('heartbeatTolerance %s', (heartbeatTolerance) => {
    expect(rejection({ heartbeatTolerance }).message).toMatch(/heartbeatTolerance must be >= 1/);
  });

  it('accepts the edges: jitter 0 and 1, factor 1, tolerance 1', () => {
    expect(resolveOptions({ backoff: { jitter: 1, factor: 1 }, heartbeatTolerance: 1 }).heartbeatTolerance).toBe(1);
    expect(resolveOptions({ backoff: { jitter: 0 } }).backoff.jitter).toBe(0);
  });
});

describe('option mistakes are not silently ignored', () => {
  it('one number for openTimeoutMs sets every transport', () => {
    expect(resolveOptions({ openTimeoutMs: 3000 }).openTimeoutMs).toEqual({ websocket: 3000, sse: 3000, polling: 3000 });
    expect(rejection({ openTimeoutMs: -1 }).message).toContain('option openTimeoutMs.websocket must be a finite number >= 0');
  });

  it.each([
    ['openTimeoutMs', { openTimeoutMs: '3000' }, '"3000"'],
    ['backoff', { backoff: 1000 }, '1000'],
    ['backoff', { backoff: [500] }, '[500]'],
    ['endpoints', { protocol: 'plain', endpoints: 'wss://x.test/ws' }, '"wss://x.test/ws"'],
  ] as [string, ClientOptions, string][])('%s of the wrong kind is refused, naming the option and what was given', (name, options, shown) => {
    const e = rejection(options);
    expect(e.message).toContain(`option ${name} must be an object like {`);
    expect(e.message).toContain(`got ${shown}`);
  });

  it('an unknown option name is reported to the logger, and the rest still applies', () => {
    const lines: [string, string][] = [];
    const resolved = resolveOptions({ openTimeout: 10, requestTimeoutMs: 5, logger: (level, message) => lines.push([level, message]) } as ClientOptions);
    expect(lines).toEqual([['warn', 'unknown option "openTimeout" ignored']]);
    expect(resolved.requestTimeoutMs).toBe(5);
  });

  it('without a logger, an unknown option name goes to console.warn', () => {
    const warn = vi.fn();
    vi.stubGlobal('console', { ...console, warn });
    resolveOptions({ retries: 3 } as ClientOptions);
    expect(warn).toHaveBeenCalledWith('realtime-fallback: unknown option "retries" ignored');
  });
});

describe('the debug switch', () => {
  it('debug: true sends every line to console.debug as well as to the logger', () => {
    const debugLines: unknown[][] = [];
    vi.stubGlobal('console', { ...console, debug: (...a: unknown[]) => debugLines.push(a) });
    const lines: string[] = [];
    const resolved = resolveOptions({ debug: true, logger: (_level, message) => lines.push(message) });
    resolved.logger('warn', 'hello', { n: 1 });
    expect(resolved.debug).toBe(true);
    expect(debugLines).toEqual([['realtime-fallback warn: hello', { n: 1 }]]);
    expect(lines).toEqual(['hello']);
  });

  it("is on when localStorage.debug names realtime-fallback, off otherwise, and off when storage throws", () => {
    vi.stubGlobal('localStorage', { getItem: (k: string) => (k === 'debug' ? 'socket.io*,realtime-fallback' : null) });
    expect(resolveOptions({}).debug).toBe(true);
    expect(resolveOptions({ debug: false }).debug).toBe(false);
    vi.stubGlobal('localStorage', { getItem: () => 'something-else' });
    expect(resolveOptions({}).debug).toBe(false);
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new Error('SecurityError');
      },
    });
    expect(resolveOptions({}).debug).toBe(false);
  });
});
