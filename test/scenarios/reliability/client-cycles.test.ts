/**
 * Resource hygiene of one client across many connect/close cycles, against the real server.
 *
 * 10,000 real WebSocket handshakes do not fit the suite's time budget, so the cycles are mixed (measured: the whole
 * file takes a few seconds):
 *  - 10,000 × connect() + close() in the same tick: close() wins before the attempt creates a socket (the auth step
 *    is awaited first), which exercises the timer, listener and state bookkeeping of every cycle;
 *  - 1,000 of those wait one macrotask first, so a socket is created and closed before it opens;
 *  - 300 full cycles (100 per transport): connect, wait for `open`, close.
 * After every close: no pending timer in the client; at the end: page listeners added = removed, no request or
 * upgraded socket left open on the server, the session (resumed each time, so only one) without a transport, and the
 * heap back near where it started (after a real gc, see gc.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import type { WebSocketConstructor } from '../../../src/transports/environment';
import { cleanup, connectClient, eventSource, startHarness, waitUntil, whenOpen, type Harness } from '../integration/harness';
import { hasGc, mib, settledHeap } from './gc';

/** Node has no window: count `online`/`offline` listeners through a stand-in EventTarget on globalThis. */
const listeners = new Map<string, Set<unknown>>();
let added = 0;
let removed = 0;
const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
beforeAll(() => {
  g.addEventListener = (type: string, fn: unknown) => {
    added++;
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type)!.add(fn);
  };
  g.removeEventListener = (type: string, fn: unknown) => {
    removed++;
    listeners.get(type)?.delete(fn);
  };
});
afterAll(() => {
  delete g.addEventListener;
  delete g.removeEventListener;
});
afterEach(cleanup);
const CYCLES = Number(process.env.RT_CYCLES ?? 10_000);

const live = (): number => [...listeners.values()].reduce((n, s) => n + s.size, 0);

describe('one client, many connect/close cycles', () => {
  it('leaves no timers, listeners, sockets or heap behind', { timeout: 60_000 }, async () => {
    const h: Harness = await startHarness({ heartbeatMs: 300 });
    // Built directly, not with connectClient(): that rig records every lifecycle event, which would grow the heap.
    const client = new RealtimeClient(h.base, {
      autoConnect: false,
      WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
      EventSource: await eventSource(),
      storage: null,
      upgradeProbeMs: 0,
    });
    // Warm up (first connection, module loading, JIT) before the baseline is taken.
    client.connect();
    await whenOpen(client);
    client.close();
    await waitUntil(() => h.inFlight().upgraded === 0, 5000, 'the warm-up socket closed');
    const heapStart = await settledHeap();
    const receivedStart = h.received();

    let maxTimers = 0;
    for (let i = 1; i <= CYCLES; i++) {
      client.connect();
      if (i % 10 === 0) await new Promise((r) => setImmediate(r)); // the attempt gets as far as creating a socket
      maxTimers = Math.max(maxTimers, client.pendingTimers);
      client.close();
      expect(client.pendingTimers).toBe(0);
      expect(live()).toBe(0);
    }
    const heapAfterQuick = await settledHeap();

    for (const transport of ['websocket', 'sse', 'polling'] as const) {
      const r = await connectClient(h.base, { autoConnect: false, transports: [transport] });
      for (let i = 0; i < 100; i++) {
        r.client.connect();
        await whenOpen(r.client, transport);
        r.client.close();
        expect(r.client.pendingTimers).toBe(0);
      }
    }
    await waitUntil(() => h.inFlight().requests === 0 && h.inFlight().upgraded === 0, 5000, () => `sockets to close: ${JSON.stringify(h.inFlight())}`);
    client.close();
    const heapEnd = await settledHeap();

    expect(added).toBe(removed);
    expect(live()).toBe(0);
    expect(maxTimers).toBeGreaterThan(0); // the cycles did schedule work (open timeouts) and close() cancelled it
    // Every full cycle resumed its client's session: four sessions in all (the 10,000-cycle client and one per
    // transport loop), none holding a connection.
    expect(h.sessions.length).toBe(4);
    // (A long-polling session learns that its client left only when no poll came for 2 × heartbeat.)
    await waitUntil(() => h.sessions.every((s) => s.transport === null), 3000, () => `sessions detached: ${h.sessions.map((s) => s.transport)}`);
    expect(h.received() - receivedStart).toBeGreaterThan(300);

    console.log(
      `[client-cycles] gc ${hasGc ? 'forced' : 'NOT available'}; heap at start ${mib(heapStart)}, after ${CYCLES} quick cycles ${mib(heapAfterQuick)}, ` +
        `after 300 full cycles ${mib(heapEnd)}; server saw ${h.received() - receivedStart} requests/upgrades`,
    );
    // Measured (forced gc): +1.1 MiB after 10,000 and after 30,000 quick cycles alike (RT_CYCLES=30000), +2.8 MiB after
    // the full cycles (ws/polyfill/undici internals warmed up). A leak of 300 bytes per cycle (what the event-recording
    // rig alone caused) shows up as +3 MiB per 10,000 and fails the 4 MiB bound at 10,000 or the flat check at 30,000.
    expect(heapAfterQuick - heapStart).toBeLessThan(4 * 1024 * 1024);
    expect(heapEnd - heapStart).toBeLessThan(8 * 1024 * 1024);
  });
});
