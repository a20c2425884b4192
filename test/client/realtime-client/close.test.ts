import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw, type Rig } from './harness';
import { settle } from './manual-clock';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

/** After close(): nothing scheduled, nothing more reported, nothing more sent. */
async function expectFullyClosed(r: Rig): Promise<void> {
  const handshakes = r.fake.handshakes.length;
  const events = r.events.length;
  r.client.close();
  expect(r.client.state).toBe('closed');
  expect(r.client.transport).toBeNull();
  expect(r.client.pendingTimers).toBe(0);
  expect(r.clock.pending).toBe(0);
  await r.clock.advance(10 * 60_000);
  await settle(50);
  expect(r.fake.handshakes).toHaveLength(handshakes);
  // Only the closing events themselves.
  expect(r.events.slice(events).map((e) => e.type)).toEqual(['state', 'close']);
}

describe('close() releases everything', () => {
  it('while open on WebSocket with an ack, a liveness check and a request timer pending', async () => {
    const r = rig({ transports: ['websocket'] });
    r.fake.replies = false;
    r.client.connect();
    await waitOpen(r);
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(r.messages).toHaveLength(1));
    const pending = r.client.request('echo', 1).catch((e: { code: string }) => e.code);
    expect(r.client.pendingTimers).toBeGreaterThanOrEqual(3);
    await expectFullyClosed(r);
    expect(await pending).toBe('closed');
    // The server saw the socket go.
    await vi.waitFor(() => expect(r.fake.session!.conn).toBeNull());
  });

  it('while open on SSE with an upgrade probe scheduled', async () => {
    const r = rig({ upgradeProbeMs: 5000 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    await expectFullyClosed(r);
  });

  it('right after it opened on SSE, while the upgrade probe is still loading (no timer once it has loaded)', async () => {
    const r = rig({ upgradeProbeMs: 5000 });
    r.fake.behaviour.websocket = 'refuse';
    // The probe is scheduled as the session opens; its code is a lazy chunk, so it is still loading a microtask later.
    r.client.lifecycle.on('open', () => queueMicrotask(() => r.client.close()));
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'), { timeout: 3000 });
    expect(r.of('open')).toHaveLength(1);
    await settle(100); // the chunk has loaded by now
    expect(r.client.pendingTimers).toBe(0);
    expect(r.clock.pending).toBe(0);
  });

  it('from inside an open listener (nothing is scheduled after it)', async () => {
    const r = rig({ upgradeProbeMs: 5000 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.lifecycle.on('open', () => r.client.close());
    r.client.connect();
    await vi.waitFor(() => expect(r.client.state).toBe('closed'), { timeout: 3000 });
    await settle(100);
    expect(r.client.pendingTimers).toBe(0);
    expect(r.clock.pending).toBe(0);
  });

  it('while an upgrade probe is in flight', async () => {
    const r = rig({ upgradeProbeMs: 1000 });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    r.fake.behaviour.websocket = 'silent';
    await r.clock.advance(1000);
    await vi.waitFor(() => expect(r.fake.handshakesOf('websocket')).toHaveLength(2));
    await expectFullyClosed(r);
  });

  it('while long-polling, with a poll outstanding', async () => {
    const r = rig({ transports: ['polling'] });
    r.client.connect();
    await waitOpen(r);
    await settle(30);
    await expectFullyClosed(r);
  });

  it('while connecting (open timeout pending)', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'silent';
    r.client.connect();
    await vi.waitFor(() => expect(r.fake.handshakes).toHaveLength(1));
    await expectFullyClosed(r);
  });

  it('while waiting to retry', async () => {
    const r = rig({ transports: ['polling'] });
    r.fake.behaviour.polling = 'refuse';
    r.client.connect();
    await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(1));
    await expectFullyClosed(r);
  });

  it('while the auth provider is still answering', async () => {
    let release!: (v: { token: string }) => void;
    const r = rig({ auth: () => new Promise((resolve) => (release = resolve)) });
    r.client.connect();
    await settle();
    r.client.close();
    release({ token: 'late' });
    await settle(30);
    expect(r.fake.handshakes).toHaveLength(0);
    expect(r.client.pendingTimers).toBe(0);
  });

  it('keeps unacknowledged emits for a later connect(); rejects new ones while closed', async () => {
    const r = rig({ transports: ['websocket'] });
    r.fake.behaviour.websocket = 'silent';
    r.client.connect();
    r.client.emit('say', 'kept');
    r.client.close();
    expect(() => r.client.emit('say', 'refused')).toThrow(expect.objectContaining({ code: 'closed' }));
    await expect(r.client.request('echo', 1)).rejects.toMatchObject({ code: 'closed' });
    r.fake.behaviour.websocket = 'ok';
    r.client.connect();
    await waitOpen(r);
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['kept']));
  });

  it('is safe to call twice and from inside a listener', async () => {
    const r = rig();
    r.client.on('n', () => r.client.close());
    r.client.connect();
    await waitOpen(r);
    r.fake.push('n', 1);
    r.fake.push('n', 2);
    await vi.waitFor(() => expect(r.client.state).toBe('closed'));
    r.client.close();
    await settle(30);
    expect(r.messages).toEqual([['n', 1]]);
    expect(r.client.pendingTimers).toBe(0);
  });
});
