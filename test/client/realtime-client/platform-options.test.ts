import { describe, expect, it, vi } from 'vitest';
import type { LogLevel } from '../../../src/client/options';
import { rig, useMsw } from './harness';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

describe('options that reach the platform', () => {
  it('withCredentials sends cookies on polls and POSTs (credentials: include); without it, same-origin', async () => {
    for (const withCredentials of [true, false]) {
      const seen: (RequestCredentials | undefined)[] = [];
      const fetchSpy = (input: string, init?: RequestInit) => {
        seen.push(init?.credentials);
        return globalThis.fetch(input, init);
      };
      const r = rig({ transports: ['polling'], withCredentials, fetch: fetchSpy });
      r.client.connect();
      await waitOpen(r);
      r.client.emit('say', 'x');
      await vi.waitFor(() => expect(r.fake.received).toHaveLength(1));
      expect(seen.length).toBeGreaterThanOrEqual(2); // the handshake poll and the POST, at least
      expect(new Set(seen)).toEqual(new Set([withCredentials ? 'include' : 'same-origin']));
      r.client.close();
    }
  });

  it('the logger hears about every failed attempt, and a listener that throws is reported to it, not thrown', async () => {
    const lines: [LogLevel, string][] = [];
    const r = rig({ logger: (level, message) => lines.push([level, message]) });
    r.fake.behaviour.websocket = 'refuse';
    r.client.on('n', () => {
      throw new Error('app bug');
    });
    r.client.connect();
    await waitOpen(r);
    expect(lines.some(([level, m]) => level === 'warn' && m.startsWith('websocket failed'))).toBe(true);
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(lines.some(([level, m]) => level === 'error' && m.includes('listener for "n" threw'))).toBe(true));
    expect(r.client.state).toBe('open');
  });
});

describe('the debug switch on a live client', () => {
  it('logs every attempt and every frame type in and out to console.debug', async () => {
    const lines: string[] = [];
    vi.stubGlobal('console', { ...console, debug: (message: string) => lines.push(message) });
    try {
      const r = rig({ debug: true });
      r.client.connect();
      await waitOpen(r);
      r.client.emit('say', 'x');
      r.fake.push('n', 1);
      await vi.waitFor(() => expect(lines).toContain('realtime-fallback debug: websocket ← msg'));
      expect(lines).toContain('realtime-fallback debug: connecting over websocket');
      expect(lines).toContain('realtime-fallback debug: websocket ← welcome');
      expect(lines).toContain('realtime-fallback debug: websocket → emit');
      r.client.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('is silent without it', async () => {
    const lines: string[] = [];
    vi.stubGlobal('console', { ...console, debug: (message: string) => lines.push(message) });
    try {
      const r = rig();
      r.client.connect();
      await waitOpen(r);
      r.fake.push('n', 1);
      await vi.waitFor(() => expect(r.messages).toHaveLength(1));
      expect(lines.filter((l) => l.startsWith('realtime-fallback'))).toEqual([]);
      r.client.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('autoConnect', () => {
  it('connects on the next microtask, so a state listener added right after construction hears "connecting"', async () => {
    const r = rig({ autoConnect: true });
    const states: string[] = [];
    r.client.lifecycle.on('state', ({ state }) => states.push(state));
    expect(r.client.state).toBe('idle');
    await Promise.resolve();
    expect(states).toEqual(['connecting']);
    await waitOpen(r);
    expect(states).toEqual(['connecting', 'open']);
    r.client.close();
  });

  it('close() before that microtask: it never connects', async () => {
    const r = rig({ autoConnect: true });
    r.client.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.client.state).toBe('closed');
    expect(r.fake.handshakes).toEqual([]);
  });
});
