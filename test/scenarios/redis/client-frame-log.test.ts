// ClientFrameLog against a real redis-server: a client frame's record lives from its acceptance until `done`,
// bounded in count and bytes, and goes with the session.
import { describe, expect, it } from 'vitest';
import { SessionLog } from '../../../src/server/redis/session-log';
import { connectRedis } from './redis-client';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();
const TTL = 60_000;
const WIDE = { maxMessages: 1000, maxBytes: 1024 * 1024 };
const text = (e: string, d: unknown) => JSON.stringify({ t: 'emit', e, d });

async function newSession(log: SessionLog, sid = 's1'): Promise<string> {
  expect(await log.create(sid, 'secret', TTL)).toBe(true);
  return sid;
}

describe('client frame records', () => {
  it('keeps a fresh frame until done, in seq order; a duplicate or refused accept records nothing', async () => {
    const log = new SessionLog(redis.admin);
    const frames = log.clientFrames;
    const sid = await newSession(log);
    expect(await frames.accept(sid, 1, undefined, { text: text('a', 1), limits: WIDE })).toEqual({ outcome: 'accepted', accepted: 1 });
    expect(await frames.accept(sid, 2, undefined, { text: text('b', 2), limits: WIDE })).toEqual({ outcome: 'accepted', accepted: 2 });
    expect(await frames.accept(sid, 2, undefined, { text: text('b', 'again'), limits: WIDE })).toEqual({ outcome: 'duplicate', accepted: 2 });
    expect(await frames.accept(sid, 4, undefined, { text: text('gap', 4), limits: WIDE })).toEqual({ outcome: 'gap', accepted: 2 });
    expect(await frames.unfinished(sid)).toEqual([
      { seq: 1, text: text('a', 1) },
      { seq: 2, text: text('b', 2) },
    ]);
    expect(await frames.done(sid, [2])).toBe(1);
    expect(await frames.done(sid, [2])).toBe(0); // done once is done
    expect(await frames.unfinished(sid)).toEqual([{ seq: 1, text: text('a', 1) }]);
    expect(await redis.admin.sendCommand(['HGET', `rf:{${sid}}:state`, 'pbytes'])).toBe(String(text('a', 1).length));
  });

  it('holds at most maxMessages records and maxBytes bytes: the oldest go, the newest always stays', async () => {
    const log = new SessionLog(redis.admin);
    const sid = await newSession(log);
    const limits = { maxMessages: 3, maxBytes: 200 };
    for (let seq = 1; seq <= 5; seq++) await log.clientFrames.accept(sid, seq, undefined, { text: text('e', seq), limits });
    expect((await log.clientFrames.unfinished(sid)).map((r) => r.seq)).toEqual([3, 4, 5]);
    const big = text('big', 'x'.repeat(140)); // 168 bytes: with one 26-byte record it fits in 200
    expect(await log.clientFrames.accept(sid, 6, undefined, { text: big, limits })).toEqual({ outcome: 'accepted', accepted: 6, dropped: 2 });
    expect((await log.clientFrames.unfinished(sid)).map((r) => r.seq)).toEqual([5, 6]);
    const huge = text('huge', 'x'.repeat(300));
    expect((await log.clientFrames.accept(sid, 7, undefined, { text: huge, limits })).dropped).toBe(2);
    expect(await log.clientFrames.unfinished(sid)).toEqual([{ seq: 7, text: huge }]);
  });

  it('the records expire with the session and go when it ends', async () => {
    const log = new SessionLog(redis.admin);
    const sid = await newSession(log);
    await log.clientFrames.accept(sid, 1, undefined, { text: text('a', 1), limits: WIDE });
    const ttl = Number(await redis.admin.sendCommand(['PTTL', `rf:{${sid}}:pending`]));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL);
    await log.touch(sid, 2 * TTL);
    expect(Number(await redis.admin.sendCommand(['PTTL', `rf:{${sid}}:pending`]))).toBeGreaterThan(TTL);
    await log.end(sid, 'ended');
    expect(await log.clientFrames.unfinished(sid)).toEqual([]);
    expect((await log.clientFrames.accept(sid, 2, undefined, { text: text('b', 2), limits: WIDE })).outcome).toBe('gone');
  });
});

describe('accept', () => {
  it('accepts the next seq only: duplicate below, gap above', async () => {
    const log = new SessionLog(redis.admin);
    const sid = await newSession(log);
    expect(await log.clientFrames.accept(sid, 1)).toEqual({ outcome: 'accepted', accepted: 1 });
    expect(await log.clientFrames.accept(sid, 1)).toEqual({ outcome: 'duplicate', accepted: 1 });
    expect(await log.clientFrames.accept(sid, 3)).toEqual({ outcome: 'gap', accepted: 1 });
    expect(await log.clientFrames.accept(sid, 2)).toEqual({ outcome: 'accepted', accepted: 2 });
    expect((await log.load(sid))?.accepted).toBe(2);
    expect(await log.clientFrames.accept('ghost', 1)).toEqual({ outcome: 'gone', accepted: 0 });
    await log.end(sid, 'ended');
    expect((await log.clientFrames.accept(sid, 3)).outcome).toBe('gone');
  });

  it('of many parallel accepts of one seq from two clients, exactly one is accepted', async () => {
    const log = new SessionLog(redis.admin);
    const log2 = new SessionLog(await connectRedis(redis.url));
    const sid = await newSession(log);
    for (let seq = 1; seq <= 20; seq++) {
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? log : log2).clientFrames.accept(sid, seq)));
      const outcomes = results.map((r) => r.outcome);
      expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(15);
    }
    expect((await log.load(sid))?.accepted).toBe(20);
  });
});
