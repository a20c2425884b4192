// With the Redis adapter, two server instances in this process on a real redis-server: a client coming back to
// another node than the one that ran its emits is told what its session accepted, whether the session lives on there
// (a resume: `welcome.ack`, and repeats are not run) or ended meanwhile (a refusal with `welcome.prevAck`, read from
// the ended session's record that Redis keeps for `endedSessionMemoryMs`).
import { describe, expect, it } from 'vitest';
import type { Session } from '../../../src/server';
import type { WelcomeFrame } from '../../../src/protocol/frames';
import { redisAdapter } from '../../../src/server/redis';
import { isType, startServer, waitFor, WsClient, type TestServer } from '../../server/helpers';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();

/** Runs of `say` per payload, over every node of the test. */
const runs = new Map<unknown, number>();

async function node(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer & { sessions: Session[]; ended: string[] }> {
  const s = await startServer({ adapter: await redisAdapter({ url: redis.url }), sessionGraceMs: 20_000, endedSessionMemoryMs: 60_000, ...options });
  const sessions: Session[] = [];
  const ended: string[] = [];
  s.rt.on('connection', (session) => {
    sessions.push(session);
    session.on('say', (d) => void runs.set(d, (runs.get(d) ?? 0) + 1));
    session.on('disconnect', () => ended.push(session.id));
  });
  return Object.assign(s, { sessions, ended });
}

/** A session on `s` whose `count` emits ran and were acknowledged (the client may not have seen the ack). */
async function sessionWithEmits(s: TestServer, count: number): Promise<{ ws: WsClient; w: WelcomeFrame }> {
  runs.clear();
  const ws = await WsClient.open(s.base);
  const w = await ws.welcome();
  for (let seq = 1; seq <= count; seq++) ws.send({ t: 'emit', seq, e: 'say', d: `e${seq}` });
  await ws.frames.next((f) => f.t === 'ack' && f.n === count);
  return { ws, w };
}

const resume = async (s: TestServer, w: WelcomeFrame, secret = w.secret): Promise<{ ws: WsClient; welcome: WelcomeFrame }> => {
  const ws = await WsClient.open(s.base, { sid: w.sid, secret, last: 0 });
  return { ws, welcome: await ws.welcome() };
};

describe('what another node tells a client of the emits its session ran', () => {
  it('held by another node: not a resync; the client is told what was accepted, and a repeat does not run again', async () => {
    const a = await node();
    const b = await node();
    const { ws: onA, w } = await sessionWithEmits(a, 3);
    // The client's connection to A is still up as far as A knows; the client comes back through B.
    const { ws: onB, welcome } = await resume(b, w);
    expect(welcome).toMatchObject({ resumed: true, sid: w.sid, ack: 3 });
    expect(welcome).not.toHaveProperty('prevAck');
    expect(await onA.frames.next(isType('close'))).toMatchObject({ code: 'replaced' });
    // A client that had not seen the acks re-sends what it holds: the repeats are acknowledged, not run.
    for (let seq = 2; seq <= 4; seq++) onB.send({ t: 'emit', seq, e: 'say', d: `e${seq}` });
    await onB.frames.next((f) => f.t === 'ack' && f.n === 4);
    expect(Object.fromEntries(runs)).toEqual({ e1: 1, e2: 1, e3: 1, e4: 1 });
  });

  it('expired on one node: another tells what it accepted (prevAck), to the holder of its secret only', async () => {
    const a = await node({ sessionGraceMs: 200 });
    const b = await node({ sessionGraceMs: 200 });
    const { ws, w } = await sessionWithEmits(a, 3);
    ws.close();
    await waitFor(() => a.ended.includes(w.sid), 5000, 'expiry on A');
    const stranger = (await resume(b, w, 'not-the-secret')).welcome;
    expect(stranger).toMatchObject({ resumed: false, resumeFailed: 'expired' });
    expect(stranger).not.toHaveProperty('prevAck');
    expect((await resume(b, w)).welcome).toMatchObject({ resumed: false, resumeFailed: 'expired', prevAck: 3 });
    // The record outlives the grace period: Redis keeps it for endedSessionMemoryMs.
    const ttl = Number(await redis.admin.sendCommand(['PTTL', `rf:{${w.sid}}:state`]));
    expect(ttl).toBeGreaterThan(30_000);
  });

  it('ended by the app on one node: another tells what it accepted', async () => {
    const a = await node();
    const b = await node();
    const { ws, w } = await sessionWithEmits(a, 2);
    a.sessions[0]!.close();
    expect(await ws.frames.next(isType('close'))).toMatchObject({ code: 'session_ended' });
    await waitFor(() => a.ended.includes(w.sid), 5000, 'the end on A');
    await expect.poll(() => redis.admin.sendCommand(['HGET', `rf:{${w.sid}}:state`, 'ended'])).toBe('ended');
    expect((await resume(b, w)).welcome).toMatchObject({ resumed: false, resumeFailed: 'expired', prevAck: 2 });
  });

  it('overrun on the node that holds it: the welcome names what it accepted once that is recorded', async () => {
    const a = await node({ replayBufferMaxMessages: 2 });
    const { ws, w } = await sessionWithEmits(a, 3);
    for (let i = 1; i <= 4; i++) a.sessions[0]!.emit('n', i);
    await ws.frames.next((f) => f.t === 'msg' && f.id === 4);
    expect((await resume(a, w)).welcome).toMatchObject({ resumed: false, resumeFailed: 'overrun', prevAck: 3 });
  });
});
