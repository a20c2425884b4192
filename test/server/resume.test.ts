import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus, type Session } from '../../src/server';
import type { MessageFrame, WelcomeFrame } from '../../src/protocol/frames';
import { closeAll, isType, poll, post, SseClient, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

/** A server that keeps the sessions it creates, so tests can emit to them. */
async function setup(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  const sessions: Session[] = [];
  const ended: string[] = [];
  s.rt.on('connection', (session) => {
    sessions.push(session);
    session.on('disconnect', (reason) => ended.push(reason));
    session.on('say', () => {});
  });
  return { s, sessions, ended };
}

const msgIds = (frames: { t: string }[]) => frames.filter((f): f is MessageFrame => f.t === 'msg').map((f) => f.id);

describe('resume', () => {
  it('replays unacknowledged frames after a dropped WebSocket, on WebSocket', async () => {
    const { s, sessions } = await setup();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    for (let i = 0; i < 3; i++) sessions[0]!.emit('n', i);
    await a.frames.next((f) => f.t === 'msg' && f.id === 3);
    a.send({ t: 'ack', id: 1 });
    a.close();
    await a.closed;
    await waitFor(() => sessions[0]!.transport === null, 2000, 'detach');
    sessions[0]!.emit('n', 3); // sent while disconnected: buffered
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 1 });
    const w2 = await b.welcome();
    expect(w2).toMatchObject({ resumed: true, sid: w.sid, ack: 0 });
    expect(w2.cid).not.toBe(w.cid);
    const got = [await b.frames.next(isType('msg')), await b.frames.next(isType('msg')), await b.frames.next(isType('msg'))];
    expect(got.map((f) => [f.id, f.d])).toEqual([[2, 1], [3, 2], [4, 3]]);
    expect(s.rt.sessions).toBe(1);
  });

  it('welcome.ack reports accepted client frames on resume', async () => {
    const { s } = await setup();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    a.send({ t: 'emit', seq: 1, e: 'say' });
    a.send({ t: 'emit', seq: 2, e: 'say' });
    await a.frames.next((f) => f.t === 'ack' && f.n === 2);
    a.close();
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await b.welcome()).toMatchObject({ resumed: true, ack: 2 });
  });

  it('resumes across transports: WebSocket, then SSE, then polling, without loss or repeats', async () => {
    const { s, sessions } = await setup();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    const session = () => sessions[0]!;
    session().emit('n', 1);
    await a.frames.next(isType('msg'));
    a.close();
    await waitFor(() => session().transport === null);
    session().emit('n', 2);

    const sse = SseClient.open(s.base, { sid: w.sid, secret: w.secret, last: 1 });
    expect(await sse.welcome()).toMatchObject({ resumed: true, sid: w.sid });
    expect((await sse.next(isType('msg'))).id).toBe('2');
    expect(session().transport).toBe('sse');
    session().emit('n', 3);
    expect((await sse.next(isType('msg'))).frame).toMatchObject({ id: 3, d: 3 });
    sse.close();
    await sse.ended;
    await waitFor(() => session().transport === null);
    session().emit('n', 4);

    const hs = await poll(s.base, { v: 1, sid: w.sid, secret: w.secret, last: 2 });
    expect(hs.frames[0]).toMatchObject({ t: 'welcome', resumed: true, sid: w.sid });
    expect(msgIds(hs.frames)).toEqual([3, 4]);
    expect(session().transport).toBe('polling');
    expect(sessions.length).toBe(1);
  });

  it('refuses a resume whose frames were dropped from the buffer (overrun) and starts a new session', async () => {
    const { s, sessions } = await setup({ replayBufferMaxMessages: 3 });
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    for (let i = 1; i <= 5; i++) sessions[0]!.emit('n', i);
    await a.frames.next((f) => f.t === 'msg' && f.id === 5);
    a.close();
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 1 });
    const w2 = await b.welcome();
    expect(w2).toMatchObject({ resumed: false, resumeFailed: 'overrun', ack: 0 });
    expect(w2.sid).not.toBe(w.sid);
    // last = 2 is still replayable (3, 4, 5 are held)
    const c = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 2 });
    expect(await c.welcome()).toMatchObject({ resumed: true });
    expect((await c.frames.next(isType('msg'))).id).toBe(3);
  });

  it('also bounds the buffer by bytes', async () => {
    const { s, sessions } = await setup({ replayBufferMaxBytes: 200, maxMessageBytes: 100 }); // the buffer holds a frame of the limit at least
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    for (let i = 1; i <= 5; i++) sessions[0]!.emit('n', 'x'.repeat(60));
    await a.frames.next((f) => f.t === 'msg' && f.id === 5);
    a.close();
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await b.welcome()).toMatchObject({ resumed: false, resumeFailed: 'overrun' });
  });

  it('refuses a wrong secret and an unknown session', async () => {
    const { s } = await setup();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    // Change the last character to a different one (a fixed 'x' would be the right secret 1 time in 64).
    const wrong = w.secret.slice(0, -1) + (w.secret.endsWith('x') ? 'y' : 'x');
    const b = await WsClient.open(s.base, { sid: w.sid, secret: wrong, last: 0 });
    expect(await b.welcome()).toMatchObject({ resumed: false, resumeFailed: 'bad_secret' });
    const c = await WsClient.open(s.base, { sid: 'nope', secret: 'nope', last: 0 });
    expect(await c.welcome()).toMatchObject({ resumed: false, resumeFailed: 'unknown_session' });
    expect(a.ws.readyState).toBe(a.ws.OPEN); // the real owner was not disturbed
  });

  it('expires a session after the grace period: disconnect fires once, resume says expired', async () => {
    const { s, ended } = await setup({ sessionGraceMs: 100 });
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    a.close();
    await waitFor(() => ended.length > 0, 2000, 'disconnect');
    expect(ended).toEqual(['expired']);
    expect(s.rt.sessions).toBe(0);
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await b.welcome()).toMatchObject({ resumed: false, resumeFailed: 'expired' });
    b.close();
    await b.closed;
    expect(ended).toEqual(['expired']);
  });

  it('does not fire disconnect on a transport switch within the grace period', async () => {
    const { s, ended } = await setup({ sessionGraceMs: 300 });
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    a.close();
    await a.closed;
    const sse = SseClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    await sse.welcome();
    await new Promise((r) => setTimeout(r, 400));
    expect(ended).toEqual([]);
    sse.close();
  });

  it('replaces the previous connection: it gets close{replaced} and WebSocket close 4409', async () => {
    const { s } = await setup();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    await b.welcome();
    expect(await a.frames.next(isType('close'))).toEqual({ t: 'close', code: 'replaced' });
    expect((await a.closed).code).toBe(4409);
  });

  it('replaces an SSE stream and a pending poll', async () => {
    const { s } = await setup();
    const sse = SseClient.open(s.base);
    const w = await sse.welcome();
    const hs = await poll(s.base, { v: 1, sid: w.sid, secret: w.secret, last: 0 });
    const pw = hs.frames[0] as WelcomeFrame;
    expect(pw.resumed).toBe(true);
    expect((await sse.next(isType('close'))).frame).toMatchObject({ code: 'replaced' });
    await sse.ended;
    const held = poll(s.base, { sid: w.sid, secret: w.secret, cid: pw.cid, last: 0 });
    await new Promise((r) => setTimeout(r, 50));
    const c = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    await c.welcome();
    expect((await held).frames).toEqual([{ t: 'close', code: 'replaced' }]);
    // the replaced polling connection can no longer post
    expect((await post(s.base, { sid: w.sid, secret: w.secret, cid: pw.cid }, [{ t: 'emit', seq: 1, e: 'say' }])).status).toBe(410);
  });
});

describe('upgrade probe (protocol §6)', () => {
  it('answers a probe without takeover, then takes over and replays on upgrade', async () => {
    const { s, sessions } = await setup();
    const sse = SseClient.open(s.base);
    const w = await sse.welcome();
    sessions[0]!.emit('n', 1);
    sessions[0]!.emit('n', 2);
    await sse.next((f) => f.t === 'msg' && f.id === 2);

    const probe = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 2, probe: 1 });
    const pw = await probe.welcome();
    expect(pw).toMatchObject({ probe: true, resumed: true, sid: w.sid });
    expect(sessions[0]!.transport).toBe('sse');
    sessions[0]!.emit('n', 3); // still goes to SSE
    await sse.next((f) => f.t === 'msg' && f.id === 3);
    expect(probe.frames.all.some((f) => f.t === 'msg')).toBe(false);

    probe.send({ t: 'upgrade', last: 2 }); // the client had delivered up to 2
    expect((await probe.frames.next(isType('msg'))).id).toBe(3);
    expect((await sse.next(isType('close'))).frame).toMatchObject({ code: 'replaced' });
    expect(sessions[0]!.transport).toBe('websocket');
    sessions[0]!.emit('n', 4);
    expect((await probe.frames.next(isType('msg'))).id).toBe(4);
    expect(sessions.length).toBe(1);
  });

  it('welcomes a probe whose query `last` acks on the live connection have overtaken', async () => {
    const { s, sessions } = await setup();
    const ws = await WsClient.open(s.base);
    const w = await ws.welcome();
    for (let n = 1; n <= 5; n++) sessions[0]!.emit('n', n);
    await ws.frames.next((f) => f.t === 'msg' && f.id === 5);
    // The probe left with last=2; meanwhile the live connection acknowledged up to 5.
    ws.send({ t: 'ack', id: 5 });
    await new Promise((r) => setTimeout(r, 50));
    const probe = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 2, probe: 1 });
    expect(await probe.welcome()).toMatchObject({ probe: true, resumed: true, sid: w.sid });
  });

  it('closes a probe for an unknown session without creating one', async () => {
    const { s } = await setup();
    const probe = await WsClient.open(s.base, { sid: 'nope', secret: 'x', last: 0, probe: 1 });
    expect(await probe.frames.next()).toMatchObject({ t: 'close', code: 'session_ended' });
    await probe.closed;
    expect(s.rt.sessions).toBe(0);
  });
});

describe('a resume claiming frames the session never sent', () => {
  it.each(['ws', 'poll'] as const)('over %s: refused like an overrun (a new session, the client resyncs); the session itself is untouched', async (kind) => {
    const s = await startServer();
    const first = await WsClient.open(s.base);
    const w = await first.welcome();
    first.close();
    await first.closed;
    const claim = { v: 1, sid: w.sid, last: 1_000_000 };
    const welcome =
      kind === 'ws'
        ? await (await WsClient.open(s.base, { ...claim, secret: w.secret })).welcome()
        : ((await poll(s.base, claim, { headers: { 'X-Realtime-Secret': w.secret } })).frames[0] as WelcomeFrame);
    expect(welcome).toMatchObject({ t: 'welcome', resumed: false, resumeFailed: 'overrun' });
    expect(welcome.sid).not.toBe(w.sid);
    // An honest resume still works.
    const honest = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await honest.welcome()).toMatchObject({ sid: w.sid, resumed: true });
  });
});

describe('an upgrade whose session this process let go meanwhile', () => {
  it('is answered close{shutdown} (resume elsewhere), not session_ended (which would make the client resync)', async () => {
    // A bus that can lose events, as Redis does: this process lets every session it holds go.
    class LossyBus extends MemoryBus {
      private readonly losses = new Set<() => void>();
      onLoss(listener: () => void): () => void {
        this.losses.add(listener);
        return () => this.losses.delete(listener);
      }
      lose(): void {
        for (const l of this.losses) l();
      }
    }
    const bus = new LossyBus();
    const s = await startServer({ bus });
    const live = await WsClient.open(s.base);
    const w = await live.welcome();
    const probe = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0, probe: 1 });
    expect(await probe.welcome()).toMatchObject({ probe: true, sid: w.sid });
    bus.lose();
    expect(await live.frames.next(isType('close'))).toMatchObject({ code: 'shutdown' });
    probe.send({ t: 'upgrade', last: 0 });
    expect(await probe.frames.next(isType('close'))).toMatchObject({ code: 'shutdown' });
  });
});
