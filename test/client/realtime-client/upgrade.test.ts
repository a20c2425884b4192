import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw } from './harness';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

/** An in-memory sessionStorage. */
function memoryStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

describe('upgrade probe', () => {
  it('moves a live session from SSE to WebSocket without losing or repeating a message either way', async () => {
    const r = rig({ upgradeProbeMs: 10_000 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    const sid = r.client.sessionId;

    // The network heals; nothing changes until the probe is due (jittered within 5..10 s; random 0.5 → 7.5 s).
    r.fake.behaviour.websocket = 'ok';
    await r.clock.advance(7000);
    expect(r.fake.handshakesOf('websocket')).toHaveLength(1);

    // Traffic in both directions right around the switch.
    for (let i = 1; i <= 5; i++) r.fake.push('n', i);
    for (let i = 1; i <= 5; i++) r.client.emit('say', i);
    await r.clock.advance(500);
    for (let i = 6; i <= 10; i++) r.fake.push('n', i);
    for (let i = 6; i <= 10; i++) r.client.emit('say', i);

    await vi.waitFor(() => expect(r.client.transport).toBe('websocket'));
    const probe = r.fake.handshakesOf('websocket')[1]!.query;
    expect(probe.get('probe')).toBe('1');
    expect(probe.get('sid')).toBe(sid);
    for (let i = 11; i <= 15; i++) r.fake.push('n', i);
    await vi.waitFor(() => expect(r.messages.map((m) => m[1])).toEqual(Array.from({ length: 15 }, (_, i) => i + 1)));
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1)));
    expect(r.fake.activeTransport).toBe('websocket');
    expect(r.client.sessionId).toBe(sid);
    expect(r.of('transport').at(-1)).toEqual({ transport: 'websocket', previous: 'sse', reason: 'upgrade' });
    expect(r.of('resync')).toEqual([]);
    expect(r.client.state).toBe('open');
  });

  it('leaves the session alone when the probe fails, and probes again later with a longer delay', async () => {
    const r = rig({ upgradeProbeMs: 10_000 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    await r.clock.advance(7500);
    await vi.waitFor(() => expect(r.of('transportFailed').filter((f) => f.probe)).toHaveLength(1));
    expect(r.client.transport).toBe('sse');
    expect(r.client.state).toBe('open');
    r.fake.push('n', 'still here');
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 'still here']]));
    // Second probe: base doubled to 20 s, jitter 0.5 at random 0.5 → 15 s.
    await r.clock.advance(14_999);
    expect(r.fake.handshakesOf('websocket')).toHaveLength(2);
    await r.clock.advance(1);
    await vi.waitFor(() => expect(r.fake.handshakesOf('websocket')).toHaveLength(3));
  });

  it('does not probe when disabled or when already on the best transport', async () => {
    const r = rig({ upgradeProbeMs: 0 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    await r.clock.advance(10 * 60_000);
    expect(r.fake.handshakesOf('websocket')).toHaveLength(1);
  });
});

describe('remembered transport', () => {
  it('starts the next page load on the transport that worked, until the memory expires', async () => {
    const storage = memoryStorage();
    const first = rig({ storage, rememberTransportMs: 60_000, upgradeProbeMs: 0 });
    first.fake.behaviour.websocket = 'refuse';
    first.client.connect();
    await waitOpen(first);
    expect(first.client.transport).toBe('sse');
    first.client.close();

    const second = rig({ storage, rememberTransportMs: 60_000, upgradeProbeMs: 0 }, first.fake);
    second.clock.time = first.clock.time + 30_000;
    second.client.connect();
    await waitOpen(second);
    expect(first.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'sse', 'sse']);
    expect(second.of('transport')).toEqual([{ transport: 'sse', previous: null, reason: 'remembered' }]);
    second.client.close();

    // Past its expiry the memory is gone, so the walk starts at WebSocket again.
    const third = rig({ storage, rememberTransportMs: 60_000, upgradeProbeMs: 0 }, first.fake);
    third.clock.time = second.clock.time + 60_001;
    first.fake.behaviour.websocket = 'ok';
    third.client.connect();
    await waitOpen(third);
    expect(third.client.transport).toBe('websocket');
    expect(storage.map.size).toBe(0);
  });

  it('moves on at once when the remembered transport fails before opening', async () => {
    const storage = memoryStorage();
    const r = rig({ storage, upgradeProbeMs: 0 });
    storage.setItem(`realtime-fallback:transport:${r.fake.base}`, JSON.stringify({ transport: 'sse', expires: r.clock.time + 60_000 }));
    r.fake.behaviour.sse = 'refuse';
    r.client.connect();
    await waitOpen(r);
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['sse', 'polling']);
    expect(r.of('reconnecting')).toEqual([]);
    expect(r.of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['sse→polling']);
  });

  it('forgets a remembered fallback once the preferred transport works again', async () => {
    const storage = memoryStorage();
    const r = rig({ storage, upgradeProbeMs: 1000 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    expect([...storage.map.values()][0]).toContain('"sse"');
    r.fake.behaviour.websocket = 'ok';
    await r.clock.advance(1000);
    await vi.waitFor(() => expect(r.client.transport).toBe('websocket'));
    expect(storage.map.size).toBe(0);
  });
});
