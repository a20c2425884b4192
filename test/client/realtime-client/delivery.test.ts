import { describe, expect, it, vi } from 'vitest';
import { RealtimeError } from '../../../src/client/errors';
import { rig, useMsw } from './harness';
import { settle } from './manual-clock';

useMsw();

const waitOpen = (r: { client: { state: string } }) => vi.waitFor(() => expect(r.client.state).toBe('open'), { timeout: 3000 });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('server → client: exactly once, in order', () => {
  it('drops frames a replay repeats', async () => {
    const r = rig();
    r.client.connect();
    await waitOpen(r);
    const frames = range(1, 3).map((i) => r.fake.push('n', i));
    // A replay overlapping what already arrived.
    for (const f of frames) r.fake.sendRaw(f);
    r.fake.push('n', 4);
    await vi.waitFor(() => expect(r.messages.map((m) => m[1])).toEqual([1, 2, 3, 4]));
    await settle(30);
    expect(r.messages).toHaveLength(4);
  });

  it('treats a gap as a broken connection and resumes to fill it', async () => {
    const r = rig({ backoff: { initialMs: 100, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(r.messages).toHaveLength(1));
    // Frame 2 is "lost" in transit: stored for replay, never sent on this connection.
    const s = r.fake.session!;
    const conn = s.conn;
    s.conn = null;
    r.fake.push('n', 2);
    s.conn = conn;
    r.fake.push('n', 3);
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    expect(r.of('transportFailed').at(-1)!.failure).toMatchObject({ kind: 'protocol' });
    expect(r.messages.map((m) => m[1])).toEqual([1]);
    await r.clock.advance(100);
    await vi.waitFor(() => expect(r.messages.map((m) => m[1])).toEqual([1, 2, 3]));
    expect(r.fake.handshakes.at(-1)!.query.get('last')).toBe('1');
  });

  it('acknowledges delivered frames after 32 of them, or a second after the first', async () => {
    const r = rig();
    r.client.connect();
    await waitOpen(r);
    for (const i of range(1, 40)) r.fake.push('n', i);
    await vi.waitFor(() => expect(r.messages).toHaveLength(40));
    await vi.waitFor(() => expect(r.fake.session!.acked).toBe(32));
    await r.clock.advance(999);
    expect(r.fake.session!.acked).toBe(32);
    await r.clock.advance(1);
    await vi.waitFor(() => expect(r.fake.session!.acked).toBe(40));
  });

  it('raises resync when the server cannot resume, and re-sends what was never acknowledged to the new session', async () => {
    const r = rig({ transports: ['websocket'], backoff: { initialMs: 100, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    r.fake.push('n', 1);
    await vi.waitFor(() => expect(r.messages).toHaveLength(1));
    const oldSid = r.client.sessionId;
    // The old session receives this emit but its ack is lost: the client cannot know it arrived.
    const conn = r.fake.session!.conn!;
    const send = conn.send;
    conn.send = (frames) => send(frames.filter((f) => f.t !== 'ack'));
    r.client.emit('say', 'maybe-seen');
    await vi.waitFor(() => expect(r.fake.received).toHaveLength(1));
    r.fake.forgetSessions();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    r.client.emit('say', 'queued'); // accepted while down
    await r.clock.advance(100);
    await waitOpen(r);
    expect(r.of('resync')).toEqual([{ reason: 'unknown_session', previousSessionId: oldSid, sessionId: r.client.sessionId, resent: 1 }]);
    expect(r.client.sessionId).not.toBe(oldSid);
    // Numbering restarts at 1 in the new session; the app gets the new session's first message.
    await vi.waitFor(() =>
      expect(r.fake.received.map((f) => [f.seq, f.d])).toEqual([
        [1, 'maybe-seen'],
        [1, 'maybe-seen'],
        [2, 'queued'],
      ]),
    );
    r.fake.push('n', 'fresh');
    await vi.waitFor(() => expect(r.messages.map((m) => m[1])).toEqual([1, 'fresh']));
  });
});

describe('client → server: outbox', () => {
  it('queues emits while connecting and delivers each once when a transport opens', async () => {
    const r = rig();
    r.fake.behaviour.websocket = 'refuse';
    r.client.emit('say', 'a');
    r.client.emit('say', 'b');
    expect(r.client.queued.messages).toBe(2);
    r.client.connect();
    await waitOpen(r);
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual(['a', 'b']));
    await vi.waitFor(() => expect(r.client.queued.messages).toBe(0));
    expect(r.fake.duplicates).toBe(0);
  });

  it('re-sends unacknowledged emits after a reconnect; the server drops the copies', async () => {
    const r = rig({ transports: ['websocket'], backoff: { initialMs: 100, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    // The server accepts the emits but its acks are lost with the connection.
    const s = r.fake.session!;
    const conn = s.conn!;
    const send = conn.send;
    conn.send = (frames) => send(frames.filter((f) => f.t !== 'ack'));
    for (const i of range(1, 5)) r.client.emit('say', i);
    await vi.waitFor(() => expect(r.fake.received).toHaveLength(5));
    expect(r.client.queued.messages).toBe(5);
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    await r.clock.advance(100);
    await waitOpen(r);
    // The welcome's ack (5) clears the outbox before anything is re-sent.
    await vi.waitFor(() => expect(r.client.queued.messages).toBe(0));
    expect(r.fake.received.map((f) => f.d)).toEqual([1, 2, 3, 4, 5]);
  });

  it('re-sends frames the server never got, in order, and the server sees no gap', async () => {
    const r = rig({ transports: ['websocket'], backoff: { initialMs: 100, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    for (const i of range(1, 5)) r.client.emit('say', i);
    await r.clock.advance(100);
    await waitOpen(r);
    await vi.waitFor(() => expect(r.fake.received.map((f) => [f.seq, f.d])).toEqual(range(1, 5).map((i) => [i, i])));
  });

  it('rejects an emit when the outbox is full, and loses nothing it accepted', async () => {
    const r = rig({ maxQueuedMessages: 3 });
    r.client.emit('say', 1);
    r.client.emit('say', 2);
    r.client.emit('say', 3);
    let error: unknown;
    try {
      r.client.emit('say', 4);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RealtimeError);
    expect((error as RealtimeError).code).toBe('outbox_full');
    r.client.connect();
    await waitOpen(r);
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual([1, 2, 3]));
    r.client.emit('say', 4); // room again once acknowledged
    await vi.waitFor(() => expect(r.fake.received.map((f) => f.d)).toEqual([1, 2, 3, 4]));
  });

  it('bounds the outbox by bytes too', async () => {
    const r = rig({ maxQueuedBytes: 200 });
    r.client.emit('say', 'x'.repeat(100));
    expect(() => r.client.emit('say', 'y'.repeat(100))).toThrow(expect.objectContaining({ code: 'outbox_full' }));
    expect(r.client.queued.messages).toBe(1);
  });

  it('drops an emit whose time-to-live ran out before it could be sent, and says so', async () => {
    const r = rig({ backoff: { initialMs: 5000, jitter: 0 } });
    r.fake.behaviour = { websocket: 'refuse', sse: 'refuse', polling: 'refuse' };
    r.client.emit('say', 'short-lived', { ttlMs: 1000 });
    r.client.emit('say', 'durable');
    r.client.connect();
    await vi.waitFor(() => expect(r.of('reconnecting')).toHaveLength(1)); // the walk failed: a retry in 5 s
    r.fake.behaviour.websocket = 'ok';
    await r.clock.advance(5000);
    await waitOpen(r);
    await vi.waitFor(() => expect(r.fake.received.map((f) => [f.seq, f.d])).toEqual([[1, 'durable']]));
    // The failed walk is reported once (issue 13), then the emit that expired.
    expect(r.of('error').map((e) => e.code)).toEqual(['transport_failed', 'expired']);
  });

  it('refuses bad input with a typed error and accepts nothing of it', () => {
    const r = rig();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => r.client.emit('', 1)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => r.client.emit('say', circular)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => r.client.emit('say', 10n)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => r.client.emit('say', 'x'.repeat(2 * 1024 * 1024))).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
    expect(() => r.client.emit('say', 1, { ttlMs: -1 })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(r.client.queued).toEqual({ messages: 0, bytes: 0 });
  });
});

describe('requests', () => {
  it('resolves with the reply, also when the reply arrives after a reconnect', async () => {
    const r = rig({ transports: ['websocket'], backoff: { initialMs: 100, jitter: 0 } });
    r.client.connect();
    await waitOpen(r);
    await expect(r.client.request('echo', { a: 1 })).resolves.toEqual({ a: 1 });
    // Sent while down: delivered and answered after the reconnect.
    r.fake.drop();
    await vi.waitFor(() => expect(r.client.state).toBe('reconnecting'));
    const answer = r.client.request('echo', 'later');
    await r.clock.advance(100);
    await expect(answer).resolves.toBe('later');
  });

  it('rejects with timeout when no reply comes', async () => {
    const r = rig();
    r.fake.replies = false;
    r.client.connect();
    await waitOpen(r);
    const pending = r.client.request('echo', 1, { timeout: 2000 });
    const outcome = pending.then(() => 'resolved', (e: RealtimeError) => e.code);
    await r.clock.advance(1999);
    await r.clock.advance(1);
    expect(await outcome).toBe('timeout');
  });

  it('rejects with server_error when the server answers with an error', async () => {
    const r = rig();
    r.client.connect();
    await waitOpen(r);
    r.fake.onRequest = () => undefined;
    r.fake.replies = false;
    const pending = r.client.request('boom', 1);
    await vi.waitFor(() => expect(r.fake.received).toHaveLength(1));
    const s = r.fake.session!;
    const reply = { t: 'reply' as const, id: s.out.length + 1, re: 1, err: { code: 'server_error', message: 'handler threw' } };
    s.out.push(reply);
    r.fake.sendRaw(reply);
    await expect(pending).rejects.toMatchObject({ code: 'server_error' });
  });
});
