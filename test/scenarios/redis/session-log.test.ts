// SessionLog against a real redis-server: one server for this file, FLUSHALL before each test.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MessageFrame } from '../../../src/protocol/frames';
import { ReplayBuffer } from '../../../src/server/replay-buffer';
import type { UnnumberedFrame } from '../../../src/server/redis/frame-template';
import { SessionLog, type ReplayLimits } from '../../../src/server/redis/session-log';
import { seededRandom } from '../../support/seeded-random';
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

const msg = (e: string, d?: unknown): UnnumberedFrame => (d === undefined ? { t: 'msg', e } : { t: 'msg', e, d });
/** What Session sends in memory for the same frame: the reference the logged text must equal. */
const inMemoryText = (id: number, e: string, d?: unknown): string => {
  const frame: MessageFrame = d === undefined ? { t: 'msg', id: 0, e } : { t: 'msg', id: 0, e, d };
  frame.id = id;
  return JSON.stringify(frame);
};
const bytesOf = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
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

describe('append and readAfter', () => {
  it('numbers frames 1, 2, 3… and logs the same text Session sends in memory', async () => {
    const sid = await newSession();
    const data = [undefined, { n: 1 }, 'héllo 🌍', [1, 2, 3]];
    const logged = [];
    for (const [i, d] of data.entries()) logged.push(await log.append(sid, msg(`e${i}`, d), WIDE));
    expect(logged.map((f) => f?.id)).toEqual([1, 2, 3, 4]);
    expect(logged.map((f) => f?.text)).toEqual(data.map((d, i) => inMemoryText(i + 1, `e${i}`, d)));
    const read = await log.readAfter(sid, 0, 10);
    expect(read).toEqual({ frames: logged, overrun: false, nextId: 4 });
    const state = await log.load(sid);
    expect(state).toMatchObject({ nextId: 4, firstId: 1, held: 4, bytes: bytesOf(logged.map((f) => f!.text)) });
  });

  it('numbers a reply frame with its fields in order and ignores a stray id', async () => {
    const sid = await newSession();
    const stray = { t: 'reply', id: 99, re: 7, d: { ok: true } } as unknown as UnnumberedFrame;
    expect(await log.append(sid, stray, WIDE)).toEqual({ id: 1, text: '{"t":"reply","id":1,"re":7,"d":{"ok":true}}' });
  });

  it('appendMany numbers a batch in one call, continuing the sequence', async () => {
    const sid = await newSession();
    await log.append(sid, msg('first'), WIDE);
    const batch = await log.appendMany(sid, [msg('a'), msg('b'), msg('c')], WIDE);
    expect(batch?.map((f) => f.id)).toEqual([2, 3, 4]);
    expect(batch?.map((f) => f.text)).toEqual(['a', 'b', 'c'].map((e, i) => inMemoryText(i + 2, e)));
    expect((await log.readAfter(sid, 1, 10))?.frames).toEqual(batch);
  });

  it('reads at most `count` frames a call, in order, and pages through the log', async () => {
    const sid = await newSession();
    await log.appendMany(sid, Array.from({ length: 25 }, (_, i) => msg('tick', i)), WIDE);
    const pages: number[][] = [];
    let last = 0;
    for (;;) {
      const page = await log.readAfter(sid, last, 10);
      expect(page?.overrun).toBe(false);
      expect(page?.nextId).toBe(25);
      if (!page || page.frames.length === 0) break;
      expect(page.frames.length).toBeLessThanOrEqual(10);
      pages.push(page.frames.map((f) => f.id));
      last = page.frames.at(-1)!.id;
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('writes nothing for a session that is gone or ended', async () => {
    expect(await log.append('ghost', msg('x'), WIDE)).toBeNull();
    expect(await exists(...Object.values(log.keys('ghost')))).toBe(0);
    const sid = await newSession();
    await log.end(sid, 'ended');
    expect(await log.append(sid, msg('x'), WIDE)).toBeNull();
    expect(await exists(log.keys(sid).out)).toBe(0);
    expect(await log.readAfter('ghost', 0, 10)).toBeNull();
  });
});

describe('appendNumbered (the owner numbers frames in memory)', () => {
  const numbered = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, text: inMemoryText(from + i, 'o', i) }));

  it('logs frames numbered by their owner when they continue the sequence, all or nothing', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    expect(await log.appendNumbered(sid, numbered(1, 3), WIDE, 'c1')).toEqual({ outcome: 'ok', nextId: 3 });
    expect(await log.appendNumbered(sid, numbered(5, 1), WIDE, 'c1')).toEqual({ outcome: 'conflict', nextId: 3 });
    expect(await log.appendNumbered(sid, numbered(3, 2), WIDE, 'c1')).toEqual({ outcome: 'conflict', nextId: 3 });
    expect((await log.append(sid, msg('m'), WIDE))?.id).toBe(4); // both ways of numbering share one sequence
    expect(await log.appendNumbered(sid, numbered(5, 2), WIDE)).toEqual({ outcome: 'ok', nextId: 6 });
    const read = (await log.readAfter(sid, 0, 100))!;
    expect(read.frames.map((f) => f.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(read.frames[0]).toEqual(numbered(1, 1)[0]);
    expect((await log.load(sid))?.bytes).toBe(bytesOf(read.frames.map((f) => f.text)));
    await expect(log.appendNumbered(sid, [numbered(7, 1)[0]!, numbered(9, 1)[0]!], WIDE)).rejects.toThrow(RangeError);
  });

  it('a node that lost the session cannot write into it or accept for it', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    await log2.setOwner(sid, 'node-b', 'c2');
    expect(await log.appendNumbered(sid, numbered(1, 1), WIDE, 'c1')).toEqual({ outcome: 'not_owner', nextId: 0 });
    expect(await log.accept(sid, 1, 'c1')).toEqual({ outcome: 'not_owner', accepted: 0 });
    expect(await log2.accept(sid, 1, 'c2')).toEqual({ outcome: 'accepted', accepted: 1 });
    expect(await log2.appendNumbered(sid, numbered(1, 1), WIDE, 'c2')).toEqual({ outcome: 'ok', nextId: 1 });
    expect(await log.load(sid)).toMatchObject({ nextId: 1, accepted: 1, held: 1 });
    expect(await log.appendNumbered('ghost', numbered(1, 1), WIDE)).toEqual({ outcome: 'gone' });
    expect(await exists(log.keys('ghost').out)).toBe(0);
  });

  it('is bounded by the same limits as append', async () => {
    const sid = await newSession();
    const frames = numbered(1, 9);
    expect(await log.appendNumbered(sid, frames, { maxMessages: 4, maxBytes: 1024 * 1024 })).toEqual({ outcome: 'ok', nextId: 9 });
    expect(await log.load(sid)).toMatchObject({ firstId: 6, held: 4, bytes: bytesOf(frames.slice(5).map((f) => f.text)) });
    expect((await log.readAfter(sid, 4, 10))?.overrun).toBe(true);
  });
});

describe('ack', () => {
  it('trims acknowledged frames and takes exactly their bytes off', async () => {
    const sid = await newSession();
    const logged = (await log.appendMany(sid, ['ascii', 'é', '日本語', '🌍🌍', 'z'].map((d) => msg('m', d)), WIDE))!;
    const texts = logged.map((f) => f.text);
    expect((await log.load(sid))?.bytes).toBe(bytesOf(texts));

    expect(await log.ack(sid, 3)).toBe(3);
    expect(await log.load(sid)).toMatchObject({ acked: 3, firstId: 4, held: 2, bytes: bytesOf(texts.slice(3)) });
    expect(Number(await client.sendCommand(['LLEN', log.keys(sid).out]))).toBe(2);

    expect(await log.ack(sid, 2)).toBe(3); // never backwards
    expect(await log.ack(sid, 1000)).toBe(5); // never past the last id assigned
    expect(await log.load(sid)).toMatchObject({ acked: 5, firstId: 6, held: 0, bytes: 0 });
    expect(await log.ack('ghost', 1)).toBeNull();
  });

  it('refuses a resume from before the acknowledged position, as ReplayBuffer does', async () => {
    const sid = await newSession();
    await log.appendMany(sid, [msg('a'), msg('b'), msg('c')], WIDE);
    await log.ack(sid, 2);
    expect(await log.readAfter(sid, 1, 10)).toEqual({ frames: [], overrun: true, nextId: 3 });
    expect((await log.readAfter(sid, 2, 10))?.frames.map((f) => f.id)).toEqual([3]);
  });
});

describe('limits', () => {
  it('the count limit drops the oldest frames and a stale `last` is an overrun', async () => {
    const sid = await newSession();
    const limits = { maxMessages: 5, maxBytes: 1024 * 1024 };
    const logged = [];
    for (let i = 1; i <= 8; i++) logged.push((await log.append(sid, msg('m', i), limits))!);
    expect(await log.load(sid)).toMatchObject({ nextId: 8, firstId: 4, held: 5, bytes: bytesOf(logged.slice(3).map((f) => f.text)) });
    expect(await log.readAfter(sid, 2, 100)).toEqual({ frames: [], overrun: true, nextId: 8 });
    expect(await log.readAfter(sid, 3, 100)).toEqual({ frames: logged.slice(3), overrun: false, nextId: 8 });
  });

  it('the byte limit drops the oldest frames; a frame larger than the limit is not kept at all', async () => {
    const sid = await newSession();
    const pad = 'x'.repeat(80);
    const one = inMemoryText(1, 'm', pad).length; // ids 1..9 have the same length
    const limits = { maxMessages: 1000, maxBytes: one * 3 + 10 };
    const logged = [];
    for (let i = 0; i < 6; i++) logged.push((await log.append(sid, msg('m', pad), limits))!);
    expect(await log.load(sid)).toMatchObject({ firstId: 4, held: 3, bytes: bytesOf(logged.slice(3).map((f) => f.text)) });
    expect((await log.readAfter(sid, 2, 10))?.overrun).toBe(true);

    const huge = await log.append(sid, msg('m', 'y'.repeat(one * 4)), limits);
    expect(huge?.id).toBe(7);
    expect(await log.load(sid)).toMatchObject({ nextId: 7, firstId: 8, held: 0, bytes: 0 });
    expect(await log.readAfter(sid, 7, 10)).toEqual({ frames: [], overrun: false, nextId: 7 });
    expect((await log.readAfter(sid, 6, 10))?.overrun).toBe(true);
  });

  it('holds what ReplayBuffer holds over a random run of appends, acks and resumes', async () => {
    const sid = await newSession();
    const limits = { maxMessages: 7, maxBytes: 600 };
    const buffer = new ReplayBuffer(limits.maxMessages, limits.maxBytes);
    const random = seededRandom(11);
    let nextId = 0;
    const resumes = { refused: 0, honoured: 0 };
    for (let step = 0; step < 300; step++) {
      const r = random();
      if (r < 0.6) {
        const d = 'é'.repeat(Math.floor(random() * 120));
        const logged = (await log.append(sid, msg('m', d), limits))!;
        const frame: MessageFrame = { t: 'msg', id: logged.id, e: 'm', d };
        buffer.push(frame, logged.text);
        nextId = logged.id;
      } else if (r < 0.8) {
        const id = Math.floor(random() * (nextId + 2));
        await log.ack(sid, id);
        buffer.ack(Math.min(id, nextId));
      } else {
        const last = Math.floor(random() * (nextId + 1));
        const expected = buffer.after(last);
        const read = (await log.readAfter(sid, last, 1000))!;
        expect(read.overrun).toBe(expected === null);
        resumes[expected === null ? 'refused' : 'honoured']++;
        expect(read.frames).toEqual((expected ?? []).map((e) => ({ id: e.frame.id, text: e.text })));
      }
      const state = (await log.load(sid))!;
      expect([state.held, state.bytes]).toEqual([buffer.size, buffer.byteSize]);
    }
    // The run must have covered both answers, or it proved little.
    expect(resumes.refused).toBeGreaterThan(5);
    expect(resumes.honoured).toBeGreaterThan(5);
  });
});

describe('accept', () => {
  it('accepts the next seq only: duplicate below, gap above', async () => {
    const sid = await newSession();
    expect(await log.accept(sid, 1)).toEqual({ outcome: 'accepted', accepted: 1 });
    expect(await log.accept(sid, 1)).toEqual({ outcome: 'duplicate', accepted: 1 });
    expect(await log.accept(sid, 3)).toEqual({ outcome: 'gap', accepted: 1 });
    expect(await log.accept(sid, 2)).toEqual({ outcome: 'accepted', accepted: 2 });
    expect((await log.load(sid))?.accepted).toBe(2);
    expect(await log.accept('ghost', 1)).toEqual({ outcome: 'gone', accepted: 0 });
    await log.end(sid, 'ended');
    expect((await log.accept(sid, 3)).outcome).toBe('gone');
  });

  it('of many parallel accepts of one seq from two clients, exactly one is accepted', async () => {
    const sid = await newSession();
    for (let seq = 1; seq <= 20; seq++) {
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? log : log2).accept(sid, seq)));
      const outcomes = results.map((r) => r.outcome);
      expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(15);
    }
    expect((await log.load(sid))?.accepted).toBe(20);
  });
});

describe('two nodes writing one session', () => {
  it('interleaved appends from two clients get unique, consecutive ids, each in its own text', async () => {
    const sid = await newSession();
    const writes = Array.from({ length: 200 }, (_, i) => (i % 2 ? log : log2).append(sid, msg(`w${i}`), WIDE));
    const logged = (await Promise.all(writes)).map((f) => f!);
    const ids = logged.map((f) => f.id).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const all = [];
    for (let last = 0; ; ) {
      const page = (await log.readAfter(sid, last, 64))!;
      if (page.frames.length === 0) break;
      all.push(...page.frames);
      last = page.frames.at(-1)!.id;
    }
    expect(all.map((f) => f.id)).toEqual(ids);
    for (const f of all) expect((JSON.parse(f.text) as MessageFrame).id).toBe(f.id);
    const byEvent = new Map(logged.map((f) => [JSON.parse(f.text).e as string, f.id]));
    expect(byEvent.size).toBe(200);
  });
});

describe('owner', () => {
  it('a new connection replaces the owner; only the current cid may clear it', async () => {
    const sid = await newSession();
    expect(await log.setOwner(sid, 'node-a', 'c1')).toEqual({ ok: true, previous: null });
    expect(await log2.setOwner(sid, 'node-b', 'c2')).toEqual({ ok: true, previous: { nodeId: 'node-a', cid: 'c1' } });
    expect(await log.clearOwner(sid, 'c1')).toBe(false); // the replaced connection closing late
    expect(await log.load(sid)).toMatchObject({ owner: 'node-b', cid: 'c2' });
    expect(await log2.clearOwner(sid, 'c2')).toBe(true);
    expect(await log.load(sid)).toMatchObject({ owner: null, cid: null });
    expect(await log.clearOwner(sid, 'c2')).toBe(false);
    expect(await log.setOwner('ghost', 'node-a', 'c3')).toEqual({ ok: false });
    expect(await exists(log.keys('ghost').state)).toBe(0);
  });
});

describe('lifetime', () => {
  it('touch sets the TTL of every key; the log and rooms made later inherit the session TTL', async () => {
    const sid = await newSession(undefined, 30_000);
    await log.append(sid, msg('m'), WIDE);
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
    expect(await log.clearOwner(sid, 'c1', 2_000)).toBe(true);
    expect(await pttl(k.rooms)).toBeLessThanOrEqual(2_000);
  });

  it('a session nobody touches expires with all its keys', async () => {
    const sid = await newSession(undefined, 10_000);
    await log.append(sid, msg('m'), WIDE);
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
    await log.append(sid, msg('m'), WIDE);
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
  const numbered = (from: number, texts: string[]) => texts.map((t, i) => ({ id: from + i, text: t.replace('"t":"msg"', `"t":"msg","id":${from + i}`) }));


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

  it('numbering drained entries removes them in the same step; a refused append leaves them for the next owner', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    await log.push(sid, ['{"t":"msg","e":"a"}', '{"t":"msg","e":"b"}', '{"t":"msg","e":"c"}'], 10);
    const two = numbered(1, await log.readInbox(sid, 0, 2));
    expect(await log.appendNumbered(sid, two, WIDE, 'c1', 2)).toEqual({ outcome: 'ok', nextId: 2 });
    expect(await log.readInbox(sid, 0, 10)).toEqual(['{"t":"msg","e":"c"}']);
    // Another connection took the session over: the stale node's drain changes nothing.
    await log2.setOwner(sid, 'node-b', 'c2');
    expect(await log.appendNumbered(sid, numbered(3, ['{"t":"msg","e":"c"}']), WIDE, 'c1', 1)).toEqual({ outcome: 'not_owner', nextId: 2 });
    expect(await log.readInbox(sid, 0, 10)).toEqual(['{"t":"msg","e":"c"}']);
    expect(await log2.appendNumbered(sid, numbered(3, ['{"t":"msg","e":"c"}']), WIDE, 'c2', 1)).toEqual({ outcome: 'ok', nextId: 3 });
    expect(await log.readInbox(sid, 0, 10)).toEqual([]);
    expect((await log.readAfter(sid, 0, 10))!.frames.map((f) => f.text)).toEqual([
      '{"t":"msg","id":1,"e":"a"}',
      '{"t":"msg","id":2,"e":"b"}',
      '{"t":"msg","id":3,"e":"c"}',
    ]);
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
    await log.append(sid, msg('m'), WIDE);
    await server.restart();
    expect(await log.load(sid)).toBeNull();
    expect(await log.readAfter(sid, 0, 10)).toBeNull();
    expect((await log.accept(sid, 1)).outcome).toBe('gone');

    const counting = countingRedis(client);
    const fresh = new SessionLog(counting);
    expect(await fresh.create('after', 's', TTL)).toBe(true);
    expect(counting.commands).toEqual(['EVALSHA', 'EVAL']); // NOSCRIPT once, then cached again
    counting.reset();
    expect((await fresh.append('after', msg('m'), WIDE))?.id).toBe(1);
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
      ['append', () => measured.append('rt', msg('m', { n: 1 }), WIDE)],
      ['appendMany (10 frames)', () => measured.appendMany('rt', Array.from({ length: 10 }, () => msg('m')), WIDE)],
      [
        'appendNumbered (1 frame)',
        async () => {
          const id = (await log.load('rt'))!.nextId + 1; // uncounted
          return measured.appendNumbered('rt', [{ id, text: inMemoryText(id, 'm') }], WIDE);
        },
      ],
      ['readAfter (page of 100)', () => measured.readAfter('rt', 0, 100)],
      ['ack', () => measured.ack('rt', 5)],
      ['accept', () => measured.accept('rt', 1)],
      ['join', () => measured.join('rt', 'room')],
      ['rooms', () => measured.rooms('rt')],
      ['leave', () => measured.leave('rt', 'room')],
      ['setOwner (+ttl)', () => measured.setOwner('rt', 'node', 'c1', TTL)],
      ['clearOwner (+ttl)', () => measured.clearOwner('rt', 'c1', TTL)],
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
      rows.push(`${name.padEnd(24)} ${warm.length}  ${warm.join(' ').padEnd(8)}  first call after SCRIPT FLUSH: ${cold.join(' + ')}`);
      expect(warm).toHaveLength(1);
    }
    console.log(`Redis round trips per SessionLog operation (steady state):\n  ${rows.join('\n  ')}`);
  });

  it('what delivering messages costs, counted', async () => {
    // Load every script once (the test before flushed them), so only the steady state is counted.
    await log.create('warm', 's', TTL);
    await log.append('warm', msg('m'), WIDE);
    await Promise.all([log.ack('warm', 1), log.accept('warm', 1), log.join('warm', 'w'), log.readAfter('warm', 0, 1)]);
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
        for (let i = 1; i <= 1000; i++) {
          const f = await measured.append('one', msg('m', i), WIDE);
          if (f!.id % 10 === 0) await measured.ack('one', f!.id);
        }
      }),
      // Inbound: one accept per client frame (what the upstream request's checks cost comes on top, per request).
      await perMessage('100 client frames accepted', 100, async () => {
        for (let seq = 1; seq <= 100; seq++) await measured.accept('one', seq);
      }),
    ];
    // A resume on another node: load (secret, positions), setOwner, then the replay in pages of 100.
    await measured.create('moved', 's', TTL);
    await measured.appendMany('moved', Array.from({ length: 250 }, (_, i) => msg('m', i)), WIDE);
    counting.reset();
    await measured.load('moved');
    await measured.setOwner('moved', 'node-b', 'c9', TTL);
    for (let last = 0; ; ) {
      const page = (await measured.readAfter('moved', last, 100))!;
      if (page.frames.length === 0 || page.frames.at(-1)!.id === page.nextId) break;
      last = page.frames.at(-1)!.id;
    }
    rows.push(`${'resume with 250 frames to replay (load, setOwner, 3 pages)'.padEnd(62)} ${counting.commands.length} commands`);
    expect(counting.commands).toHaveLength(5);
    console.log(`Redis round trips per delivered message (SessionLog alone):\n  ${rows.join('\n  ')}`);
  });
});
