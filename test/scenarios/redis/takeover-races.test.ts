// With the Redis adapter, two server instances in this process on a real redis-server: a client that moves its session
// to another node while the node holding it is still writing must resume, never be told `unknown_session`. Each test
// holds one Redis reply back to put the race exactly where the cluster soak met it.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Session } from '../../../src/server';
import type { RedisAdapterOptions } from '../../../src/server/redis';
import { redisAdapter } from '../../../src/server/redis';
import { startServer, waitFor, WsClient, type TestServer } from '../../server/helpers';
import { doneScript } from '../../../src/server/redis/client-frame-scripts';
import { readAfterScript } from '../../../src/server/redis/replay-log-scripts';
import { setOwnerScript } from '../../../src/server/redis/session-log-scripts';
import { claimScript } from '../../../src/server/redis/session-claim';
import { SessionLog } from '../../../src/server/redis/session-log';
import { connectRedis } from './redis-client';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();

/**
 * Called with each command before it is sent (`reply` undefined) and with its reply before the caller sees it: a hook
 * may hold either back.
 */
type ReplyHook = (args: readonly string[], reply?: unknown) => Promise<void> | void;

/** Holds what other nodes tell this one (pub/sub) while `held` is set. */
interface NodeMessageGate {
  held: boolean;
  queued: (() => void)[];
}

/** The adapter's client, passing every reply through `hook` first, and what other nodes say through `gate`. */
async function hookedClient(hook: ReplyHook, gate?: NodeMessageGate): Promise<NonNullable<RedisAdapterOptions['client']>> {
  const real = await connectRedis(redis.url);
  return {
    async sendCommand(args) {
      await hook(args);
      const reply = await real.sendCommand([...args]);
      await hook(args, reply);
      return reply;
    },
    duplicate() {
      const copy = real.duplicate();
      const subscribe = copy.subscribe.bind(copy) as (channel: string, listener: (m: string) => void) => Promise<void>;
      const gated = (channel: string, listener: (m: string) => void): Promise<void> =>
        subscribe(channel, (m) => (gate?.held ? void gate.queued.push(() => listener(m)) : listener(m)));
      return Object.assign(copy, { subscribe: gated }) as never;
    },
  };
}

async function node(hook?: ReplyHook, gate?: NodeMessageGate): Promise<TestServer & { sessions: Session[] }> {
  const adapter = await redisAdapter(hook ? { client: await hookedClient(hook, gate) } : { url: redis.url });
  const s = await startServer({ adapter, sessionGraceMs: 20_000 });
  const sessions: Session[] = [];
  s.rt.on('connection', (session) => void sessions.push(session));
  return Object.assign(s, { sessions });
}

const stateKey = (sid: string): string => `rf:{${sid}}:state`;
const firstId = async (sid: string): Promise<number> => Number(await redis.admin.sendCommand(['HGET', stateKey(sid), 'firstId']));

describe('a session taken over while its holder writes', () => {
  it('a restore that reads the session while its holder trims acknowledged frames reads again: resumed, nothing replayed twice', async () => {
    let trimDuringRestore: (() => Promise<void>) | null = null;
    const a = await node();
    // B reads the state, then (held here) A trims: B's read of the frames then starts past the state's first id.
    const b = await node(async (args, reply) => {
      const trim = trimDuringRestore;
      if (trim && reply !== undefined && args[0] === 'HMGET' && args[1]?.endsWith(':state')) {
        trimDuringRestore = null;
        await trim();
      }
    });
    const onA = await WsClient.open(a.base);
    const w = await onA.welcome();
    await waitFor(() => a.sessions.length === 1, 3000, 'session on A');
    for (let i = 1; i <= 5; i++) a.sessions[0]!.emit('tick', i);
    await onA.frames.next((f) => f.t === 'msg' && f.id === 5);
    // The client has seen 2 (acknowledges them to A) and resumes through B from 2.
    trimDuringRestore = async () => {
      const before = await firstId(w.sid);
      onA.send({ t: 'ack', id: 2 });
      for (let i = 0; i < 100 && (await firstId(w.sid)) === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await firstId(w.sid)).toBeGreaterThan(before);
    };
    const onB = await WsClient.open(b.base, { sid: w.sid, secret: w.secret, last: 2 });
    const welcome = await onB.welcome();
    expect(trimDuringRestore).toBeNull(); // the hook ran: the race really happened
    expect(welcome).toMatchObject({ resumed: true, sid: w.sid });
    const replayed = [await onB.frames.next((f) => f.t === 'msg'), await onB.frames.next((f) => f.t === 'msg'), await onB.frames.next((f) => f.t === 'msg')];
    expect(replayed.map((f) => (f as { id: number }).id)).toEqual([3, 4, 5]);
  });

  it('a handshake that waits for a copy whose write fails (another node took the session) is restored from Redis, not refused', async () => {
    // A's write for an emit its stale copy accepted after B took the session is held until the handshake reached A.
    let holdWrites: Promise<void> | null = null;
    // A hears B's "let it go" only at the end: its copy is still there when the client comes back.
    const gate: NodeMessageGate = { held: true, queued: [] };
    const a = await node(async (args, reply) => {
      if (holdWrites && reply !== undefined && args[0] === 'EVALSHA') await holdWrites;
    }, gate);
    const b = await node();
    const first = await WsClient.open(a.base);
    const w = await first.welcome();
    await waitFor(() => a.sessions.length === 1, 3000, 'session on A');
    // The client moves to B.
    const onB = await WsClient.open(b.base, { sid: w.sid, secret: w.secret, last: 0 });
    const moved = await onB.welcome();
    expect(moved).toMatchObject({ resumed: true });
    let release!: () => void;
    holdWrites = new Promise<void>((r) => (release = r));
    // A frame still on its way over the old connection: A's copy accepts it, and its write will be refused.
    first.send({ t: 'emit', seq: 1, e: 'noop' });
    // The client comes back through A with B's secret: A's copy does not know it, so A waits for the copy's writes.
    a.http.prependListener('upgrade', () => setTimeout(() => release(), 50));
    onB.close();
    const back = await WsClient.open(a.base, { sid: w.sid, secret: moved.secret, last: 0 });
    const welcome = await back.welcome();
    holdWrites = null;
    expect(welcome).toMatchObject({ resumed: true, sid: w.sid });
    gate.held = false;
    for (const deliver of gate.queued.splice(0)) deliver();
    // The session carries on here: the client's emit is accepted and acknowledged.
    back.send({ t: 'emit', seq: 1, e: 'noop' });
    expect(await back.frames.next((f) => f.t === 'ack' || f.t === 'close')).toMatchObject({ t: 'ack', n: 1 });
  });

  it('a node taking a session over reads its inbox only once its claim is in Redis: what was handed over just before is delivered', async () => {
    // A's claim of the session is held before it is sent, until a stale holder's hand-over has reached the inbox.
    let claimHeld: Promise<void> | null = null;
    let inboxRead = false;
    const a = await node(async (args, reply) => {
      if (reply !== undefined) return;
      if (args[0] === 'LRANGE' && args[1]?.endsWith(':inbox')) inboxRead = true;
      if (claimHeld && args[0] === 'EVALSHA' && args[1] === setOwnerScript.sha) await claimHeld;
    });
    const b = await node();
    const onB = await WsClient.open(b.base);
    const w = await onB.welcome();
    await b.close(); // a deploy: B lets its sessions go
    let release!: () => void;
    claimHeld = new Promise<void>((r) => (release = r));
    const back = await WsClient.open(a.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await back.welcome()).toMatchObject({ resumed: true, sid: w.sid });
    // A holder that has not heard of the takeover hands over what its app sent (no live node is woken for it).
    await waitFor(() => inboxRead, 300, 'inbox read').catch(() => {}); // on the old code A read it before claiming
    const handOver = await new SessionLog(redis.admin).push(w.sid, [JSON.stringify({ t: 'msg', e: 'tick', d: 'handed over' })], 100);
    expect(handOver.outcome).toBe('ok');
    release();
    expect(await back.frames.next((f) => f.t === 'msg')).toMatchObject({ e: 'tick', d: 'handed over' });
  });

  it('a node taking a session over holds it before reading it: what the previous holder sends after that reaches the client, once each', async () => {
    // Right after B has read the session, A (which still holds it, as far as it knows) numbers one more message.
    let afterRead: (() => Promise<void>) | null = null;
    const a = await node();
    const b = await node(async (args, reply) => {
      const then = afterRead;
      if (then && reply !== undefined && args[0] === 'EVALSHA' && args[1] === readAfterScript.sha) {
        afterRead = null;
        await then();
      }
    });
    const onA = await WsClient.open(a.base);
    const w = await onA.welcome();
    await waitFor(() => a.sessions.length === 1, 3000, 'session on A');
    const onASession = a.sessions[0]!;
    onASession.emit('tick', 1);
    await onA.frames.next((f) => f.t === 'msg' && f.id === 1);
    afterRead = async () => {
      onASession.emit('tick', 2);
      await onASession.durable();
    };
    const onB = await WsClient.open(b.base, { sid: w.sid, secret: w.secret, last: 1 });
    expect(await onB.welcome()).toMatchObject({ resumed: true, sid: w.sid });
    expect(afterRead).toBeNull(); // the hook ran: A wrote after B read
    await waitFor(() => b.sessions.length === 1, 3000, 'session announced on B');
    b.sessions[0]!.emit('tick', 3);
    const next = async () => onB.frames.next((f) => f.t === 'msg' || f.t === 'close');
    const frames = [await next(), await next()];
    // Both once, numbered on from 1 by B (A's came through the inbox: emits of two processes have no order between them).
    expect(frames.map((f) => f.t)).toEqual(['msg', 'msg']);
    expect(frames.map((f) => (f as { id: number }).id)).toEqual([2, 3]);
    expect(frames.map((f) => (f as { d: number }).d).sort()).toEqual([2, 3]);
    await new Promise((r) => setTimeout(r, 200));
    expect(onB.frames.all.filter((f) => f.t === 'msg' || f.t === 'close')).toHaveLength(2); // no repeat, no close
  });

  it('a node taking a session over from a live one waits until what ran there is marked done: no emit runs twice', async () => {
    // A's mark that emit 1 is done is held back until 200 ms after B has claimed the session.
    let markHeld: Promise<void> | null = null;
    let releaseMark!: () => void;
    const runs: string[] = [];
    const a = await node(async (args, reply) => {
      if (reply === undefined && markHeld && args[0] === 'EVALSHA' && args[1] === doneScript.sha) await markHeld;
    });
    const b = await node(async (args, reply) => {
      if (reply !== undefined && args[0] === 'EVALSHA' && args[1] === claimScript.sha) setTimeout(() => releaseMark(), 200);
    });
    for (const [name, s] of [['A', a], ['B', b]] as const) {
      s.rt.on('connection', (session) => session.on('say', (d, _reply, frame) => void runs.push(`${name} ${String(d)}${frame.redelivered ? ' (redelivered)' : ''}`)));
    }
    markHeld = new Promise<void>((r) => (releaseMark = r));
    onTestFinished(() => releaseMark()); // never left holding A's writes (its close waits for them)
    const onA = await WsClient.open(a.base);
    const w = await onA.welcome();
    onA.send({ t: 'emit', seq: 1, e: 'say', d: 'hello' });
    await onA.frames.next((f) => f.t === 'ack' && f.n === 1);
    expect(runs).toEqual(['A hello']);
    // The client comes back through B while A, still up, has not recorded that it ran emit 1.
    const onB = await WsClient.open(b.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await onB.welcome()).toMatchObject({ resumed: true, ack: 1 });
    onB.send({ t: 'emit', seq: 2, e: 'say', d: 'again' });
    await onB.frames.next((f) => f.t === 'ack' && f.n === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(runs).toEqual(['A hello', 'B again']);
  });
});
