import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS_PER_WINDOW, WINDOW_MS } from '../../../src/client/attempt-window';
import { rig, useMsw } from './harness';
import { settle, settleUntil } from './manual-clock';

useMsw();

describe('attempt floor: errors answered at once never make the client loop fast', () => {
  it('a server that answers every attempt with 429 Retry-After: 0 gets at most 4 attempts per second', async () => {
    const r = rig({ transports: ['sse', 'polling'] });
    r.fake.behaviour.sse = { status: 429, retryAfter: 0 };
    r.fake.behaviour.polling = { status: 429, retryAfter: 0 };
    r.client.connect();
    // Real time passes (zero delays run on real timers), the client's clock does not: only the window can hold it.
    // Waited for rather than timed (a loaded machine answers slowly), then given time to overshoot.
    await settleUntil(() => r.fake.handshakes.length >= MAX_ATTEMPTS_PER_WINDOW);
    await settle(300);
    expect(r.fake.handshakes).toHaveLength(MAX_ATTEMPTS_PER_WINDOW);
    // Each reconnecting event reports the wait actually scheduled, not the zero the server asked for.
    expect(r.of('reconnecting').at(-1)!.delayMs).toBe(WINDOW_MS);
    await r.clock.advance(WINDOW_MS - 1);
    expect(r.fake.handshakes).toHaveLength(MAX_ATTEMPTS_PER_WINDOW);
    await r.clock.advance(1);
    await settleUntil(() => r.fake.handshakes.length >= 2 * MAX_ATTEMPTS_PER_WINDOW);
    await settle(300);
    expect(r.fake.handshakes).toHaveLength(2 * MAX_ATTEMPTS_PER_WINDOW);
    r.client.close();
    expect(r.client.pendingTimers).toBe(0);
  });

  it('leaves a normal failover alone: WebSocket refused, SSE at once', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await settleUntil(() => r.client.state === 'open');
    await settle(100);
    expect(r.client.state).toBe('open');
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'sse']);
    expect(r.of('reconnecting')).toEqual([]);
    r.client.close();
  });
});
