/**
 * Nothing costly before a session is known: a POST that names no live session is refused before its body is read,
 * and frames nested deeper than the protocol allows are refused before JSON.parse sees them, on every transport.
 */
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { BodyBudget } from '../../src/server/body-budget';
import { readBody } from '../../src/server/http-util';
import { afterEach, describe, expect, it } from 'vitest';
import type { WelcomeFrame } from '../../src/protocol/frames';
import { HEADERS } from '../../src/protocol/carriers';
import { MAX_FRAME_DEPTH } from '../../src/protocol/codec';
import { closeAll, isType, poll, post, qs, startServer, WsClient } from './helpers';
import { connectClient, cleanup } from '../scenarios/integration/harness';
import type { RealtimeError } from '../../src';

afterEach(async () => {
  await cleanup();
  await closeAll();
});

/** `[` × n then `]` × n: what JSON.parse spends most time on per byte. */
const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);

/**
 * Sends a POST's headers announcing `length` bytes and only the first `sent` of them, then resolves with the status
 * line the server answered, without ever sending the rest: an answer proves the server did not wait for the body.
 */
function answerToPartialPost(port: number, path: string, headers: string, length: number, sent: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n${headers}\r\n`);
      socket.write(sent);
    });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer without the body; got ${JSON.stringify(answer)}`));
    }, 3000);
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer.split('\r\n', 1)[0]!);
      }
    });
    socket.on('error', reject);
  });
}

describe('POST send without a live session', () => {
  it.each([
    ['no session at all', () => ({ v: 1 })],
    ['a made-up session', () => ({ v: 1, sid: 'AAAAAAAAAAAAAAAAAAAAAA', cid: 'BBBBBBBBBBBBBBBB' })],
  ])('(%s) is answered 410 before its 4 MiB body is read', async (_what, params) => {
    const s = await startServer();
    const status = await answerToPartialPost(s.port, `/realtime/send?${qs(params())}`, '', 4 * 1024 * 1024, nested(1000));
    expect(status).toBe('HTTP/1.1 410 Gone');
  });

  it('with a live session but the wrong secret, is answered 410 unread too', async () => {
    const s = await startServer();
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const path = `/realtime/send?${qs({ v: 1, sid: w.sid, cid: w.cid })}`;
    const status = await answerToPartialPost(s.port, path, `${HEADERS.secret}: not-the-secret\r\n`, 4 * 1024 * 1024, '[');
    expect(status).toBe('HTTP/1.1 410 Gone');
  });
});

describe(`frames nested deeper than ${MAX_FRAME_DEPTH} levels`, () => {
  it('in a POST of a live session: 400 bad_request, the session goes on', async () => {
    const s = await startServer();
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const ids = { sid: w.sid, cid: w.cid };
    const auth = { [HEADERS.secret]: w.secret };
    const deep = await post(s.base, ids, `[{"t":"emit","seq":1,"e":"x","d":${nested(2 * 1024 * 1024 - 40)}}]`, auth);
    expect(deep.status).toBe(400);
    expect(deep.frames[0]).toMatchObject({ t: 'error', code: 'bad_request' });
    expect(deep.text).toContain('nested deeper than');
    // At the limit is fine.
    const ok = await post(s.base, ids, `[{"t":"emit","seq":1,"e":"x","d":${nested(MAX_FRAME_DEPTH - 1)}}]`, auth);
    expect(ok.frames).toEqual([{ t: 'ack', n: 1 }]);
  });

  it('over WebSocket: malformed_frame, the connection stays', async () => {
    const s = await startServer();
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'emit', seq: 1, e: 'x', d: JSON.parse(nested(MAX_FRAME_DEPTH)) as unknown });
    const error = await c.frames.next(isType('error'));
    expect(error).toMatchObject({ code: 'malformed_frame' });
    c.send({ t: 'emit', seq: 1, e: 'x', d: 1 });
    expect(await c.frames.next(isType('ack'))).toMatchObject({ n: 1 });
  });

  it('are refused by the client at emit time with invalid_argument (never left to be resent)', async () => {
    const s = await startServer();
    const { client } = await connectClient(s.base);
    let error: unknown;
    try {
      client.emit('deep', JSON.parse(nested(MAX_FRAME_DEPTH)) as unknown);
    } catch (err) {
      error = err;
    }
    expect((error as RealtimeError).code).toBe('invalid_argument');
    expect(() => client.emit('fine', JSON.parse(nested(MAX_FRAME_DEPTH - 1)) as unknown)).not.toThrow();
  });
});

/** `count` POSTs whose headers announce 1000 bytes and whose body stops after one: each holds a slot until destroyed. */
function stalledPosts(port: number, path: string, secretHeader: string, count: number): ReturnType<typeof connect>[] {
  return Array.from({ length: count }, () => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n${secretHeader}\r\n[`);
    });
    socket.on('error', () => {});
    return socket;
  });
}

describe('bodies in flight', () => {
  it('one connection may have 4 POST bodies read at once; the 5th gets 429 unread, and the slots come back', async () => {
    const s = await startServer();
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const path = `/realtime/send?${qs({ v: 1, sid: w.sid, cid: w.cid })}`;
    const secret = `${HEADERS.secret}: ${w.secret}\r\n`;
    // Four bodies announced and never finished: each holds its slot.
    const stuck = stalledPosts(s.port, path, secret, 4);
    await new Promise((r) => setTimeout(r, 100));
    expect(await answerToPartialPost(s.port, path, secret, 1000, '[')).toBe('HTTP/1.1 429 Too Many Requests');
    for (const socket of stuck) socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const ok = await post(s.base, { sid: w.sid, cid: w.cid }, [{ t: 'emit', seq: 1, e: 'x' }], { [HEADERS.secret]: w.secret });
    expect(ok.frames).toEqual([{ t: 'ack', n: 1 }]);
  });
});

describe('BodyBudget and readBody', () => {
  it('refuse a chunk that would pass the process budget, and give every byte back', async () => {
    const budget = new BodyBudget(10, 2);
    expect(budget.open('a') && budget.open('a')).toBe(true);
    expect(budget.open('a')).toBe(false);
    const stream = new PassThrough();
    const reading = readBody(stream as unknown as IncomingMessage, 100, (n) => budget.take(n));
    stream.write(Buffer.from('123456'));
    stream.write(Buffer.from('789012'));
    const r = await reading;
    expect(r).toMatchObject({ ok: false, why: 'over_budget', held: 6 });
    budget.close('a', r.held);
    budget.close('a', 0);
    expect(budget.heldBytes).toBe(0);
    expect(budget.open('a')).toBe(true);
  });

  it('bodies stalled on a connection the client left do not block the connection that resumed the session', async () => {
    const s = await startServer();
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const path = `/realtime/send?${qs({ v: 1, sid: w.sid, cid: w.cid })}`;
    const secret = `${HEADERS.secret}: ${w.secret}\r\n`;
    // A proxy keeps four half-sent POSTs of the first connection open (the cluster soak met this: the client looped on 429).
    const stuck = stalledPosts(s.port, path, secret, 4);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const resumed = (await poll(s.base, { v: 1, sid: w.sid, last: 0 }, { headers: { [HEADERS.secret]: w.secret } })).frames[0] as WelcomeFrame;
      expect(resumed).toMatchObject({ t: 'welcome', resumed: true, sid: w.sid });
      expect(resumed.cid).not.toBe(w.cid);
      const ok = await post(s.base, { sid: w.sid, cid: resumed.cid }, [{ t: 'emit', seq: 1, e: 'x' }], { [HEADERS.secret]: resumed.secret });
      expect(ok.status).toBe(200);
      expect(ok.frames).toEqual([{ t: 'ack', n: 1 }]);
    } finally {
      for (const socket of stuck) socket.destroy();
    }
  });
});
