import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/server';
import type { WelcomeFrame } from '../../src/protocol/frames';
import { closeAll, isType, sleep, startServer, waitFor, WsClient } from './helpers';

// A refused resume tells the holder of the old session's secret which of its client's frames that session accepted
// (`welcome.prevAck`), so the client re-sends only the others: nothing runs twice. A wrong secret learns nothing.

afterEach(closeAll);

/** A server whose `say` handler counts its runs per payload, and which keeps its sessions and their endings. */
async function setup(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  const sessions: Session[] = [];
  const runs = new Map<unknown, number>();
  const ended: string[] = [];
  s.rt.on('connection', (session) => {
    sessions.push(session);
    session.on('say', (d) => void runs.set(d, (runs.get(d) ?? 0) + 1));
    session.on('disconnect', () => ended.push(session.id));
  });
  return { s, sessions, runs, ended };
}

/** Opens a session and has `count` emits accepted (acknowledged) by it. */
async function sessionWithEmits(base: string, count: number): Promise<{ ws: WsClient; w: WelcomeFrame }> {
  const ws = await WsClient.open(base);
  const w = await ws.welcome();
  for (let seq = 1; seq <= count; seq++) ws.send({ t: 'emit', seq, e: 'say', d: `e${seq}` });
  await ws.frames.next((f) => f.t === 'ack' && f.n === count);
  return { ws, w };
}

describe('welcome.prevAck', () => {
  it('overrun: names what the old session accepted, and closes the connection it still held', async () => {
    const { s, sessions } = await setup({ replayBufferMaxMessages: 2 });
    const { ws, w } = await sessionWithEmits(s.base, 3);
    for (let i = 1; i <= 4; i++) sessions[0]!.emit('n', i);
    await ws.frames.next((f) => f.t === 'msg' && f.id === 4);
    // The client resumes from a connection of its own while the server still holds the old one.
    const again = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await again.welcome()).toMatchObject({ resumed: false, resumeFailed: 'overrun', prevAck: 3, ack: 0 });
    expect(await ws.frames.next(isType('close'))).toMatchObject({ code: 'replaced' });
    expect(sessions[0]!.connection).toBeNull(); // so a POST on it is refused: nothing more reaches the old session
  });

  it('overrun: a frame still on its way over the old WebSocket no longer runs on the old session', async () => {
    const { s, sessions, runs } = await setup({ replayBufferMaxMessages: 2 });
    const { ws, w } = await sessionWithEmits(s.base, 1);
    for (let i = 1; i <= 4; i++) sessions[0]!.emit('n', i);
    await ws.frames.next((f) => f.t === 'msg' && f.id === 4);
    // Held in the client's socket until after the refusal: it reaches the server behind the new handshake.
    const socket = (ws.ws as unknown as { _socket: Socket })._socket;
    socket.cork();
    ws.send({ t: 'emit', seq: 2, e: 'say', d: 'late' });
    const again = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await again.welcome()).toMatchObject({ resumeFailed: 'overrun', prevAck: 1 });
    socket.uncork();
    await ws.closed; // the server read the frame before the client's close, which comes after it on the same stream
    expect(sessions[0]!.accepted).toBe(1); // the client re-sends `late` to the new session: it runs there, once
    expect(Object.fromEntries(runs)).toEqual({ e1: 1 });
  });

  it('expired within the remembered window: names what it accepted, to the holder of its secret only', async () => {
    const { s, ended } = await setup({ sessionGraceMs: 50 });
    const { ws, w } = await sessionWithEmits(s.base, 2);
    ws.close();
    await waitFor(() => ended.includes(w.sid), 3000, 'expiry');
    const stranger = await WsClient.open(s.base, { sid: w.sid, secret: 'not-the-secret', last: 0 });
    const refused = await stranger.welcome();
    expect(refused).toMatchObject({ resumed: false, resumeFailed: 'expired' });
    expect(refused).not.toHaveProperty('prevAck');
    const owner = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await owner.welcome()).toMatchObject({ resumed: false, resumeFailed: 'expired', prevAck: 2 });
  });

  it('ended by the server (close{session_ended}): the next handshake naming it learns what it accepted', async () => {
    const { s, sessions } = await setup();
    const { ws, w } = await sessionWithEmits(s.base, 3);
    sessions[0]!.close();
    expect(await ws.frames.next(isType('close'))).toMatchObject({ code: 'session_ended' });
    const again = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await again.welcome()).toMatchObject({ resumed: false, resumeFailed: 'expired', prevAck: 3 });
  });

  it('replaced (close{replaced}) is no resync: the replaced client resumes and is told what ran in welcome.ack', async () => {
    const { s, runs } = await setup();
    const { ws, w } = await sessionWithEmits(s.base, 2);
    const racing = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await racing.welcome()).toMatchObject({ resumed: true });
    expect(await ws.frames.next(isType('close'))).toMatchObject({ code: 'replaced' });
    const back = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 }); // the secret it had
    expect(await back.welcome()).toMatchObject({ resumed: true, ack: 2 });
    back.send({ t: 'emit', seq: 2, e: 'say', d: 'e2' }); // a repeat is acknowledged, not run
    await back.frames.next((f) => f.t === 'ack' && f.n === 2);
    expect(Object.fromEntries(runs)).toEqual({ e1: 1, e2: 1 });
  });

  it('a wrong secret on a live session learns nothing (bad_secret, no prevAck)', async () => {
    const { s } = await setup();
    const { w } = await sessionWithEmits(s.base, 1);
    const stranger = await WsClient.open(s.base, { sid: w.sid, secret: 'not-the-secret', last: 0 });
    const refused = await stranger.welcome();
    expect(refused).toMatchObject({ resumed: false, resumeFailed: 'bad_secret' });
    expect(refused).not.toHaveProperty('prevAck');
  });

  it('past the remembered window, or after a restart, the server cannot tell: unknown_session, no prevAck', async () => {
    const first = await setup({ sessionGraceMs: 30, endedSessionMemoryMs: 60 });
    const { ws, w } = await sessionWithEmits(first.s.base, 2);
    ws.close();
    await waitFor(() => first.ended.includes(w.sid), 3000, 'expiry');
    await sleep(120);
    const late = await WsClient.open(first.s.base, { sid: w.sid, secret: w.secret, last: 0 });
    const refused = await late.welcome();
    expect(refused).toMatchObject({ resumed: false, resumeFailed: 'unknown_session' });
    expect(refused).not.toHaveProperty('prevAck');

    const other = await setup(); // a server that never knew it (a restart without an adapter)
    const elsewhere = await WsClient.open(other.s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await elsewhere.welcome()).not.toHaveProperty('prevAck');
  });

  it('a handshake naming no session gets no prevAck', async () => {
    const { s } = await setup();
    const ws = await WsClient.open(s.base);
    const w = await ws.welcome();
    expect(w).not.toHaveProperty('prevAck');
    expect(w).not.toHaveProperty('resumeFailed');
  });
});
