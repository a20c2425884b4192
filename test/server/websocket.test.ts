import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, isType, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

describe('WebSocket transport', () => {
  it('handshakes a new session with a full welcome', async () => {
    const s = await startServer({ maxFrameBytes: 4096 });
    const seen: string[] = [];
    s.rt.on('connection', (session) => seen.push(session.id));
    const c = await WsClient.open(s.base);
    const w = await c.welcome();
    expect(w).toMatchObject({ t: 'welcome', resumed: false, ack: 0, hb: 1000, maxFrame: 4096 });
    expect(w.resumeFailed).toBeUndefined();
    expect(Buffer.from(w.sid, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(w.secret).not.toBe(w.sid);
    expect(seen).toEqual([w.sid]);
    expect(s.rt.sessions).toBe(1);
    expect(s.rt.session(w.sid)?.transport).toBe('websocket');
  });

  it('sends the frames of one turn as one message holding a JSON array, a lone frame as itself', async () => {
    const s = await startServer();
    const sessions: import('../../src/server').Session[] = [];
    s.rt.on('connection', (session) => sessions.push(session));
    const c = await WsClient.open(s.base);
    await c.welcome();
    for (let n = 1; n <= 4; n++) sessions[0]!.emit('n', n);
    await c.frames.next((f) => f.t === 'msg' && f.id === 4);
    sessions[0]!.emit('n', 5);
    await c.frames.next((f) => f.t === 'msg' && f.id === 5);
    const msgs = c.raw.filter((r) => r.includes('"t":"msg"'));
    expect(msgs).toHaveLength(2);
    expect(JSON.parse(msgs[0]!).map((f: { id: number }) => f.id)).toEqual([1, 2, 3, 4]);
    expect(JSON.parse(msgs[1]!)).toMatchObject({ t: 'msg', id: 5 });
  });

  it('runs an emit handler once and acks; duplicates are re-acked but not run; gaps are dropped', async () => {
    const s = await startServer();
    const got: unknown[] = [];
    s.rt.on('connection', (session) => session.on('say', (d) => void got.push(d)));
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'emit', seq: 1, e: 'say', d: 'a' });
    c.send({ t: 'emit', seq: 2, e: 'say', d: 'b' });
    expect(await c.frames.next(isType('ack'))).toEqual({ t: 'ack', n: 2 });
    c.send({ t: 'emit', seq: 2, e: 'say', d: 'b-dup' });
    c.send({ t: 'emit', seq: 4, e: 'say', d: 'gap' });
    expect(await c.frames.next(isType('ack'))).toEqual({ t: 'ack', n: 2 });
    expect(got).toEqual(['a', 'b']);
  });

  it('answers an echo frame with an echo on the same socket, unacknowledged and unsequenced', async () => {
    const s = await startServer();
    const sessions: import('../../src/server').Session[] = [];
    s.rt.on('connection', (session) => sessions.push(session));
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'echo', n: 4 });
    expect(await c.frames.next()).toEqual({ t: 'echo', n: 4 });
    sessions[0]!.emit('n', 1);
    expect(await c.frames.next()).toEqual({ t: 'msg', id: 1, e: 'n', d: 1 });
  });

  it('answers requests with sequenced replies, errors included', async () => {
    const s = await startServer();
    s.rt.on('connection', (session) => {
      session.on('echo', (d, reply) => reply(d));
      session.on('boom', () => {
        throw new Error('kaput');
      });
      session.on('nope', (_d, reply) => reply(undefined, { code: 'denied', message: 'no' }));
      session.emit('hello', { n: 1 });
    });
    const c = await WsClient.open(s.base);
    await c.welcome();
    expect(await c.frames.next(isType('msg'))).toEqual({ t: 'msg', id: 1, e: 'hello', d: { n: 1 } });
    c.send({ t: 'req', seq: 1, e: 'echo', d: [1, 2] });
    c.send({ t: 'req', seq: 2, e: 'boom' });
    c.send({ t: 'req', seq: 3, e: 'nope' });
    c.send({ t: 'req', seq: 4, e: 'missing' });
    expect(await c.frames.next(isType('reply'))).toEqual({ t: 'reply', id: 2, re: 1, d: [1, 2] });
    expect(await c.frames.next(isType('reply'))).toEqual({ t: 'reply', id: 3, re: 2, err: { code: 'server_error', message: 'kaput' } });
    expect(await c.frames.next(isType('reply'))).toEqual({ t: 'reply', id: 4, re: 3, err: { code: 'denied', message: 'no' } });
    expect(await c.frames.next(isType('reply'))).toMatchObject({ id: 5, re: 4, err: { code: 'no_handler' } });
    expect(s.logger.errors.length).toBe(1); // the throwing handler was logged, not fatal
  });

  it('sends error frames for malformed and unknown frames while other clients keep working', async () => {
    const s = await startServer();
    s.rt.on('connection', (session) => session.on('echo', (d, reply) => reply(d)));
    const bad = await WsClient.open(s.base);
    const good = await WsClient.open(s.base);
    await Promise.all([bad.welcome(), good.welcome()]);
    bad.ws.send('{not json');
    bad.send({ t: 'launch', x: 1 });
    bad.send({ t: 'emit', seq: 0, e: 'x' });
    expect(await bad.frames.next(isType('error'))).toMatchObject({ code: 'malformed_frame' });
    expect(await bad.frames.next(isType('error'))).toMatchObject({ code: 'unknown_frame' });
    expect(await bad.frames.next(isType('error'))).toMatchObject({ code: 'malformed_frame' });
    good.send({ t: 'req', seq: 1, e: 'echo', d: 'ok' });
    expect(await good.frames.next(isType('reply'))).toMatchObject({ re: 1, d: 'ok' });
    bad.send({ t: 'req', seq: 1, e: 'echo', d: 'still here' });
    expect(await bad.frames.next(isType('reply'))).toMatchObject({ re: 1, d: 'still here' });
  });

  it('refuses an oversize frame with frame_too_large and close 1009', async () => {
    const s = await startServer({ maxFrameBytes: 1000 });
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'emit', seq: 1, e: 'big', d: 'x'.repeat(1500) });
    expect(await c.frames.next(isType('error'))).toMatchObject({ code: 'frame_too_large' });
    expect((await c.closed).code).toBe(1009);
    const huge = await WsClient.open(s.base);
    await huge.welcome();
    huge.send({ t: 'emit', seq: 1, e: 'big', d: 'x'.repeat(5000) });
    expect((await huge.closed).code).toBe(1009); // refused by ws itself, beyond 2 × maxFrame
  });

  it('sends ping frames every heartbeat', async () => {
    const s = await startServer({ heartbeatMs: 50 });
    const c = await WsClient.open(s.base);
    await c.welcome();
    await c.frames.next(isType('ping'), 1000);
    await c.frames.next(isType('ping'), 1000);
  });

  it('answers a bad version with bad_request and close 4400', async () => {
    const s = await startServer();
    const c = await WsClient.open(s.base, { v: 2 });
    expect(await c.frames.next()).toMatchObject({ t: 'error', code: 'bad_request', status: 400 });
    expect((await c.closed).code).toBe(4400);
    expect(s.rt.sessions).toBe(0);
  });
});

describe('WebSocket liveness', () => {
  it('terminates a peer that stops answering WebSocket pings; the session waits for a resume', async () => {
    const s = await startServer({ heartbeatMs: 50 });
    const transports: (string | null)[] = [];
    s.rt.on('transport', (_session, t) => transports.push(t));
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${s.base.replace('http', 'ws')}/ws?v=1`, { autoPong: false });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    expect(await closed).toBe(1006); // terminated, no closing handshake
    expect(s.rt.sessions).toBe(1);
    await waitFor(() => transports.length === 2);
    expect(transports).toEqual(['websocket', null]);
  });
});
