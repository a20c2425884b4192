// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rig, useMsw } from './harness';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

let online = true;
vi.spyOn(navigator, 'onLine', 'get').mockImplementation(() => online);
let visibility: DocumentVisibilityState = 'visible';
vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);

afterEach(() => {
  online = true;
  visibility = 'visible';
});

describe('offline / online', () => {
  it('burns no retry timer while offline and reconnects at once on `online`', async () => {
    const r = rig({ transports: ['polling'], backoff: { initialMs: 30_000, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    online = false;
    window.dispatchEvent(new Event('offline'));
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    // The drop would normally schedule a 30 s retry; offline, nothing is scheduled at all.
    expect(r.clock.delays()).toEqual([]);
    expect(r.client.pendingTimers).toBe(0);
    await r.clock.advance(120_000);
    expect(r.fake.handshakes).toHaveLength(1);
    online = true;
    window.dispatchEvent(new Event('online'));
    await waitOpen(r);
    expect(r.fake.handshakes).toHaveLength(2);
    expect(r.fake.handshakes[1]!.query.get('sid')).toBe(r.client.sessionId);
  });

  it('going offline cancels a retry already waiting', async () => {
    const r = rig({ transports: ['polling'], backoff: { initialMs: 30_000, jitter: 0 } });
    r.fake.behaviour.polling = 'refuse';
    r.client.connect();
    await vi.waitFor(() => expect(r.clock.delays()).toEqual([30_000]));
    online = false;
    window.dispatchEvent(new Event('offline'));
    expect(r.clock.delays()).toEqual([]);
    r.fake.behaviour.polling = 'ok';
    online = true;
    window.dispatchEvent(new Event('online'));
    await waitOpen(r);
  });

  it('tries once even when the browser says offline at start (it can be wrong), then waits for `online`', async () => {
    online = false;
    const r = rig({ transports: ['polling'], backoff: { initialMs: 30_000, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    expect(r.fake.handshakes).toHaveLength(1);
  });

  it('`online` while open does nothing', async () => {
    const r = rig({ transports: ['polling'] });
    r.client.connect();
    await waitOpen(r);
    window.dispatchEvent(new Event('online'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.fake.handshakes).toHaveLength(1);
  });
});

describe('page visibility', () => {
  it('reconnects at once when the page returns after a silence longer than the heartbeat tolerance', async () => {
    const r = rig({ transports: ['websocket'], heartbeatTolerance: 2 });
    r.fake.hb = 10_000;
    r.client.connect();
    await waitOpen(r);
    visibility = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    // A background tab: the wall clock moves on, throttled timers have not fired.
    r.clock.jump(25_000);
    visibility = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(() => expect(r.fake.handshakes).toHaveLength(2));
    expect(r.of('reconnecting').at(-1)!.delayMs).toBe(0);
    await waitOpen(r);
  });

  it('leaves a connection alone when it was heard from recently', async () => {
    const r = rig({ transports: ['websocket'], heartbeatTolerance: 2 });
    r.fake.hb = 10_000;
    r.client.connect();
    await waitOpen(r);
    r.clock.jump(15_000);
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(r.messages).toHaveLength(1));
    r.clock.jump(15_000);
    document.dispatchEvent(new Event('visibilitychange'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.fake.handshakes).toHaveLength(1);
  });
});

describe('frozen and cached pages', () => {
  it('a frozen page that resumes after a silence longer than the limit reconnects at once (Page Lifecycle resume)', async () => {
    const r = rig({ transports: ['websocket'], heartbeatTolerance: 2 });
    r.fake.hb = 10_000;
    r.client.connect();
    await waitOpen(r);
    document.dispatchEvent(new Event('freeze'));
    r.clock.jump(25_000); // frozen: no timer ran, the wall clock moved on
    document.dispatchEvent(new Event('resume'));
    await vi.waitFor(() => expect(r.fake.handshakes).toHaveLength(2));
    await waitOpen(r);
    expect(r.fake.handshakes[1]!.query.get('sid')).toBe(r.client.sessionId);
  });

  const pageEvent = (type: 'pagehide' | 'pageshow', persisted: boolean) => Object.assign(new Event(type), { persisted });

  for (const transport of ['websocket', 'sse', 'polling'] as const) {
    it(`${transport}: going into the back/forward cache closes the connection; coming back resumes the session at once, nothing lost or repeated`, async () => {
      const r = rig({ transports: [transport] });
      r.client.connect();
      await waitOpen(r);
      const sid = r.client.sessionId;
      r.fake.push('n', 1);
      await vi.waitFor(() => expect(r.messages).toHaveLength(1));

      window.dispatchEvent(pageEvent('pagehide', true));
      expect(r.client.state).toBe('reconnecting');
      // The fake server sees a WebSocket go (the real one every transport: test/scenarios/browser/page-lifecycle).
      if (transport === 'websocket') await vi.waitFor(() => expect(r.fake.session!.conn).toBeNull());
      expect(r.client.pendingTimers).toBe(0); // nothing runs in the cache: no retry, no liveness check, no ack timer
      // While cached, the server goes on, and the page queues an emit.
      r.fake.push('n', 2);
      r.client.emit('say', 'from the cache');
      await r.clock.advance(60_000);
      expect(r.fake.handshakes).toHaveLength(1);

      window.dispatchEvent(pageEvent('pageshow', true));
      await vi.waitFor(() => expect(r.fake.handshakes).toHaveLength(2));
      await waitOpen(r);
      expect(r.of('reconnecting').at(-1)).toMatchObject({ delayMs: 0, reason: 'the page came back from the back/forward cache' });
      expect(r.fake.handshakes[1]!.query.get('sid')).toBe(sid);
      r.fake.push('n', 3);
      await vi.waitFor(() => expect(r.messages.map((m) => m[1])).toEqual([1, 2, 3]));
      await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['from the cache']));
      expect(r.of('resync')).toEqual([]);
      r.client.close();
    });
  }

  it('a page hidden without the cache (an unload) and a first pageshow change nothing', async () => {
    const r = rig({ transports: ['websocket'] });
    r.client.connect();
    await waitOpen(r);
    window.dispatchEvent(pageEvent('pagehide', false));
    window.dispatchEvent(pageEvent('pageshow', false));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.client.state).toBe('open');
    expect(r.fake.handshakes).toHaveLength(1);
    r.client.close();
  });
});

describe('heartbeat', () => {
  it('declares a silent connection dead after heartbeat × tolerance, measured by wall clock', async () => {
    const r = rig({ transports: ['websocket'], heartbeatTolerance: 2.5, backoff: { initialMs: 100, jitter: 0 } });
    r.fake.hb = 1000;
    r.client.connect();
    await waitOpen(r);
    await r.clock.advance(2000);
    r.fake.sendRaw({ t: 'ping' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await r.clock.advance(2000); // 4 s since open, 2 s since the ping: alive
    expect(r.client.state).toBe('open');
    await r.clock.advance(500);
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    expect(r.of('transportFailed').at(-1)!.failure.message).toMatch(/no heartbeat for 2500 ms/);
  });
});

describe('close()', () => {
  it('removes its page listeners', async () => {
    const add = vi.spyOn(window, 'addEventListener');
    const remove = vi.spyOn(window, 'removeEventListener');
    const docRemove = vi.spyOn(document, 'removeEventListener');
    const r = rig({ transports: ['polling'] });
    r.client.connect();
    await waitOpen(r);
    const added = add.mock.calls.filter(([type]) => type === 'online' || type === 'offline').map(([type, fn]) => [type, fn]);
    expect(added).toHaveLength(2);
    r.client.close();
    const removed = remove.mock.calls.map(([type, fn]) => [type, fn]);
    for (const pair of added) expect(removed).toContainEqual(pair);
    expect(docRemove.mock.calls.map(([type]) => type)).toContain('visibilitychange');
    online = false;
    window.dispatchEvent(new Event('online'));
    expect(r.client.state).toBe('closed');
  });
});
