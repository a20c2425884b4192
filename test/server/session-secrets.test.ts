/**
 * A session is held only by who holds its secret (docs/protocol.md §1 "Joining", §3): a join key joins only the
 * racing handshakes of one client, with its credentials, within seconds of the session's start and before the client
 * used its secret; and every resume rotates the secret, the previous one staying good until the new one is used.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEADERS, offeredSubprotocols } from '../../src/protocol/carriers';
import type { WelcomeFrame } from '../../src/protocol/frames';
import type { Session } from '../../src/server';
import { JOIN_WINDOW_MS } from '../../src/server/join-registry';
import { closeAll, isType, poll, post, sleep, startServer, WsClient, type TestServer } from './helpers';

afterEach(async () => {
  vi.useRealTimers();
  await closeAll();
});

const JOIN = 'Jk9aQ2xpZW50LXJhY2Uta2V5';

/** `Bearer <user>` is user <user>; the key order of the result depends on the transport, as an app's might. */
const authenticate = (req: IncomingMessage) => {
  const user = req.headers.authorization?.replace(/^Bearer /, '');
  if (!user) return false;
  return req.url?.includes('/ws') ? { user, tenant: 't1' } : { tenant: 't1', user };
};

async function server(withAuth = false): Promise<{ s: TestServer; sessions: Session[] }> {
  // Polls are held up to a heartbeat: a short one keeps the tests that poll quick.
  const s = await startServer({ heartbeatMs: 200, ...(withAuth ? { authenticate } : {}) });
  const sessions: Session[] = [];
  s.rt.on('connection', (session) => void sessions.push(session));
  return { s, sessions };
}

const joinPoll = (s: TestServer, join: string, user?: string) =>
  poll(s.base, { v: 1 }, { headers: { [HEADERS.join]: join, ...(user ? { Authorization: `Bearer ${user}` } : {}) } });
const welcomeOf = (frames: readonly unknown[]) => frames[0] as WelcomeFrame;

describe('the join key', () => {
  it("another client's key with other credentials gets a session of its own; the victim keeps its connection and its secret", async () => {
    const { s, sessions } = await server(true);
    const victim = await WsClient.open(s.base, {}, offeredSubprotocols({ token: 'alice', join: JOIN }));
    const vw = await victim.welcome();
    sessions[0]!.emit('n', 1);
    await victim.frames.next(isType('msg'));

    const stolen = await joinPoll(s, JOIN, 'mallory');
    expect(welcomeOf(stolen.frames)).toMatchObject({ t: 'welcome', resumed: false });
    expect(welcomeOf(stolen.frames).sid).not.toBe(vw.sid);
    expect(stolen.text).not.toContain(vw.secret);
    expect(stolen.frames.filter((f) => f.t === 'msg')).toEqual([]); // none of the victim's frames
    expect(sessions).toHaveLength(2);
    expect(sessions[1]!.auth).toEqual({ tenant: 't1', user: 'mallory' });
    expect(sessions[0]!.auth).toEqual({ user: 'alice', tenant: 't1' });

    // The victim's connection was not touched: it is open and still carries its session.
    sessions[0]!.emit('n', 2);
    expect(await victim.frames.next(isType('msg'))).toMatchObject({ id: 2, d: 2 });
    expect(victim.frames.all.some((f) => f.t === 'close')).toBe(false);
    expect(sessions[0]!.transport).toBe('websocket');
  });

  it('racing handshakes of one client with equal credentials (keys in any order) share its session', async () => {
    const { s, sessions } = await server(true);
    const first = await WsClient.open(s.base, {}, offeredSubprotocols({ token: 'alice', join: JOIN }));
    const w = await first.welcome();
    const racer = await joinPoll(s, JOIN, 'alice');
    expect(welcomeOf(racer.frames)).toMatchObject({ t: 'welcome', sid: w.sid, secret: w.secret, resumed: false });
    expect(sessions).toHaveLength(1);
    // As a resume does, the racer takes the connection over: the first may be the one that hangs.
    expect(await first.frames.next(isType('close'))).toMatchObject({ code: 'replaced' });
  });

  it('joins within JOIN_WINDOW_MS of the session start, not after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, sessions } = await server();
    const early = await joinPoll(s, 'early-key-0123456789AB');
    const late = await joinPoll(s, 'late-key-0123456789ABC');
    const start = Date.now();

    vi.setSystemTime(start + JOIN_WINDOW_MS - 1000);
    const inWindow = await joinPoll(s, 'early-key-0123456789AB');
    expect(welcomeOf(inWindow.frames).sid).toBe(welcomeOf(early.frames).sid);

    vi.setSystemTime(start + JOIN_WINDOW_MS + 1000);
    const after = await joinPoll(s, 'late-key-0123456789ABC');
    expect(welcomeOf(after.frames).sid).not.toBe(welcomeOf(late.frames).sid);
    expect(after.text).not.toContain(welcomeOf(late.frames).secret);
    expect(sessions).toHaveLength(3);
  });

  it('joins no more once its client presented the secret (it has a welcome: a later handshake is stale)', async () => {
    const { s, sessions } = await server();
    const w = welcomeOf((await joinPoll(s, JOIN)).frames);
    expect((await poll(s.base, { v: 1, sid: w.sid, cid: w.cid, last: 0 }, { headers: { [HEADERS.secret]: w.secret } })).status).toBe(200);
    const stale = await joinPoll(s, JOIN);
    expect(welcomeOf(stale.frames).sid).not.toBe(w.sid);
    expect(sessions).toHaveLength(2);
  });
});

describe('secret rotation', () => {
  const resumeWs = async (s: TestServer, sid: string, secret: string): Promise<WelcomeFrame> => {
    const c = await WsClient.open(s.base, { sid, secret, last: 0 });
    const w = await c.welcome();
    c.close();
    await c.closed;
    return w;
  };

  it('a resume gets a fresh secret; the old one stays good until the new one is used, then it is bad_secret', async () => {
    const { s } = await server();
    const first = await WsClient.open(s.base);
    const w0 = await first.welcome();
    first.close();
    await first.closed;

    const hs = await poll(s.base, { v: 1, sid: w0.sid, last: 0 }, { headers: { [HEADERS.secret]: w0.secret } });
    const w1 = welcomeOf(hs.frames);
    expect(w1).toMatchObject({ resumed: true, sid: w0.sid });
    expect(w1.secret).not.toBe(w0.secret);
    const q = { v: 1, sid: w0.sid, cid: w1.cid };
    const withSecret = (secret: string) => ({ [HEADERS.secret]: secret });

    // The welcome carrying the new secret may have been lost: the old one still polls and posts.
    expect((await poll(s.base, { ...q, last: 0 }, { headers: withSecret(w0.secret) })).status).toBe(200);
    expect((await post(s.base, q, [{ t: 'ack', id: 0 }], withSecret(w0.secret))).status).toBe(200);
    // The client uses the new one: from now on the old one is refused everywhere.
    expect((await post(s.base, q, [{ t: 'ack', id: 0 }], withSecret(w1.secret))).status).toBe(200);
    expect((await poll(s.base, { ...q, last: 0 }, { headers: withSecret(w0.secret) })).status).toBe(410);
    expect((await post(s.base, q, [{ t: 'ack', id: 0 }], withSecret(w0.secret))).status).toBe(410);
    const old = await WsClient.open(s.base, { sid: w0.sid, secret: w0.secret, last: 0 });
    expect(await old.welcome()).toMatchObject({ resumed: false, resumeFailed: 'bad_secret' });
    expect((await poll(s.base, { ...q, last: 0 }, { headers: withSecret(w1.secret) })).status).toBe(200);
  });

  it('a resume with the previous secret is welcomed with the current one and rotates nothing; a probe with the new one retires the old', async () => {
    const { s } = await server();
    const first = await WsClient.open(s.base);
    const w0 = await first.welcome();
    first.close();
    await first.closed;
    const w1 = await resumeWs(s, w0.sid, w0.secret);
    const again = await resumeWs(s, w0.sid, w0.secret); // w1 never arrived
    expect(again).toMatchObject({ resumed: true, secret: w1.secret });

    const probe = await WsClient.open(s.base, { sid: w0.sid, secret: w1.secret, last: 0, probe: 1 });
    expect(await probe.welcome()).toMatchObject({ probe: true, resumed: true });
    probe.close();
    await probe.closed;
    expect(await resumeWs(s, w0.sid, w0.secret)).toMatchObject({ resumed: false, resumeFailed: 'bad_secret' });
  });

  it('two racing resumes with the same secret both leave the client a secret that works', async () => {
    const { s } = await server();
    const first = await WsClient.open(s.base);
    const w0 = await first.welcome();
    first.close();
    await first.closed;

    // A WebSocket and a poll racing each other, both with the secret the client has.
    const ws = new WsClient(`${s.base.replace(/^http/, 'ws')}/ws?v=1&sid=${w0.sid}&last=0`, {}, offeredSubprotocols({ secret: w0.secret }));
    const hs = poll(s.base, { v: 1, sid: w0.sid, last: 0 }, { headers: { [HEADERS.secret]: w0.secret } });
    const [a, b] = [await ws.welcome(), welcomeOf((await hs).frames)];
    expect(a).toMatchObject({ resumed: true });
    expect(b).toMatchObject({ resumed: true });
    expect(a.secret).not.toBe(w0.secret); // rotated
    ws.close();
    await ws.closed;
    await sleep(10);
    // Whichever welcome the client kept, its secret resumes the session; the other one's does too, after it.
    expect(await resumeWs(s, w0.sid, b.secret)).toMatchObject({ resumed: true });
    expect(await resumeWs(s, w0.sid, a.secret)).toMatchObject({ resumed: true });
  });
});
