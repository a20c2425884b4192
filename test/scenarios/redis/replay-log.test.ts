// ReplayLog against a real redis-server: the frames a client has not acknowledged, written by the node holding the
// session (numbered in memory), bounded like ReplayBuffer, read back in pages.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MessageFrame } from '../../../src/protocol/frames';
import { ReplayBuffer } from '../../../src/server/replay-buffer';
import type { LoggedFrame, ReplayLimits, SessionWrite } from '../../../src/server/redis/replay-log';
import { SessionLog } from '../../../src/server/redis/session-log';
import { seededRandom } from '../../support/seeded-random';
import { connectRedis } from './redis-client';
import { useRedisPerFile } from './redis-per-file';

const redis = useRedisPerFile();
const WIDE: ReplayLimits = { maxMessages: 1000, maxBytes: 1024 * 1024 };
const TTL = 60_000;

let log: SessionLog;
let log2: SessionLog;

beforeAll(async () => {
  log = new SessionLog(redis.admin);
  log2 = new SessionLog(await connectRedis(redis.url));
});

/** What Session sends in memory for a frame: the reference the logged text must equal. */
const inMemoryText = (id: number, e: string, d?: unknown): string => {
  const frame: MessageFrame = d === undefined ? { t: 'msg', id: 0, e } : { t: 'msg', id: 0, e, d };
  frame.id = id;
  return JSON.stringify(frame);
};
const numbered = (from: number, n: number, e = 'o'): LoggedFrame[] => Array.from({ length: n }, (_, i) => ({ id: from + i, text: inMemoryText(from + i, e, i) }));
const bytesOf = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
const exists = async (...keys: string[]) => Number(await redis.admin.sendCommand(['EXISTS', ...keys]));

async function newSession(sid = `s${Math.random().toString(36).slice(2)}`): Promise<string> {
  expect(await log.create(sid, 'secret-' + sid, TTL)).toBe(true);
  return sid;
}

/** One append through `writeMany`, as WriteGroup sends it. */
async function append(sid: string, frames: readonly LoggedFrame[], limits = WIDE, cid?: string, drained?: number, on = log) {
  const [result] = await on.replay.writeMany([{ kind: 'append', sid, frames, cid, ...(drained === undefined ? {} : { drained }) }], limits);
  return result;
}

/** Logs one frame `e`/`d` with the next id (read first): for tests that need frames in the log. */
async function appendNext(sid: string, e: string, d?: unknown, limits = WIDE): Promise<LoggedFrame> {
  const id = (await log.load(sid))!.nextId + 1;
  const frame = { id, text: inMemoryText(id, e, d) };
  expect(await append(sid, [frame], limits)).toMatchObject({ outcome: 'ok' });
  return frame;
}

/** An ack through `writeMany`: the new cumulative ack, -1 when the session is gone. */
async function ack(sid: string, id: number): Promise<number> {
  const [result] = await log.replay.writeMany([{ kind: 'ack', sid, id }], { maxMessages: 1, maxBytes: 1 }); // limits bind appends only
  return result?.outcome === 'acked' ? result.acked : NaN;
}

describe('append and readAfter', () => {
  it('logs frames as their holder numbered and encoded them, and reads back the same texts', async () => {
    const sid = await newSession();
    const data = [undefined, { n: 1 }, 'héllo 🌍', [1, 2, 3]];
    const frames = data.map((d, i) => ({ id: i + 1, text: inMemoryText(i + 1, `e${i}`, d) }));
    expect(await append(sid, frames)).toEqual({ outcome: 'ok', nextId: 4 });
    expect(await log.replay.readAfter(sid, 0, 10)).toEqual({ frames, overrun: false, nextId: 4 });
    expect(await log.load(sid)).toMatchObject({ nextId: 4, firstId: 1, held: 4, bytes: bytesOf(frames.map((f) => f.text)) });
  });

  it('fills a template shared by frames of several sessions with each frame id', async () => {
    const [s1, s2] = [await newSession(), await newSession()];
    await append(s1, numbered(1, 2));
    const template = { prefix: '{"t":"msg","id":', suffix: ',"e":"news","d":"é"}' };
    const shared = (id: number): LoggedFrame => ({ id, text: `${template.prefix}${id}${template.suffix}`, template });
    const results = await log.replay.writeMany(
      [
        { kind: 'append', sid: s1, frames: [shared(3)] },
        { kind: 'append', sid: s2, frames: [shared(1), shared(2)] },
      ],
      WIDE,
    );
    expect(results).toEqual([{ outcome: 'ok', nextId: 3 }, { outcome: 'ok', nextId: 2 }]);
    expect((await log.replay.readAfter(s1, 2, 10))?.frames).toEqual([{ id: 3, text: shared(3).text }]);
    expect((await log.replay.readAfter(s2, 0, 10))?.frames.map((f) => f.text)).toEqual([shared(1).text, shared(2).text]);
    expect((await log.load(s2))?.bytes).toBe(bytesOf([shared(1).text, shared(2).text]));
  });

  it('writes of several sessions in one call succeed or fail each on its own, in order', async () => {
    const [s1, s2] = [await newSession(), await newSession()];
    const writes: SessionWrite[] = [
      { kind: 'append', sid: s1, frames: numbered(1, 2) },
      { kind: 'append', sid: s2, frames: numbered(2, 1) }, // not the next id
      { kind: 'append', sid: 'ghost', frames: numbered(1, 1) },
      { kind: 'ack', sid: s1, id: 1 }, // sees the append before it
      { kind: 'ack', sid: 'ghost', id: 1 },
    ];
    expect(await log.replay.writeMany(writes, WIDE)).toEqual([
      { outcome: 'ok', nextId: 2 },
      { outcome: 'conflict', nextId: 0 },
      { outcome: 'gone' },
      { outcome: 'acked', acked: 1 },
      { outcome: 'acked', acked: -1 },
    ]);
    expect(await log.load(s2)).toMatchObject({ nextId: 0, held: 0 });
    expect(await log.replay.writeMany([], WIDE)).toEqual([]);
  });

  it('reads at most `count` frames a call, in order, and pages through the log', async () => {
    const sid = await newSession();
    await append(sid, numbered(1, 25, 'tick'));
    const pages: number[][] = [];
    let last = 0;
    for (;;) {
      const page = await log.replay.readAfter(sid, last, 10);
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
    expect(await append('ghost', numbered(1, 1))).toEqual({ outcome: 'gone' });
    expect(await exists(...Object.values(log.keys('ghost')))).toBe(0);
    const sid = await newSession();
    await log.end(sid, 'ended');
    expect(await append(sid, numbered(1, 1))).toEqual({ outcome: 'gone' });
    expect(await exists(log.keys(sid).out)).toBe(0);
    expect(await log.replay.readAfter('ghost', 0, 10)).toBeNull();
  });

  it('refuses frame ids that are not consecutive, and bad numbers, before anything is sent', async () => {
    const sid = await newSession();
    await expect(append(sid, [numbered(1, 1)[0]!, numbered(3, 1)[0]!])).rejects.toThrow(RangeError);
    await expect(append(sid, [])).rejects.toThrow(RangeError);
    await expect(log.replay.readAfter(sid, -1, 10)).rejects.toThrow(RangeError);
    await expect(log.replay.readAfter(sid, 0, 0)).rejects.toThrow(RangeError);
    expect(await log.load(sid)).toMatchObject({ nextId: 0 });
  });
});

describe('appends fenced by the holding connection', () => {
  it('logs frames only when they continue the sequence, all or nothing', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    expect(await append(sid, numbered(1, 3), WIDE, 'c1')).toEqual({ outcome: 'ok', nextId: 3 });
    expect(await append(sid, numbered(5, 1), WIDE, 'c1')).toEqual({ outcome: 'conflict', nextId: 3 });
    expect(await append(sid, numbered(3, 2), WIDE, 'c1')).toEqual({ outcome: 'conflict', nextId: 3 });
    expect(await append(sid, numbered(4, 3))).toEqual({ outcome: 'ok', nextId: 6 }); // no cid: not fenced
    const read = (await log.replay.readAfter(sid, 0, 100))!;
    expect(read.frames.map((f) => f.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(read.frames[0]).toEqual(numbered(1, 1)[0]);
    expect((await log.load(sid))?.bytes).toBe(bytesOf(read.frames.map((f) => f.text)));
  });

  it('a node that lost the session cannot write into it or accept for it', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    await log2.setOwner(sid, 'node-b', 'c2');
    expect(await append(sid, numbered(1, 1), WIDE, 'c1')).toEqual({ outcome: 'not_owner', nextId: 0 });
    expect(await log.clientFrames.accept(sid, 1, 'c1')).toEqual({ outcome: 'not_owner', accepted: 0 });
    expect(await log2.clientFrames.accept(sid, 1, 'c2')).toEqual({ outcome: 'accepted', accepted: 1 });
    expect(await append(sid, numbered(1, 1), WIDE, 'c2', undefined, log2)).toEqual({ outcome: 'ok', nextId: 1 });
    expect(await log.load(sid)).toMatchObject({ nextId: 1, accepted: 1, held: 1 });
  });

  it('of two nodes writing the same ids at once, exactly one succeeds', async () => {
    const sid = await newSession();
    for (let round = 0; round < 20; round++) {
      const from = round * 2 + 1;
      const results = await Promise.all([append(sid, numbered(from, 2, 'a')), append(sid, numbered(from, 2, 'b'), WIDE, undefined, undefined, log2)]);
      expect(results.map((r) => r?.outcome).sort()).toEqual(['conflict', 'ok']);
    }
    const read = (await log.replay.readAfter(sid, 0, 100))!;
    expect(read.frames.map((f) => f.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const f of read.frames) expect((JSON.parse(f.text) as MessageFrame).id).toBe(f.id);
  });
});

describe('ack', () => {
  it('trims acknowledged frames and takes exactly their bytes off', async () => {
    const sid = await newSession();
    const frames = ['ascii', 'é', '日本語', '🌍🌍', 'z'].map((d, i) => ({ id: i + 1, text: inMemoryText(i + 1, 'm', d) }));
    await append(sid, frames);
    const texts = frames.map((f) => f.text);
    expect((await log.load(sid))?.bytes).toBe(bytesOf(texts));

    expect(await ack(sid, 3)).toBe(3);
    expect(await log.load(sid)).toMatchObject({ acked: 3, firstId: 4, held: 2, bytes: bytesOf(texts.slice(3)) });
    expect(Number(await redis.admin.sendCommand(['LLEN', log.keys(sid).out]))).toBe(2);

    expect(await ack(sid, 2)).toBe(3); // never backwards
    expect(await ack(sid, 1000)).toBe(5); // never past the last id assigned
    expect(await log.load(sid)).toMatchObject({ acked: 5, firstId: 6, held: 0, bytes: 0 });
    expect(await ack('ghost', 1)).toBe(-1);
  });

  it('refuses a resume from before the acknowledged position, as ReplayBuffer does', async () => {
    const sid = await newSession();
    await append(sid, numbered(1, 3));
    await ack(sid, 2);
    expect(await log.replay.readAfter(sid, 1, 10)).toEqual({ frames: [], overrun: true, nextId: 3 });
    expect((await log.replay.readAfter(sid, 2, 10))?.frames.map((f) => f.id)).toEqual([3]);
  });
});

describe('limits', () => {
  it('the count limit drops the oldest frames and a stale `last` is an overrun', async () => {
    const sid = await newSession();
    const limits = { maxMessages: 5, maxBytes: 1024 * 1024 };
    const logged = [];
    for (let i = 1; i <= 8; i++) logged.push(await appendNext(sid, 'm', i, limits));
    expect(await log.load(sid)).toMatchObject({ nextId: 8, firstId: 4, held: 5, bytes: bytesOf(logged.slice(3).map((f) => f.text)) });
    expect(await log.replay.readAfter(sid, 2, 100)).toEqual({ frames: [], overrun: true, nextId: 8 });
    expect(await log.replay.readAfter(sid, 3, 100)).toEqual({ frames: logged.slice(3), overrun: false, nextId: 8 });
    // A batch larger than the limit keeps its newest frames only.
    expect(await append(sid, numbered(9, 9), limits)).toEqual({ outcome: 'ok', nextId: 17 });
    expect(await log.load(sid)).toMatchObject({ firstId: 13, held: 5 });
  });

  it('the byte limit drops the oldest frames; a frame larger than the limit is not kept at all', async () => {
    const sid = await newSession();
    const pad = 'x'.repeat(80);
    const one = inMemoryText(1, 'm', pad).length; // ids 1..9 have the same length
    const limits = { maxMessages: 1000, maxBytes: one * 3 + 10 };
    const logged = [];
    for (let i = 0; i < 6; i++) logged.push(await appendNext(sid, 'm', pad, limits));
    expect(await log.load(sid)).toMatchObject({ firstId: 4, held: 3, bytes: bytesOf(logged.slice(3).map((f) => f.text)) });
    expect((await log.replay.readAfter(sid, 2, 10))?.overrun).toBe(true);

    const huge = await appendNext(sid, 'm', 'y'.repeat(one * 4), limits);
    expect(huge.id).toBe(7);
    expect(await log.load(sid)).toMatchObject({ nextId: 7, firstId: 8, held: 0, bytes: 0 });
    expect(await log.replay.readAfter(sid, 7, 10)).toEqual({ frames: [], overrun: false, nextId: 7 });
    expect((await log.replay.readAfter(sid, 6, 10))?.overrun).toBe(true);
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
        const logged = await appendNext(sid, 'm', d, limits);
        const frame: MessageFrame = { t: 'msg', id: logged.id, e: 'm', d };
        buffer.push(frame, logged.text);
        nextId = logged.id;
      } else if (r < 0.8) {
        const id = Math.floor(random() * (nextId + 2));
        await ack(sid, id);
        buffer.ack(Math.min(id, nextId));
      } else {
        const last = Math.floor(random() * (nextId + 1));
        const expected = buffer.after(last);
        const read = (await log.replay.readAfter(sid, last, 1000))!;
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

describe('inbox entries numbered by the holder', () => {
  const fromInbox = (from: number, texts: string[]) => texts.map((t, i) => ({ id: from + i, text: t.replace('"t":"msg"', `"t":"msg","id":${from + i}`) }));

  it('numbering drained entries removes them in the same step; a refused append leaves them for the next owner', async () => {
    const sid = await newSession();
    await log.setOwner(sid, 'node-a', 'c1');
    await log.push(sid, ['{"t":"msg","e":"a"}', '{"t":"msg","e":"b"}', '{"t":"msg","e":"c"}'], 10);
    const two = fromInbox(1, await log.readInbox(sid, 0, 2));
    expect(await append(sid, two, WIDE, 'c1', 2)).toEqual({ outcome: 'ok', nextId: 2 });
    expect(await log.readInbox(sid, 0, 10)).toEqual(['{"t":"msg","e":"c"}']);
    // Another connection took the session over: the stale node's drain changes nothing.
    await log2.setOwner(sid, 'node-b', 'c2');
    expect(await append(sid, fromInbox(3, ['{"t":"msg","e":"c"}']), WIDE, 'c1', 1)).toEqual({ outcome: 'not_owner', nextId: 2 });
    expect(await log.readInbox(sid, 0, 10)).toEqual(['{"t":"msg","e":"c"}']);
    expect(await append(sid, fromInbox(3, ['{"t":"msg","e":"c"}']), WIDE, 'c2', 1, log2)).toEqual({ outcome: 'ok', nextId: 3 });
    expect(await log.readInbox(sid, 0, 10)).toEqual([]);
    expect((await log.replay.readAfter(sid, 0, 10))!.frames.map((f) => f.text)).toEqual([
      '{"t":"msg","id":1,"e":"a"}',
      '{"t":"msg","id":2,"e":"b"}',
      '{"t":"msg","id":3,"e":"c"}',
    ]);
  });
});
