import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/server';
import type { WelcomeFrame } from '../../src/protocol/frames';
import { closeAll, isType, poll, post, SseClient, startServer, waitFor } from './helpers';

afterEach(closeAll);

async function setup(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  const sessions: Session[] = [];
  const said: unknown[] = [];
  s.rt.on('connection', (session) => {
    sessions.push(session);
    session.on('say', (d) => void said.push(d));
    session.on('echo', (d, reply) => reply(d));
  });
  return { s, sessions, said };
}

describe('SSE transport', () => {
  it('writes a long burst of one turn as several events, each far below a reader\'s 1 MiB limit, in order', async () => {
    const { s, sessions } = await setup({ replayBufferMaxMessages: 50_000, replayBufferMaxBytes: 64 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024 });
    const sse = SseClient.open(s.base);
    await sse.welcome();
    const payload = 'x'.repeat(90);
    for (let i = 1; i <= 20_000; i++) sessions[0]!.emit('n', payload); // one synchronous loop: one turn
    await waitFor(() => sse.batches.reduce((n, b) => n + b.count, 0) >= 20_000, 10_000, 'every frame');
    const longest = Math.max(...sse.text.split('\n').map((line) => line.length));
    expect(longest).toBeLessThan(300 * 1024);
    expect(sse.batches.length).toBeGreaterThan(5);
    expect(sse.batches.at(-1)?.id).toBe('20000');
    const ids: number[] = [];
    for (let i = 0; i < 20_000; i++) ids.push(Number((await sse.next(isType('msg'))).id));
    expect(ids).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    sse.close();
  });

  it('sends the documented headers, retry first, id lines on sequenced frames only', async () => {
    const { s, sessions } = await setup({ sseRetryMs: 1234 });
    const sse = SseClient.open(s.base);
    const w = await sse.welcome();
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    // no-transform: a proxy or compression layer must not rewrite (and so hold) the stream.
    expect(sse.headers['cache-control']).toBe('no-cache, no-transform');
    expect(sse.headers['x-accel-buffering']).toBe('no');
    expect(sse.text.startsWith('retry: 1234\n\n')).toBe(true);
    sessions[0]!.emit('news', 'x');
    const m = await sse.next(isType('msg'));
    expect(m.id).toBe('1');
    expect(sse.events.all[0]!.id).toBeUndefined(); // the welcome has no id line
    expect(w.resumed).toBe(false);
  });

  it('sends the frames of one turn as one event whose id names the last of them', async () => {
    const { s, sessions } = await setup();
    const sse = SseClient.open(s.base);
    await sse.welcome();
    for (let n = 1; n <= 5; n++) sessions[0]!.emit('n', n);
    await sse.next((f) => f.t === 'msg' && f.id === 5);
    expect(sse.batches).toEqual([{ id: '5', count: 5 }]);
    expect(sse.text).toContain('id: 5\ndata: [{"t":"msg","id":1');
  });

  it('sends ping frames and comment lines every heartbeat', async () => {
    const { s } = await setup({ heartbeatMs: 50 });
    const sse = SseClient.open(s.base);
    await sse.welcome();
    const p = await sse.next(isType('ping'), 1000);
    expect(p.id).toBeUndefined();
    expect(sse.text).toContain(': hb\n\n');
  });

  it('takes upstream frames by POST and acknowledges them in the response', async () => {
    const { s, said, sessions } = await setup();
    const sse = SseClient.open(s.base);
    const w = await sse.welcome();
    const q = { sid: w.sid, secret: w.secret, cid: w.cid };
    const r = await post(s.base, q, [{ t: 'emit', seq: 1, e: 'say', d: 1 }, { t: 'req', seq: 2, e: 'echo', d: 'hi' }]);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.frames).toEqual([{ t: 'ack', n: 2 }]);
    expect((await sse.next(isType('reply'))).frame).toEqual({ t: 'reply', id: 1, re: 2, d: 'hi' });
    const dup = await post(s.base, q, [{ t: 'emit', seq: 1, e: 'say', d: 'again' }, { t: 'ack', id: 1 }]);
    expect(dup.frames).toEqual([{ t: 'ack', n: 2 }]);
    expect(said).toEqual([1]);
    // the ack emptied the replay buffer: resuming from 0 is now an overrun
    sse.close();
    await waitFor(() => sessions[0]!.transport === null);
    const again = SseClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await again.welcome()).toMatchObject({ resumeFailed: 'overrun' });
  });

  it('answers a POSTed echo on the stream: unsequenced, no id line, not replayed; the welcome announces it', async () => {
    const { s, sessions } = await setup();
    const sse = SseClient.open(s.base);
    const w = await sse.welcome();
    expect(w.echo).toBe(true);
    const q = { sid: w.sid, secret: w.secret, cid: w.cid };
    const r = await post(s.base, q, [{ t: 'echo', n: 7 }, { t: 'emit', seq: 1, e: 'say', d: 1 }]);
    expect(r.frames).toEqual([{ t: 'ack', n: 1 }]); // the echo goes on the stream, not in the answer
    const e = await sse.next(isType('echo'));
    expect(e.frame).toEqual({ t: 'echo', n: 7 });
    expect(e.id).toBeUndefined();
    sessions[0]!.emit('n', 1);
    expect((await sse.next(isType('msg'))).frame).toEqual({ t: 'msg', id: 1, e: 'n', d: 1 }); // echo took no id
    sse.close();
    await waitFor(() => sessions[0]!.transport === null);
    const again = SseClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await again.welcome()).toMatchObject({ resumed: true });
    await again.next(isType('msg'));
    expect(again.events.all.map((ev) => ev.frame.t)).toEqual(['welcome', 'msg']);
  });

  it('resumes from the Last-Event-ID header when last is absent', async () => {
    const { s, sessions } = await setup();
    const a = SseClient.open(s.base);
    const w = await a.welcome();
    for (let i = 1; i <= 3; i++) sessions[0]!.emit('n', i);
    await a.next((f) => f.t === 'msg' && f.id === 3);
    a.close();
    await waitFor(() => sessions[0]!.transport === null);
    const b = SseClient.open(s.base, { sid: w.sid, secret: w.secret }, { 'Last-Event-ID': '2' });
    expect(await b.welcome()).toMatchObject({ resumed: true });
    const m = await b.next(isType('msg'));
    expect([m.id, m.frame]).toEqual(['3', { t: 'msg', id: 3, e: 'n', d: 3 }]);
  });

  it('reports a bad version in-band and ends the stream', async () => {
    const { s } = await setup();
    const sse = SseClient.open(s.base, { v: 9 });
    expect((await sse.next()).frame).toMatchObject({ t: 'error', code: 'bad_request', status: 400 });
    await sse.ended;
    expect(s.rt.sessions).toBe(0);
  });
});

describe('long-polling transport', () => {
  it('answers the handshake poll at once, holds later polls and answers ping on timeout', async () => {
    const { s } = await setup({ heartbeatMs: 150 });
    const hs = await poll(s.base, { v: 1 });
    expect(hs.status).toBe(200);
    expect(hs.headers.get('cache-control')).toBe('no-store');
    const w = hs.frames[0] as WelcomeFrame;
    expect(w).toMatchObject({ t: 'welcome', resumed: false, hb: 150 });
    const t0 = Date.now();
    const p = await poll(s.base, { sid: w.sid, secret: w.secret, cid: w.cid, last: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(120);
    expect(p.frames).toEqual([{ t: 'ping' }]);
  });

  it('answers a held poll as soon as frames exist, batching a burst', async () => {
    const { s, sessions } = await setup({ heartbeatMs: 5000 });
    const hs = await poll(s.base, { v: 1 });
    const w = hs.frames[0] as WelcomeFrame;
    const held = poll(s.base, { sid: w.sid, secret: w.secret, cid: w.cid, last: 0 });
    await new Promise((r) => setTimeout(r, 50));
    sessions[0]!.emit('a', 1);
    sessions[0]!.emit('b', 2);
    expect((await held).frames).toEqual([
      { t: 'msg', id: 1, e: 'a', d: 1 },
      { t: 'msg', id: 2, e: 'b', d: 2 },
    ]);
  });

  it('answers an older concurrent poll with poll_replaced', async () => {
    const { s, sessions } = await setup({ heartbeatMs: 5000 });
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const q = { sid: w.sid, secret: w.secret, cid: w.cid, last: 0 };
    const first = poll(s.base, q);
    await new Promise((r) => setTimeout(r, 50));
    const second = poll(s.base, q);
    expect((await first).frames).toMatchObject([{ t: 'error', code: 'poll_replaced' }]);
    sessions[0]!.emit('x');
    expect((await second).frames).toEqual([{ t: 'msg', id: 1, e: 'x' }]);
  });

  it('acknowledges through last and replays unacknowledged frames on a resume', async () => {
    const { s, sessions } = await setup({ heartbeatMs: 100 });
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    for (let i = 1; i <= 3; i++) sessions[0]!.emit('n', i);
    const q = { sid: w.sid, secret: w.secret, cid: w.cid };
    expect((await poll(s.base, { ...q, last: 0 })).frames.map((f) => f.t)).toEqual(['msg', 'msg', 'msg']);
    await poll(s.base, { ...q, last: 2 }); // acks 1..2, times out with a ping
    const hs = await poll(s.base, { v: 1, sid: w.sid, secret: w.secret, last: 1 });
    expect(hs.frames[0]).toMatchObject({ resumeFailed: 'overrun' }); // 2 was acknowledged and dropped
    const hs2 = await poll(s.base, { v: 1, sid: w.sid, secret: w.secret, last: 2 });
    expect(hs2.frames.slice(0, 2)).toMatchObject([{ t: 'welcome', resumed: true }, { t: 'msg', id: 3 }]);
  });

  it('answers a POSTed echo in the next poll answer (the session\'s active connection)', async () => {
    const { s } = await setup({ heartbeatMs: 5000 });
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const q = { sid: w.sid, secret: w.secret, cid: w.cid };
    const held = poll(s.base, { ...q, last: 0 });
    await new Promise((r) => setTimeout(r, 50));
    expect((await post(s.base, q, [{ t: 'echo', n: 2 }])).frames).toEqual([{ t: 'ack', n: 0 }]);
    expect((await held).frames).toEqual([{ t: 'echo', n: 2 }]);
  });

  it('treats a connection with no poll for 2 × hb as dropped (grace starts)', async () => {
    const { s, sessions } = await setup({ heartbeatMs: 60 });
    await poll(s.base, { v: 1 });
    expect(sessions[0]!.transport).toBe('polling');
    await waitFor(() => sessions[0]!.transport === null, 2000, 'poll liveness');
  });

  it('answers 410 for a poll on an unknown connection and 400 for a bad version', async () => {
    const { s } = await setup();
    expect((await poll(s.base, { sid: 'x', secret: 'y', cid: 'z', last: 0 })).status).toBe(410);
    const bad = await poll(s.base, { v: 0 });
    expect(bad.status).toBe(400);
    expect(bad.frames).toMatchObject([{ t: 'error', code: 'bad_request', status: 400 }]);
  });
});

describe('upstream POST', () => {
  it('answers 400 for malformed bodies, 413 for oversize frames, 410 for inactive connections', async () => {
    const { s } = await setup({ maxFrameBytes: 200 });
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const q = { sid: w.sid, secret: w.secret, cid: w.cid };
    const malformed = await post(s.base, q, '[{"t":"emit"');
    expect(malformed.status).toBe(400);
    expect(malformed.frames).toMatchObject([{ t: 'error', code: 'bad_request', status: 400 }]);
    expect((await post(s.base, q, '{"t":"emit","seq":1,"e":"x"}')).status).toBe(400);
    expect((await post(s.base, q, '[{"t":"nope"}]')).status).toBe(400);
    const big = await post(s.base, q, [{ t: 'emit', seq: 1, e: 'x', d: 'y'.repeat(300) }]);
    expect(big.status).toBe(413);
    expect(big.frames).toMatchObject([{ t: 'error', code: 'frame_too_large' }]);
    const huge = await post(s.base, q, JSON.stringify([{ t: 'emit', seq: 1, e: 'x', d: 'y'.repeat(2000) }]));
    expect(huge.status).toBe(413);
    expect((await post(s.base, { ...q, cid: 'other' }, [{ t: 'ack', id: 0 }])).status).toBe(410);
    expect((await post(s.base, { ...q, secret: 'wrong' }, [{ t: 'ack', id: 0 }])).status).toBe(410);
    expect((await post(s.base, { ...q, sid: 'gone' }, [{ t: 'ack', id: 0 }])).status).toBe(410);
    expect((await post(s.base, q, [{ t: 'emit', seq: 1, e: 'say' }])).frames).toEqual([{ t: 'ack', n: 1 }]);
  });
});
