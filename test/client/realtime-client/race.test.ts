/**
 * The race (issue 15): an attempt that has not welcomed within its head start (`raceAfterMs`, 1 s) gets the next
 * transport started alongside it; the first to welcome is kept and every other attempt is closed. Nothing is lost,
 * repeated or reordered whichever wins, and close() during a race leaves no timer or connection behind.
 */
import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw, type Rig } from './harness';
import { settle } from './manual-clock';

useMsw();

const waitOpen = (r: Rig) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });
const handshakes = (r: Rig) => r.fake.handshakes.map((h) => h.transport);

/** Connects while WebSocket has not answered, and waits until its head start (1 s) ran out and SSE started alongside. */
async function untilSseRaces(r: Rig): Promise<void> {
  r.client.connect();
  await vi.waitFor(() => expect(handshakes(r)).toEqual(['websocket']));
  await r.clock.advance(1000);
  await vi.waitFor(() => expect(handshakes(r)).toEqual(['websocket', 'sse']));
  await settle(30);
}

describe('racing transports', () => {
  it('no extra connection when WebSocket answers within its head start', async () => {
    const r = rig();
    r.client.connect();
    await waitOpen(r);
    await r.clock.advance(10_000);
    expect(handshakes(r)).toEqual(['websocket']);
    expect(r.of('fallback')).toEqual([]);
  });

  it('a hanging upgrade: SSE starts after 1 s and wins; the WebSocket attempt is closed, not failed', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'silent';
    r.client.connect();
    await vi.waitFor(() => expect(handshakes(r)).toEqual(['websocket']));
    await r.clock.advance(999);
    expect(handshakes(r)).toEqual(['websocket']);
    await r.clock.advance(1);
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    expect(handshakes(r)).toEqual(['websocket', 'sse']);
    expect(r.of('fallback')).toEqual([{ from: 'websocket', to: 'sse', reason: 'websocket has not answered in 1000 ms; sse starts alongside it' }]);
    expect(r.of('transport')).toEqual([{ transport: 'sse', previous: null, reason: 'fallback' }]);
    // The WebSocket's open timeout (5 s) never fires: it lost, it did not fail.
    await r.clock.advance(10_000);
    expect(r.of('transportFailed')).toEqual([]);
    expect(r.client.transport).toBe('sse');
  });

  it('a hanging upgrade and a buffered SSE stream: polling starts 1 s after SSE and wins', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'silent';
    r.fake.behaviour.sse = 'silent';
    await untilSseRaces(r);
    await r.clock.advance(1000);
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(r.of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['websocket→sse', 'sse→polling']);
    expect(r.of('transportFailed')).toEqual([]);
  });

  it('the first racer to welcome wins even when WebSocket answers after SSE started', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'held';
    r.fake.behaviour.sse = 'silent';
    await untilSseRaces(r);
    r.fake.releaseWebSocket(); // the WebSocket's welcome arrives late, but before SSE's
    await waitOpen(r);
    expect(r.client.transport).toBe('websocket');
    expect(r.of('transport')).toEqual([{ transport: 'websocket', previous: null, reason: 'connect' }]);
    // The SSE racer was closed: its open timeout never fires, and no polling racer starts.
    await r.clock.advance(10_000);
    expect(handshakes(r)).toEqual(['websocket', 'sse']);
    expect(r.of('transportFailed')).toEqual([]);
  });

  it('a loser answering after the winner opened is ignored: nothing repeated, no resync, the winner stays', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'held';
    r.client.connect();
    await vi.waitFor(() => expect(handshakes(r)).toEqual(['websocket']));
    await r.clock.advance(1000);
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 1]]));
    r.fake.releaseWebSocket(); // the closed WebSocket attempt's welcome comes now
    await settle(50);
    r.fake.push('n', 2);
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 1], ['n', 2]]));
    expect(r.client.transport).toBe('sse');
    expect(r.of('open')).toHaveLength(1);
    expect(r.of('resync')).toEqual([]);
    expect(r.of('transportFailed')).toEqual([]);
  });

  it('a racer that fails fast hands on to the next at once, without another head start', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'silent';
    r.fake.behaviour.sse = 'refuse';
    r.client.connect();
    await vi.waitFor(() => expect(handshakes(r)).toEqual(['websocket']));
    await r.clock.advance(1000);
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(handshakes(r)).toEqual(['websocket', 'sse', 'polling']);
    expect(r.of('transportFailed').map((f) => f.transport)).toEqual(['sse']);
  });

  it('when the lead fails while a racer runs, the racer leads: no second connection on its transport', async () => {
    const r = rig({ openTimeoutMs: { websocket: 1500 } });
    r.fake.behaviour.websocket = 'silent';
    r.fake.behaviour.sse = 'silent';
    await untilSseRaces(r);
    await r.clock.advance(500); // the WebSocket's open timeout: it fails, SSE leads
    expect(r.of('transportFailed').map((f) => f.transport)).toEqual(['websocket']);
    expect(handshakes(r)).toEqual(['websocket', 'sse']);
    r.fake.behaviour.polling = 'ok';
    await r.clock.advance(500); // SSE's head start ran out: polling alongside
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(handshakes(r)).toEqual(['websocket', 'sse', 'polling']);
  });

  it('a resumed session loses and repeats nothing when a racer wins the reconnect', async () => {
    const r = rig();
    r.client.connect();
    await waitOpen(r);
    for (let n = 1; n <= 3; n++) r.fake.push('n', n);
    r.client.emit('say', 1);
    await vi.waitFor(() => expect(r.messages.map(([, d]) => d)).toEqual([1, 2, 3]));
    r.fake.behaviour.websocket = 'silent';
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    for (let n = 4; n <= 6; n++) r.fake.push('n', n); // while no connection is attached
    r.client.emit('say', 2);
    await r.clock.advance(r.of('reconnecting').at(-1)!.delayMs);
    await vi.waitFor(() => expect(handshakes(r).at(-1)).toBe('websocket'));
    await r.clock.advance(1000);
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    r.client.emit('say', 3);
    r.fake.push('n', 7);
    await vi.waitFor(() => expect(r.messages.map(([, d]) => d)).toEqual([1, 2, 3, 4, 5, 6, 7]));
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual([1, 2, 3]));
    expect(r.of('resync')).toEqual([]);
  });

  it('close() during a race leaves no timer and no connection attempt behind', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'silent';
    r.fake.behaviour.sse = 'silent';
    await untilSseRaces(r);
    r.client.close();
    expect(r.clock.pending).toBe(0);
    await r.clock.advance(20_000);
    await settle(30);
    expect(handshakes(r)).toEqual(['websocket', 'sse']);
    expect(r.of('transportFailed')).toEqual([]);
  });

  it('raceAfterMs 0: one transport at a time, each given its whole open timeout', async () => {
    const r = rig({ raceAfterMs: 0 });
    r.fake.behaviour.websocket = 'silent';
    r.client.connect();
    await vi.waitFor(() => expect(handshakes(r)).toEqual(['websocket']));
    await r.clock.advance(4999);
    expect(handshakes(r)).toEqual(['websocket']);
    await r.clock.advance(1);
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
  });
});
