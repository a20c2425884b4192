import { describe, expect, it, vi } from 'vitest';
import { rig, useMsw } from './harness';
import { settle } from './manual-clock';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });

describe('fallback walk', () => {
  it('opens on WebSocket when it works, and delivers both ways', async () => {
    const r = rig();
    r.client.connect();
    expect(r.client.state).toBe('connecting');
    await waitOpen(r);
    expect(r.client.transport).toBe('websocket');
    expect(r.of('transport')).toEqual([{ transport: 'websocket', previous: null, reason: 'connect' }]);
    r.fake.push('n', 1);
    r.fake.push('n', 2);
    r.client.emit('say', 'hi');
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 1], ['n', 2]]));
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['hi']));
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket']);
  });

  it('hands over from a refused WebSocket to SSE at once, without backoff', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'sse']);
    // A step within the walk, not a retry.
    expect(r.of('reconnecting')).toEqual([]);
    expect(r.of('fallback')).toEqual([{ from: 'websocket', to: 'sse', reason: expect.stringMatching(/^websocket failed: /) }]);
    expect(r.of('transport')).toEqual([{ transport: 'sse', previous: null, reason: 'fallback' }]);
    expect(r.of('transportFailed')[0]).toMatchObject({ transport: 'websocket', opened: false });
    // Upstream goes by POST on SSE.
    r.client.emit('say', 'over sse');
    r.fake.push('n', 'down sse');
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['over sse']));
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 'down sse']]));
  });

  it('moves a busy SSE stream that a proxy buffers to polling at once, resuming the session: every message once, in order', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    const sid = r.client.sessionId;
    // From here a proxy holds the stream and lets it out every 1.5 s, while the server sends 50 messages/s.
    r.fake.bufferSse = true;
    const start = r.clock.now();
    let sent = 0;
    let switchedAt: number | undefined;
    for (let t = 20; t <= 12_000; t += 20) {
      r.fake.push('n', ++sent);
      if (t % 1500 === 0) r.fake.releaseSse();
      await r.clock.advance(20);
      if (switchedAt === undefined && r.client.transport === 'polling') switchedAt = r.clock.now() - start;
      if (switchedAt !== undefined && t >= switchedAt + 1000) break; // a second of traffic on polling
    }
    r.fake.releaseSse(); // what the proxy still held reaches a stream the client has already left
    await vi.waitFor(() => expect(r.messages).toHaveLength(sent), { timeout: 5000 });
    expect(r.messages).toEqual(Array.from({ length: sent }, (_, i) => ['n', i + 1]));
    // Two strikes: the first burst (1.5 s) starts a check whose echo comes with the next burst (3 s), where the
    // second check starts; its echo is still held 1 s after its POST was answered.
    expect(switchedAt).toBeGreaterThanOrEqual(4000);
    expect(switchedAt).toBeLessThanOrEqual(4300);
    const failed = r.of('transportFailed').filter((f) => f.transport === 'sse');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ opened: true, probe: false, failure: { kind: 'buffered' } });
    expect(failed[0]!.failure.message).toMatch(/^stream held echoes back 1\d{3} ms and over 1\d{3} ms \(still held\)/);
    expect(r.of('transport').map((e) => [e.transport, e.reason])).toEqual([
      ['sse', 'fallback'],
      ['polling', 'fallback'],
    ]);
    // The same session, resumed: polling handshook with sid, secret and the last id delivered; nothing resynced.
    const hs = r.fake.handshakesOf('polling');
    expect(hs).toHaveLength(1);
    expect(hs[0]!.query.get('sid')).toBe(sid);
    expect(Number(hs[0]!.query.get('last'))).toBeGreaterThan(0);
    expect(r.client.sessionId).toBe(sid);
    expect(r.of('resync')).toEqual([]);
    expect(r.of('fallback').at(-1)).toMatchObject({ from: 'sse', to: 'polling' });
  });

  it('keeps a buffered SSE stream when no transport follows it: no echo is sent', async () => {
    const r = rig({ transports: ['websocket', 'sse'] });
    r.fake.behaviour.websocket = 'refuse';
    r.client.connect();
    await waitOpen(r);
    const echoes = vi.fn();
    r.fake.onEcho = echoes;
    r.fake.bufferSse = true;
    let sent = 0;
    for (let t = 20; t <= 6000; t += 20) {
      r.fake.push('n', ++sent);
      if (t % 1500 === 0) r.fake.releaseSse();
      await r.clock.advance(20);
    }
    r.fake.releaseSse();
    await vi.waitFor(() => expect(r.messages).toHaveLength(sent), { timeout: 5000 });
    expect(r.client.transport).toBe('sse');
    expect(r.of('transportFailed').filter((f) => f.transport === 'sse')).toEqual([]);
    expect(echoes).not.toHaveBeenCalled();
  });

  it('starts polling alongside an SSE stream that has not delivered its welcome after the head start (1 s), and keeps polling', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'refuse';
    r.fake.behaviour.sse = 'silent';
    r.client.connect();
    await vi.waitFor(() => expect(r.fake.handshakesOf('sse')).toHaveLength(1));
    await settle(30);
    await r.clock.advance(999);
    expect(r.fake.handshakesOf('polling')).toHaveLength(0);
    await r.clock.advance(1);
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(r.of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['websocket→sse', 'sse→polling']);
    expect(r.of('fallback')[1]!.reason).toBe('sse has not answered in 1000 ms; polling starts alongside it');
    // The silent SSE attempt lost the race: closed, not failed, and its open timeout never fires.
    expect(r.of('transportFailed').map((f) => f.transport)).toEqual(['websocket']);
    await r.clock.advance(10_000);
    expect(r.of('transportFailed').map((f) => f.transport)).toEqual(['websocket']);
    expect(r.client.transport).toBe('polling');
    r.fake.push('n', 'polled');
    r.client.emit('say', 'posted');
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 'polled']]));
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['posted']));
  });

  it('with raceAfterMs 0, treats an SSE stream that never delivers its welcome as failed after its open timeout, then polls', async () => {
    const r = rig({ raceAfterMs: 0 });
    r.fake.behaviour.websocket = 'refuse';
    r.fake.behaviour.sse = 'silent';
    r.client.connect();
    await vi.waitFor(() => expect(r.fake.handshakesOf('sse')).toHaveLength(1));
    await settle(30);
    expect(r.client.state).toBe('connecting');
    await r.clock.advance(4999);
    expect(r.fake.handshakesOf('polling')).toHaveLength(0);
    await r.clock.advance(1);
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(r.of('transportFailed').map((f) => [f.transport, f.failure.message])).toEqual([
      ['websocket', expect.any(String)],
      ['sse', 'no welcome frame within 5000 ms'],
    ]);
    r.fake.push('n', 'polled');
    r.client.emit('say', 'posted');
    await vi.waitFor(() => expect(r.messages).toEqual([['n', 'polled']]));
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['posted']));
  });

  it('backs off after every transport failed, then walks again from the top', async () => {
    const r = rig({ backoff: { initialMs: 1000, factor: 2, jitter: 0.5, maxMs: 60000 } });
    r.fake.behaviour = { websocket: 'refuse', sse: 'refuse', polling: 'refuse' };
    r.client.connect();
    await vi.waitFor(() => expect(r.of('reconnecting').length).toBe(1));
    // random() = 0.5 and jitter 0.5: the first round waits 1000 × (0.5 + 0.5 × 0.5) = 750 ms.
    expect(r.of('reconnecting').map((e) => e.delayMs)).toEqual([750]);
    expect(r.of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['websocket→sse', 'sse→polling']);
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'sse', 'polling']);
    await r.clock.advance(749);
    expect(r.fake.handshakes).toHaveLength(3);
    r.fake.behaviour.websocket = 'ok';
    await r.clock.advance(1);
    await waitOpen(r);
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'sse', 'polling', 'websocket']);
  });

  it('grows the delay between rounds exponentially', async () => {
    const r = rig({ backoff: { initialMs: 1000, factor: 2, jitter: 0, maxMs: 60000 }, transports: ['polling'] });
    r.fake.behaviour.polling = 'refuse';
    r.client.connect();
    for (let round = 0; round < 4; round++) {
      await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(round + 1));
      await r.clock.advance(r.of('reconnecting')[round]!.delayMs);
    }
    expect(r.of('reconnecting').map((e) => e.delayMs).slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('reconnects a dropped transport with backoff and resumes the session without loss or repeat', async () => {
    const r = rig({ backoff: { initialMs: 400, factor: 2, jitter: 0.5, maxMs: 60000 } });
    r.client.connect();
    await waitOpen(r);
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(r.messages).toHaveLength(1));
    const sid = r.client.sessionId;
    const secret = r.fake.session!.secret;
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    expect(r.of('reconnecting').at(-1)).toMatchObject({ attempt: 1, delayMs: 300, transport: 'websocket' });
    // Sent while the client is away: kept by the server for replay.
    r.fake.push('n', 2);
    r.fake.push('n', 3);
    await r.clock.advance(300);
    await waitOpen(r);
    const resume = r.fake.handshakes.at(-1)!.query;
    expect([resume.get('sid'), resume.get('last')]).toEqual([sid, '1']);
    expect(resume.get('secret')).toBe(secret);
    expect(r.fake.session!.secret).not.toBe(secret); // the resume's welcome carried a fresh one
    await vi.waitFor(() => expect(r.messages.map((m) => m[1])).toEqual([1, 2, 3]));
    expect(r.client.sessionId).toBe(sid);
    expect(r.of('resync')).toEqual([]);
  });

  it('steps down after a transport that worked fails to reopen retriesPerTransport times', async () => {
    const r = rig({ retriesPerTransport: 2, backoff: { initialMs: 100, factor: 2, jitter: 0, maxMs: 60000 } });
    r.client.connect();
    await waitOpen(r);
    r.fake.behaviour.websocket = 'refuse';
    r.fake.drop();
    // Drop → reopen after 100 ms fails → after 200 ms fails: two failed reopens, so SSE at once.
    for (const delay of [100, 200]) {
      await vi.waitFor(() => expect(r.of('reconnecting').at(-1)?.delayMs).toBe(delay));
      await r.clock.advance(delay);
    }
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['websocket', 'websocket', 'websocket', 'sse']);
    expect(r.of('reconnecting').map((e) => e.delayMs)).toEqual([100, 200]);
    expect(r.of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['websocket→sse']);
    expect(r.of('transport').at(-1)).toEqual({ transport: 'sse', previous: 'websocket', reason: 'fallback' });
  });

  it('leaves a transport that had worked at once when its reopen is never answered (SSE behind a proxy that starts buffering)', async () => {
    const r = rig({ transports: ['sse', 'polling'], retriesPerTransport: 3, backoff: { initialMs: 100, factor: 2, jitter: 0, maxMs: 60000 } });
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('sse');
    r.fake.behaviour.sse = 'silent';
    r.fake.drop();
    await vi.waitFor(() => expect(r.of('reconnecting').at(-1)?.delayMs).toBe(100));
    await r.clock.advance(100);
    await vi.waitFor(() => expect(r.fake.handshakesOf('sse')).toHaveLength(2));
    // One open timeout (5 s), not retriesPerTransport of them, before polling.
    await r.clock.advance(5000);
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(r.fake.handshakesOf('sse')).toHaveLength(2);
    expect(r.of('reconnecting').map((e) => e.delayMs)).toEqual([100]);
    expect(r.of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['sse→polling']);
  });

  it('restricts and orders transports with options.transports', async () => {
    const r = rig({ transports: ['polling', 'websocket'] });
    r.client.connect();
    await waitOpen(r);
    expect(r.client.transport).toBe('polling');
    expect(r.fake.handshakes.map((h) => h.transport)).toEqual(['polling']);
  });
});

describe('a failed walk is reported', () => {
  it('once per walk, as transport_failed naming each transport and the delay before the next walk', async () => {
    const r = rig({ backoff: { initialMs: 2000, jitter: 0 } });
    r.fake.behaviour = { websocket: 'refuse', sse: { status: 500 }, polling: { status: 502 } };
    r.client.connect();
    await vi.waitFor(() => expect(r.of('error')).toHaveLength(1));
    const [first] = r.of('error');
    expect(first?.code).toBe('transport_failed');
    expect(first?.message).toMatch(/^every transport failed \(websocket: .+; sse: .*500.*; polling: .*502.*\); retrying in 2000 ms$/);
    // The walk's delay, once: its two steps are fallbacks, not retries.
    expect(r.of('reconnecting').map((e) => [e.attempt, e.delayMs])).toEqual([[1, 2000]]);
    expect(r.of('fallback')).toHaveLength(2);
    await r.clock.advance(2000);
    await vi.waitFor(() => expect(r.of('error')).toHaveLength(2)); // the second walk, reported on its own
    expect(r.of('error')[1]?.message).toContain('retrying in 4000 ms');
    expect(r.of('reconnecting').map((e) => [e.attempt, e.delayMs])).toEqual([[1, 2000], [2, 4000]]);
    r.fake.behaviour = { websocket: 'ok', sse: 'ok', polling: 'ok' };
    await r.clock.advance(4000);
    await waitOpen(r);
    expect(r.of('error')).toHaveLength(2);
    expect(r.client.state).toBe('open');
  });
});
