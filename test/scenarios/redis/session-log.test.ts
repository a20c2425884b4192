// SessionLog against a real redis-server: one server for this file, FLUSHALL before each test.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoggedFrame, ReplayLimits } from '../../../src/server/redis/replay-log';
import { SessionLog } from '../../../src/server/redis/session-log';
import { closeRedisClients, connectRedis, countingRedis, type TestRedisClient } from './redis-client';
import { startRedisServer, stopAllRedisServers, type RedisServer } from './redis-server';

const WIDE: ReplayLimits = { maxMessages: 1000, maxBytes: 1024 * 1024 };
const TTL = 60_000;

let server: RedisServer;
let client: TestRedisClient;
let second: TestRedisClient;
let log: SessionLog;
let log2: SessionLog;

beforeAll(async () => {
  server = await startRedisServer();
  client = await connectRedis(server.url);
  second = await connectRedis(server.url);
  log = new SessionLog(client);
  log2 = new SessionLog(second);
});

afterAll(async () => {
  await closeRedisClients();
  await stopAllRedisServers();
});

beforeEach(async () => {
  await client.sendCommand(['FLUSHALL']);
});

/** Frame `id` as its holder numbers it in memory (the log's own rules are ReplayLog's, see replay-log.test.ts). */
const frame = (id: number, d?: unknown): LoggedFrame => ({ id, text: JSON.stringify(d === undefined ? { t: 'msg', id, e: 'm' } : { t: 'msg', id, e: 'm', d }) });
/** Logs frames `from`..`from + n - 1` through `writeMany`, as the adapter does. */
const appendFrames = (on: SessionLog, sid: string, from: number, n = 1) =>
  on.replay.writeMany([{ kind: 'append', sid, frames: Array.from({ length: n }, (_, i) => frame(from + i, i)) }], WIDE);
const pttl = async (key: string) => Number(await client.sendCommand(['PTTL', key]));
const exists = async (...keys: string[]) => Number(await client.sendCommand(['EXISTS', ...keys]));

async function newSession(sid = `s${Math.random().toString(36).slice(2)}`, ttlMs = TTL): Promise<string> {
  expect(await log.create(sid, 'secret-' + sid, ttlMs)).toBe(true);
  return sid;
}

describe('create and load', () => {
  it('creates a session with zero positions, once', async () => {
    const sid = await newSession('alpha');
    expect(await log.load(sid)).toEqual({
      sid: 'alpha',
      secret: 'secret-alpha',
      auth: undefined,
      nextId: 0,
      acked: 0,
      accepted: 0,
      bytes: 0,
      firstId: 1,
      held: 0,
      owner: null,
      cid: null,
      ended: null,
      busPosition: null,
      previousSecret: null,
    });
    expect(await log.create('alpha', 'other', TTL)).toBe(false);
    expect((await log.load('alpha'))?.secret).toBe('secret-alpha');
    expect(await log.load('nobody')).toBeNull();
  });

  it('stores what authenticate returned, as JSON', async () => {
    expect(await log.create('beta', 's', TTL, { user: 'u1', roles: ['a'] })).toBe(true);
    expect((await log.load('beta'))?.auth).toEqual({ user: 'u1', roles: ['a'] });
    expect(await log.create('gamma', 's', TTL, true)).toBe(true);
    expect((await log.load('gamma'))?.auth).toBe(true);
  });

  it('rekey sets the secrets only while the current one is the one expected', async () => {
    const sid = await newSession('delta');
    expect(await log.rekey(sid, 'secret-delta', 'two', 'secret-delta')).toBe('ok');
    expect(await log.load(sid)).toMatchObject({ secret: 'two', previousSecret: 'secret-delta' });
    // Another node rotated first: this one's write is refused and changes nothing.
    expect(await log.rekey(sid, 'secret-delta', 'other', 'secret-delta')).toBe('moved');
    expect(await log.rekey(sid, 'two', 'two', null)).toBe('ok');
    expect(await log.load(sid)).toMatchObject({ secret: 'two', previousSecret: null });
    expect(await log.rekey('nobody', 'x', 'y', null)).toBe('gone');
    expect(await exists(log.keys('nobody').state)).toBe(0); // nothing made for a session that is gone
    await log.end(sid, 'ended');
    expect(await log.rekey(sid, 'two', 'three', 'two')).toBe('gone');
  });

  it('keeps every key of a session in one hash-tag slot and refuses ids that would split it', async () => {
    const k = log.keys('abc');
    expect([k.state, k.out, k.rooms]).toEqual(['rf:{abc}:state', 'rf:{abc}:out', 'rf:{abc}:rooms']);
    expect(new SessionLog(client, { keyPrefix: 'app1:' }).keys('abc').state).toBe('app1:{abc}:state');
    expect(() => log.keys('a}b')).toThrow(TypeError);
  });
});

describe('owner', () => {
  it('a new connection replaces the owner and is told which one it replaced', async () => {
    const sid = await newSession();
    expect(await log.setOwner(sid, 'node-a', 'c1')).toEqual({ ok: true, previous: null });
    expect(await log2.setOwner(sid, 'node-b', 'c2')).toEqual({ ok: true, previous: { nodeId: 'node-a', cid: 'c1' } });
    expect(await log.load(sid)).toMatchObject({ owner: 'node-b', cid: 'c2' });
    expect(await log.setOwner(sid, 'node-b', 'c3')).toEqual({ ok: true, previous: { nodeId: 'node-b', cid: 'c2' } });
    await expect(log.setOwner(sid, '', 'c4')).rejects.toThrow(TypeError);
    expect(await log.setOwner('ghost', 'node-a', 'c3')).toEqual({ ok: false });
    expect(await exists(log.keys('ghost').state)).toBe(0);
  });
});

describe('lifetime', () => {
  it('touch sets the TTL of every key; the log and rooms made later inherit the session TTL', async () => {
    const sid = await newSession(undefined, 30_000);
    await appendFrames(log, sid, 1);
    await log.join(sid, 'lobby');
    const k = log.keys(sid);
    for (const key of [k.state, k.out, k.rooms]) expect(await pttl(key)).toBeGreaterThan(25_000);

    expect(await log.touch(sid, 5_000)).toBe(true);
    for (const key of [k.state, k.out, k.rooms]) {
      const left = await pttl(key);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(5_000);
    }
    expect(await log.setOwner(sid, 'node-a', 'c1', 20_000)).toMatchObject({ ok: true });
    expect(await pttl(k.out)).toBeGreaterThan(15_000);
    expect(await pttl(k.rooms)).toBeGreaterThan(15_000);
  });

  it('a session nobody touches expires with all its keys', async () => {
    const sid = await newSession(undefined, 10_000);
    await appendFrames(log, sid, 1);
    await log.join(sid, 'lobby');
    await log.touch(sid, 120);
    const k = log.keys(sid);
    const deadline = Date.now() + 3_000;
    while ((await exists(k.state, k.out, k.rooms)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(await exists(k.state, k.out, k.rooms)).toBe(0);
    expect(await log.load(sid)).toBeNull();
    expect(await log.touch(sid, 10_000)).toBe(false);
    expect(await exists(k.state, k.out, k.rooms)).toBe(0);
  });

  it('end keeps the state with its reason, drops the log and the rooms, once', async () => {
    const sid = await newSession();
    await appendFrames(log, sid, 1);
    await log.join(sid, 'a');
    await log.join(sid, 'b');
    await log.setOwner(sid, 'node-a', 'c1');
    expect(await log.end(sid, 'expired')).toBe(true);
    expect(await log.end(sid, 'ended')).toBe(false);
    expect(await log.load(sid)).toMatchObject({ ended: 'expired', owner: null, cid: null, bytes: 0 });
    expect(await exists(log.keys(sid).out, log.keys(sid).rooms)).toBe(0);
    expect(await log.join(sid, 'c')).toBe(false);
    expect(await log.setOwner(sid, 'node-b', 'c2')).toEqual({ ok: false });
    expect(await pttl(log.keys(sid).state)).toBeGreaterThan(0);
  });
});

describe('rooms', () => {
  it("a session's rooms are kept with it; nothing outside its own keys", async () => {
    const s1 = await newSession('s1');
    const s2 = await newSession('s2');
    expect(await log.join(s1, 'lobby')).toBe(true);
    expect(await log.join(s1, 'game')).toBe(true);
    expect(await log2.join(s2, 'lobby')).toBe(true);
    expect((await log.rooms(s1)).sort()).toEqual(['game', 'lobby']);
    expect(await log.rooms(s2)).toEqual(['lobby']);
    expect(await log.leave(s1, 'lobby')).toBe(true);
    expect(await log.leave(s1, 'lobby')).toBe(false);
    expect(await log.rooms(s1)).toEqual(['game']);
    expect(await log.join('ghost', 'lobby')).toBe(false);
    const keys = (await client.sendCommand(['KEYS', '*'])) as string[];
    expect(keys.sort()).toEqual([log.keys(s1).rooms, log.keys(s1).state, log.keys(s2).rooms, log.keys(s2).state].sort());
  });
});

describe('inbox (events other nodes send a session)', () => {
  it('queues events in order for the owner, bounded, and tells who the owner is', async () => {
    const sid = await newSession();
    expect(await log.push(sid, ['{"t":"msg","e":"a"}'], 3)).toEqual({ outcome: 'ok', owner: '' });
    await log.setOwner(sid, 'node-a', 'c1');
    expect(await log.push(sid, ['{"t":"msg","e":"b"}', '{"t":"msg","e":"c"}'], 3)).toEqual({ outcome: 'ok', owner: 'node-a' });
    expect(await log.push(sid, ['{"t":"msg","e":"d"}'], 3)).toEqual({ outcome: 'full', owner: 'node-a' });
    expect(await log.readInbox(sid, 0, 10)).toEqual(['{"t":"msg","e":"a"}', '{"t":"msg","e":"b"}', '{"t":"msg","e":"c"}']);
    expect(await log.readInbox(sid, 1, 1)).toEqual(['{"t":"msg","e":"b"}']);
    expect(await log.push('ghost', ['{"t":"msg","e":"x"}'], 3)).toEqual({ outcome: 'gone', owner: '' });
    expect(await pttl(log.keys(sid).inbox)).toBeGreaterThan(0);
  });

  it('endIfIdle ends a session only if nobody attached since the given connection', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    await log.setOwner(sid, 'node-b', 'c2');
    expect(await log.endIfIdle(sid, 'c1', 'expired')).toBe(false);
    expect((await log.load(sid))!.ended).toBeNull();
    expect(await log.endIfIdle(sid, 'c2', 'expired')).toBe(true);
    expect((await log.load(sid))!.ended).toBe('expired');
    expect(await exists(log.keys(sid).inbox, log.keys(sid).out)).toBe(0);
  });

});

describe('Redis restarted (no persistence)', () => {
  it('sessions are gone: load returns null, and new sessions work again (scripts reloaded)', async () => {
    const sid = await newSession();
    await appendFrames(log, sid, 1);
    await server.restart();
    expect(await log.load(sid)).toBeNull();
    expect(await log.replay.readAfter(sid, 0, 10)).toBeNull();
    expect((await log.clientFrames.accept(sid, 1)).outcome).toBe('gone');

    const counting = countingRedis(client);
    const fresh = new SessionLog(counting);
    expect(await fresh.create('after', 's', TTL)).toBe(true);
    expect(counting.commands).toEqual(['EVALSHA', 'EVAL']); // NOSCRIPT once, then cached again
    counting.reset();
    expect(await appendFrames(fresh, 'after', 1)).toEqual([{ outcome: 'ok', nextId: 1 }]);
    expect(await fresh.create('after-2', 's', TTL)).toBe(true);
    expect(counting.commands).toEqual(['EVALSHA', 'EVAL', 'EVALSHA']);
  });
});

describe('round trips', () => {
  it('every operation is one round trip once its script is cached', async () => {
    const counting = countingRedis(client);
    const measured = new SessionLog(counting);
    const operations: [string, () => Promise<unknown>][] = [
      ['create', () => measured.create(`rt${Math.random()}`, 's', TTL)],
      ['load', () => measured.load('rt')],
      [
        'writeMany (append 1 frame)',
        async () => {
          const id = (await log.load('rt'))!.nextId + 1; // uncounted
          return measured.replay.writeMany([{ kind: 'append', sid: 'rt', frames: [frame(id, { n: 1 })] }], WIDE);
        },
      ],
      ['writeMany (10 sessions)', () => measured.replay.writeMany(Array.from({ length: 10 }, (_, i) => ({ kind: 'ack', sid: `rt${i}`, id: 1 }) as const), WIDE)],
      ['readAfter (page of 100)', () => measured.replay.readAfter('rt', 0, 100)],
      ['accept', () => measured.clientFrames.accept('rt', 1)],
      ['join', () => measured.join('rt', 'room')],
      ['rooms', () => measured.rooms('rt')],
      ['leave', () => measured.leave('rt', 'room')],
      ['setOwner (+ttl)', () => measured.setOwner('rt', 'node', 'c1', TTL)],
      ['touch', () => measured.touch('rt', TTL)],
      ['end', () => measured.end('rt', 'ended')],
    ];
    await measured.create('rt', 's', TTL);
    const rows: string[] = [];
    for (const [name, run] of operations) {
      await client.sendCommand(['SCRIPT', 'FLUSH']); // as after a Redis restart
      counting.reset();
      await run();
      const cold = [...counting.commands];
      counting.reset();
      await run();
      const warm = [...counting.commands];
      rows.push(`${name.padEnd(28)} ${warm.length}  ${warm.join(' ').padEnd(8)}  first call after SCRIPT FLUSH: ${cold.join(' + ')}`);
      expect(warm).toHaveLength(1);
    }
    console.log(`Redis round trips per SessionLog operation (steady state):\n  ${rows.join('\n  ')}`);
  });

  it('what delivering messages costs, counted', async () => {
    // Load every script once (the test before flushed them), so only the steady state is counted.
    await log.create('warm', 's', TTL);
    await appendFrames(log, 'warm', 1);
    await Promise.all([log.clientFrames.accept('warm', 1), log.join('warm', 'w'), log.replay.readAfter('warm', 0, 1)]);
    await log.setOwner('warm', 'n', 'c', TTL);
    const counting = countingRedis(client);
    const measured = new SessionLog(counting);
    await measured.create('one', 's', TTL);
    const perMessage = async (what: string, messages: number, work: () => Promise<void>) => {
      counting.reset();
      await work();
      return `${what.padEnd(62)} ${(counting.commands.length / messages).toFixed(2)} per message (${counting.commands.length} commands)`;
    };
    const rows = [
      // A connected session: each message appended; the client acknowledges cumulatively, here every 10th.
      await perMessage('1000 messages to one session, client acks every 10th', 1000, async () => {
        for (let id = 1; id <= 1000; id++) {
          await appendFrames(measured, 'one', id);
          if (id % 10 === 0) await measured.replay.writeMany([{ kind: 'ack', sid: 'one', id }], WIDE);
        }
      }),
      // Inbound: one accept per client frame (what the upstream request's checks cost comes on top, per request).
      await perMessage('100 client frames accepted', 100, async () => {
        for (let seq = 1; seq <= 100; seq++) await measured.clientFrames.accept('one', seq);
      }),
    ];
    // A resume on another node: load (secret, positions), setOwner, then the replay in pages of 100.
    await measured.create('moved', 's', TTL);
    await appendFrames(measured, 'moved', 1, 250);
    counting.reset();
    await measured.load('moved');
    await measured.setOwner('moved', 'node-b', 'c9', TTL);
    for (let last = 0; ; ) {
      const page = (await measured.replay.readAfter('moved', last, 100))!;
      if (page.frames.length === 0 || page.frames.at(-1)!.id === page.nextId) break;
      last = page.frames.at(-1)!.id;
    }
    rows.push(`${'resume with 250 frames to replay (load, setOwner, 3 pages)'.padEnd(62)} ${counting.commands.length} commands`);
    expect(counting.commands).toHaveLength(5);
    console.log(`Redis round trips per delivered message (SessionLog alone):\n  ${rows.join('\n  ')}`);
  });
});
