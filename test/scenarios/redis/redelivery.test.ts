// A node's death drops no client frame: a frame recorded with its acceptance but whose handler was not done (its
// node died right after the record) runs on the session's next holder, once, flagged `redelivered`, before anything
// newer; a frame whose handler was done never runs again. Nodes are server instances in this process on a real
// redis-server; the dying one's journal records a frame and then never answers, as a node SIGKILLed within that
// round trip would (the cluster tests kill real processes).
import { describe, expect, it } from 'vitest';
import type { ReplyFrame, WelcomeFrame } from '../../../src/protocol/frames';
import type { HandlerContext, RealtimeAdapter } from '../../../src/server';
import { redisAdapter } from '../../../src/server/redis';
import { isType, startServer, WsClient, type TestServer } from '../../server/helpers';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();

interface Run extends HandlerContext {
  node: string;
  event: string;
  data: unknown;
}

/** A Redis adapter whose journal, once `die()` was called, records client frames in Redis and never answers. */
async function dyingAdapter(): Promise<{ adapter: RealtimeAdapter; die(): void }> {
  const inner = await redisAdapter({ url: redis.url });
  let dead = false;
  const adapter: RealtimeAdapter = {
    open(settings, events) {
      const opened = inner.open(settings, events);
      const journal = opened.journal;
      opened.journal = new Proxy(journal, {
        get(target, key) {
          const value = Reflect.get(target, key) as unknown;
          if (key === 'accepted') {
            return (...args: Parameters<typeof journal.accepted>) => {
              const recorded = journal.accepted(...args);
              return dead ? new Promise<boolean>(() => {}) : recorded;
            };
          }
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      return opened;
    },
    close: () => inner.close(),
  };
  return { adapter, die: () => void (dead = true) };
}

/** A node whose sessions run `work` (emit) and `ask` (request, answered with what it was asked), logging each run. */
async function node(name: string, runs: Run[], adapter?: RealtimeAdapter): Promise<TestServer> {
  const s = await startServer({ adapter: adapter ?? (await redisAdapter({ url: redis.url })), sessionGraceMs: 20_000 });
  s.rt.on('connection', (session) => {
    session.on('work', (data, _reply, ctx) => void runs.push({ node: name, event: 'work', data, ...ctx }));
    session.on('ask', (data, reply, ctx) => {
      runs.push({ node: name, event: 'ask', data, ...ctx });
      reply({ answer: data });
    });
  });
  return s;
}

async function resume(s: TestServer, w: WelcomeFrame): Promise<{ client: WsClient; welcome: WelcomeFrame }> {
  const client = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
  const welcome = await client.welcome();
  expect(welcome).toMatchObject({ resumed: true });
  return { client, welcome };
}

const acceptedSeq = async (sid: string): Promise<unknown> => redis.admin.sendCommand(['HGET', `rf:{${sid}}:state`, 'accepted']);
const pendingSeqs = async (sid: string): Promise<unknown> => redis.admin.sendCommand(['HKEYS', `rf:{${sid}}:pending`]);

/** A session opened on `s`, its client's connection and welcome. */
async function open(s: TestServer): Promise<{ client: WsClient; welcome: WelcomeFrame }> {
  const client = await WsClient.open(s.base);
  return { client, welcome: await client.welcome() };
}

describe('redelivery of client frames a dead node left unfinished', () => {
  it('runs an emit recorded by a node that died before its handler on the next holder, once, flagged, before newer frames', async () => {
    const runs: Run[] = [];
    const dying = await dyingAdapter();
    const a = await node('A', runs, dying.adapter);
    const b = await node('B', runs);
    const { client, welcome } = await open(a);
    client.send({ t: 'emit', seq: 1, e: 'work', d: 'first' });
    await client.frames.next(isType('ack')); // seq 1 is recorded and handled on A, done marked
    await expect.poll(() => pendingSeqs(welcome.sid)).toEqual([]);
    dying.die();
    client.send({ t: 'emit', seq: 2, e: 'work', d: 'second' });
    await expect.poll(() => acceptedSeq(welcome.sid)).toBe('2'); // recorded; A never gets to run it
    client.close(); // A "died": its client goes to another node
    expect(runs.map((r) => r.data)).toEqual(['first']);

    const onB = await resume(b, welcome);
    expect(onB.welcome.ack).toBe(2); // the client does not send it again: only the redelivery runs it
    onB.client.send({ t: 'emit', seq: 3, e: 'work', d: 'third' });
    await expect.poll(() => runs.length).toBe(3);
    expect(runs).toEqual([
      { node: 'A', event: 'work', data: 'first', sessionId: welcome.sid, seq: 1, id: `${welcome.sid}:1`, redelivered: false },
      { node: 'B', event: 'work', data: 'second', sessionId: welcome.sid, seq: 2, id: `${welcome.sid}:2`, redelivered: true },
      { node: 'B', event: 'work', data: 'third', sessionId: welcome.sid, seq: 3, id: `${welcome.sid}:3`, redelivered: false },
    ]);
    await expect.poll(() => pendingSeqs(welcome.sid)).toEqual([]);

    // Done everywhere: a third holder runs nothing again (a newer request's reply proves the restore is complete,
    // since what a restore redelivers runs before anything newer).
    const c = await node('C', runs);
    onB.client.close();
    const onC = await resume(c, welcome);
    onC.client.send({ t: 'req', seq: 4, e: 'ask', d: 'fourth' });
    expect(await onC.client.frames.next((f): f is ReplyFrame => f.t === 'reply' && f.re === 4)).toMatchObject({ d: { answer: 'fourth' } });
    expect(runs.map((r) => [r.node, r.seq, r.redelivered])).toEqual([
      ['A', 1, false],
      ['B', 2, true],
      ['B', 3, false],
      ['C', 4, false],
    ]);
  });

  it("answers a request whose node died before its handler from the next holder: the client gets the reply", async () => {
    const runs: Run[] = [];
    const dying = await dyingAdapter();
    const a = await node('A', runs, dying.adapter);
    const b = await node('B', runs);
    const { client, welcome } = await open(a);
    dying.die();
    client.send({ t: 'req', seq: 1, e: 'ask', d: 42 });
    await expect.poll(() => acceptedSeq(welcome.sid)).toBe('1');
    client.close();

    const onB = await resume(b, welcome);
    const reply = await onB.client.frames.next((f): f is ReplyFrame => f.t === 'reply' && f.re === 1);
    expect(reply).toMatchObject({ d: { answer: 42 } });
    expect(reply.id).toBeGreaterThan(0); // numbered and journaled like any reply: it survives a further move
    expect(runs).toEqual([{ node: 'B', event: 'ask', data: 42, sessionId: welcome.sid, seq: 1, id: `${welcome.sid}:1`, redelivered: true }]);
    await expect.poll(() => pendingSeqs(welcome.sid)).toEqual([]);
  });

  it('never redelivers in one process without a move: handlers see redelivered false', async () => {
    const runs: Run[] = [];
    const a = await node('A', runs);
    const { client, welcome } = await open(a);
    client.send({ t: 'req', seq: 1, e: 'ask', d: 1 });
    await client.frames.next(isType('reply'));
    client.close();
    const again = await resume(a, welcome);
    again.client.send({ t: 'emit', seq: 2, e: 'work', d: 2 });
    await expect.poll(() => runs.length).toBe(2);
    expect(runs.map((r) => [r.seq, r.redelivered])).toEqual([
      [1, false],
      [2, false],
    ]);
  });
});
