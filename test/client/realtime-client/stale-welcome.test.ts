/**
 * A welcome that a proxy let out only when its stream ended must not win a race. Behind a proxy that refuses
 * WebSocket and holds every event stream until it ends, the SSE handshake waits; polling races it after 1 s and
 * joins its session, the server ends the SSE stream with close{replaced}, and only then does the welcome arrive, with
 * that close behind it. Before, SSE opened on it, was replaced at once, reopened, and so on for ever.
 */
import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw, type Rig } from './harness';
import { settle } from './manual-clock';

useMsw();

const waitOpen = (r: Rig) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });
const handshakes = (r: Rig) => r.fake.handshakes.map((h) => h.transport);

/** WebSocket refused, event streams held until they end, racing handshakes joining one session. */
function behindBufferingProxy(split: boolean): Rig {
  const r = rig();
  r.fake.behaviour.websocket = 'refuse';
  r.fake.sseHeldUntilEnd = split ? 'split' : 'one-read';
  r.fake.joinRacers = true;
  return r;
}

/** Connects and lets SSE wait out its head start, so that polling races it. */
async function race(r: Rig): Promise<void> {
  r.client.connect();
  await vi.waitFor(() => expect(handshakes(r).at(-1)).toBe('sse'));
  await settle(30);
  await r.clock.advance(1000);
}

/** `race`, then waits until the client is open (on polling, it should be). */
async function connectThroughRace(r: Rig): Promise<void> {
  await race(r);
  await waitOpen(r);
}

const sseFailures = (r: Rig) => r.of('transportFailed').filter((e) => e.transport === 'sse');

/** Nothing changes transport for 20 s, and messages pass both ways exactly once. */
async function staysOnPolling(r: Rig): Promise<void> {
  const before = handshakes(r).length;
  await r.clock.advance(20_000);
  expect(r.client.transport).toBe('polling');
  expect(handshakes(r)).toHaveLength(before);
  for (let n = 1; n <= 3; n++) r.fake.push('n', n);
  r.client.emit('say', 1);
  await vi.waitFor(() => expect(r.messages).toEqual([['n', 1], ['n', 2], ['n', 3]]));
  await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual([1]));
  expect(r.fake.duplicates).toBe(0);
  expect(r.of('resync')).toEqual([]);
}

describe('a stale welcome in a race', () => {
  it('a welcome that comes with close{replaced} does not win: polling, which replaced it, opens and stays', async () => {
    const r = behindBufferingProxy(false);
    await connectThroughRace(r);
    expect(r.client.transport).toBe('polling');
    expect(r.of('open').map((e) => e.transport)).toEqual(['polling']);
    expect(r.client.sessionId).toBe(r.fake.session!.sid); // one session: the one both handshakes joined
    // Polling may have won before SSE's stale welcome even arrived; when it had not, SSE failed as buffered.
    for (const f of r.of('transportFailed').filter((e) => e.transport === 'sse')) expect(f).toMatchObject({ opened: false, failure: { kind: 'buffered' } });
    await staysOnPolling(r);
  });

  it('a race winner replaced right after it opened (the rest of its stream in a later read): a strike; the second moves to polling at once', async () => {
    const r = behindBufferingProxy(true);
    // Once: SSE won, then close{replaced}. A racer's late handshake replaces a winner so too: reopened as any drop.
    await race(r);
    await vi.waitFor(() => expect(sseFailures(r)).toHaveLength(1));
    expect(r.of('open').map((e) => e.transport)).toEqual(['sse']);
    expect(r.client.state).toBe('reconnecting');
    expect(sseFailures(r)).toMatchObject([{ opened: true, failure: { kind: 'network', message: 'server closed the connection (replaced)' } }]);
    expect(r.of('reconnecting').at(-1)).toMatchObject({ transport: 'sse' });
    await r.client.forget(); // a fresh session: its handshakes race and join again
    // Twice: SSE is avoided now, and the walk moves on at once instead of reopening it.
    await race(r);
    await vi.waitFor(() => expect(sseFailures(r)).toHaveLength(2));
    expect(r.of('transportFailed').at(-1)).toMatchObject({ transport: 'sse', opened: true, failure: { kind: 'buffered' } });
    expect(r.of('fallback').at(-1)).toMatchObject({ from: 'sse', to: 'polling' });
    await r.clock.advance(1000); // the attempt floor may hold the step for the rest of its second
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(r.of('open').map((e) => e.transport)).toEqual(['sse', 'sse', 'polling']);
    await staysOnPolling(r);
  });

  it('flapping settles: after two stale welcomes on SSE the walk passes it by and goes to polling at once', async () => {
    const r = behindBufferingProxy(false);
    for (let round = 1; round <= 2; round++) {
      await connectThroughRace(r);
      expect(r.client.transport).toBe('polling');
      await r.client.forget(); // a fresh session each round: its handshakes race and join again
    }
    expect(handshakes(r)).toEqual(['websocket', 'sse', 'polling', 'websocket', 'sse', 'polling']);
    r.client.connect();
    await waitOpen(r); // no head start to wait out: the clock has not moved
    expect(r.client.transport).toBe('polling');
    expect(handshakes(r).slice(6)).toEqual(['websocket', 'polling']);
    expect(r.of('fallback').at(-1)).toMatchObject({ from: 'websocket', to: 'polling' });
  });
});
