/**
 * One message size limit (`maxMessageBytes`), both ways: every server emit path and a reply over it is refused at
 * the call with `payload_too_large` and nothing is queued; a message of exactly the limit travels; inbound frames
 * over it are refused. Size: UTF-8 bytes of `JSON.stringify({ e, d })` (a reply: `{ d }`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealtimeServerError, resolveOptions, type Session } from '../../src/server';
import type { MessageFrame, ReplyFrame, WelcomeFrame } from '../../src/protocol/frames';
import { HEADERS } from '../../src/protocol/carriers';
import { closeAll, isType, post, poll, recordingLogger, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

const LIMIT = 1024;
const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));
/** Data (a string of `fill`) that makes the event `e` exactly `size` bytes. */
function eventOf(e: string, size: number, fill = 'x'): string {
  const room = size - bytes({ e, d: '' });
  const unit = Buffer.byteLength(fill);
  if (room % unit !== 0) throw new Error(`cannot fill ${room} bytes with ${fill}`);
  return fill.repeat(room / unit);
}
const replyOf = (size: number): string => 'r'.repeat(size - bytes({ d: '' }));

function refusal(f: () => void): RealtimeServerError {
  try {
    f();
  } catch (err) {
    return err as RealtimeServerError;
  }
  throw new Error('expected a throw');
}

async function twoClients() {
  const s = await startServer({ maxMessageBytes: LIMIT });
  const sessions: Session[] = [];
  s.rt.on('connection', (x) => {
    sessions.push(x);
    x.join('room');
  });
  const a = await WsClient.open(s.base);
  await a.welcome();
  const b = await WsClient.open(s.base);
  await b.welcome();
  await waitFor(() => sessions.length === 2);
  return { s, a, b, sa: sessions[0]!, sb: sessions[1]! };
}

describe('server emits over maxMessageBytes', () => {
  it('every emit path refuses limit+1 at the call with payload_too_large naming size and limit; nothing is queued; exactly the limit arrives', async () => {
    const { s, a, b, sa, sb } = await twoClients();
    const paths: [string, (e: string, d: string) => void, WsClient][] = [
      ['session.emit', (e, d) => sa.emit(e, d), a],
      ['session.broadcast.emit', (e, d) => sb.broadcast.emit(e, d), a],
      ['session.to(room).emit', (e, d) => sb.to('room').emit(e, d), a],
      ['session.toSession(id).emit', (e, d) => sb.toSession(sa.id).emit(e, d), a],
      ['rt.emit', (e, d) => s.rt.emit(e, d), b],
      ['rt.to(room).emit', (e, d) => s.rt.to('room').emit(e, d), b],
      ['rt.toSession(id).emit', (e, d) => s.rt.toSession(sb.id).emit(e, d), b],
    ];
    for (const [name, emit, client] of paths) {
      const heldA = sa.unacknowledged;
      const heldB = sb.unacknowledged;
      const err = refusal(() => emit('big', eventOf('big', LIMIT + 1)));
      expect(err, name).toBeInstanceOf(RealtimeServerError);
      expect(err.code, name).toBe('payload_too_large');
      expect(err.message, name).toContain(`${LIMIT + 1} bytes`);
      expect(err.message, name).toContain(String(LIMIT));
      expect([sa.unacknowledged, sb.unacknowledged], name).toEqual([heldA, heldB]); // nothing queued, no id used
      emit('fits', eventOf('fits', LIMIT));
      const got = (await client.frames.next((f) => f.t === 'msg' && f.e === 'fits')) as MessageFrame;
      expect(bytes({ e: got.e, d: got.d }), name).toBe(LIMIT);
    }
    // No big message anywhere, and ids without holes.
    for (const c of [a, b]) {
      const msgs = c.frames.all.filter(isType('msg'));
      expect(msgs.some((m) => m.e === 'big')).toBe(false);
      expect(msgs.map((m) => m.id)).toEqual(msgs.map((_, i) => i + 1));
    }
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const { a, sa } = await twoClients();
    const room = LIMIT - bytes({ e: 'u', d: '' });
    const over = 'é'.repeat(Math.floor(room / 2) + 1); // fewer characters than the limit, more bytes
    expect(JSON.stringify({ e: 'u', d: over }).length).toBeLessThan(LIMIT);
    expect(refusal(() => sa.emit('u', over)).code).toBe('payload_too_large');
    sa.emit('u', 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2));
    const got = (await a.frames.next((f) => f.t === 'msg' && f.e === 'u')) as MessageFrame;
    expect(bytes({ e: got.e, d: got.d })).toBe(LIMIT);
  });

  it('a too-large reply throws at the call; its client gets an error reply instead, the server logs it, and later requests are answered', async () => {
    const s = await startServer({ maxMessageBytes: LIMIT });
    const thrown: unknown[] = [];
    s.rt.on('connection', (x) => {
      x.on('get', (d, reply) => {
        try {
          reply(replyOf(Number(d)));
        } catch (err) {
          thrown.push(err);
        }
      });
      x.on('later', async (d, reply) => {
        await new Promise((r) => setTimeout(r, 5));
        reply(replyOf(Number(d))); // uncaught: the handler fails, logged
      });
      x.on('fail', (_d, reply) => reply(undefined, { code: 'custom', message: 'm'.repeat(LIMIT) }));
    });
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'req', seq: 1, e: 'get', d: LIMIT + 1 });
    const r1 = await c.frames.next((f): f is ReplyFrame => f.t === 'reply' && f.re === 1);
    expect(r1.err).toMatchObject({ code: 'payload_too_large' });
    expect(r1.err!.message).toContain(`${LIMIT + 1} bytes`);
    expect(thrown).toHaveLength(1);
    expect((thrown[0] as RealtimeServerError).code).toBe('payload_too_large');
    expect(JSON.stringify(s.logger.warnings)).toContain('reply refused');

    c.send({ t: 'req', seq: 2, e: 'later', d: LIMIT + 1 });
    const r2 = await c.frames.next((f): f is ReplyFrame => f.t === 'reply' && f.re === 2);
    expect(r2.err).toMatchObject({ code: 'payload_too_large' });

    c.send({ t: 'req', seq: 3, e: 'fail' });
    const r3 = await c.frames.next((f): f is ReplyFrame => f.t === 'reply' && f.re === 3);
    expect(r3.err).toMatchObject({ code: 'payload_too_large' });

    c.send({ t: 'req', seq: 4, e: 'get', d: LIMIT });
    const r4 = await c.frames.next((f): f is ReplyFrame => f.t === 'reply' && f.re === 4);
    expect(r4.err).toBeUndefined();
    expect(bytes({ d: r4.d })).toBe(LIMIT);
    // Every reply numbered without a hole: the refused ones used no id.
    expect(c.frames.all.filter((f) => f.t === 'reply').map((f) => (f as ReplyFrame).id)).toEqual([1, 2, 3, 4]);
  });
});

describe('the replay buffer holds a message of the limit', () => {
  it('with the defaults (1 MiB limit, 1 MiB replay buffer), an unacknowledged message of exactly the limit is replayed on a resume, not an overrun', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    await waitFor(() => sessions.length === 1);
    sessions[0]!.emit('big', eventOf('big', 1024 * 1024));
    await a.frames.next((f) => f.t === 'msg' && f.e === 'big', 5000);
    a.close(); // never acknowledged
    await waitFor(() => sessions[0]!.transport === null);
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await b.welcome()).toMatchObject({ resumed: true });
    const again = (await b.frames.next((f) => f.t === 'msg' && f.e === 'big', 5000)) as MessageFrame;
    expect(bytes({ e: again.e, d: again.d })).toBe(1024 * 1024);
  });
});

describe('inbound messages over maxMessageBytes', () => {
  it('over WebSocket: exactly the limit is accepted, limit+1 is refused with frame_too_large and 1009', async () => {
    const s = await startServer({ maxMessageBytes: LIMIT });
    const got: unknown[] = [];
    s.rt.on('connection', (x) => x.on('up', (d) => void got.push(d)));
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.send({ t: 'emit', seq: 1, e: 'up', d: eventOf('up', LIMIT) });
    expect(await c.frames.next(isType('ack'))).toMatchObject({ n: 1 });
    expect(got).toHaveLength(1);
    c.send({ t: 'emit', seq: 2, e: 'up', d: eventOf('up', LIMIT + 1) });
    expect(await c.frames.next(isType('error'))).toMatchObject({ code: 'frame_too_large' });
    expect((await c.closed).code).toBe(1009);
    expect(got).toHaveLength(1);
  });

  it('over POST: exactly the limit is accepted, limit+1 is refused with 413', async () => {
    const s = await startServer({ maxMessageBytes: LIMIT });
    const got: unknown[] = [];
    s.rt.on('connection', (x) => x.on('up', (d) => void got.push(d)));
    const w = (await poll(s.base, { v: 1 })).frames[0] as WelcomeFrame;
    const ids = { v: 1, sid: w.sid, cid: w.cid };
    const auth = { [HEADERS.secret]: w.secret };
    const ok = await post(s.base, ids, [{ t: 'emit', seq: 1, e: 'up', d: eventOf('up', LIMIT) }], auth);
    expect(ok.status).toBe(200);
    const big = await post(s.base, ids, [{ t: 'emit', seq: 2, e: 'up', d: eventOf('up', LIMIT + 1) }], auth);
    expect(big.status).toBe(413);
    expect(big.frames[0]).toMatchObject({ code: 'frame_too_large' });
    expect(got).toHaveLength(1);
  });
});

describe('options', () => {
  it('maxMessageBytes is announced in the welcome; maxFrameBytes is its deprecated alias; the limits that follow from it are raised to fit it', async () => {
    const logger = recordingLogger();
    expect(resolveOptions({ maxFrameBytes: 5000, logger }).maxMessageBytes).toBe(5000);
    expect(resolveOptions({ maxFrameBytes: 5000, maxMessageBytes: 7000, logger }).maxMessageBytes).toBe(7000);
    const r = resolveOptions({ maxMessageBytes: 1 << 20, replayBufferMaxBytes: 1000, maxBufferedBytes: 1000 });
    expect(r.replayBufferMaxBytes).toBeGreaterThan(1 << 20); // one frame of the limit at least
    expect(r.maxBufferedBytes).toBeGreaterThanOrEqual(4 << 20); // a few messages of the limit at least
    expect(r.hardBufferedBytes).toBe(4 * r.maxBufferedBytes);
    expect(() => resolveOptions({ maxMessageBytes: 0 })).toThrow(RangeError);
    const s = await startServer({ maxFrameBytes: 4321 });
    const c = await WsClient.open(s.base);
    expect((await c.welcome()).maxFrame).toBe(4321);
    expect(JSON.stringify(s.logger.warnings)).toContain('maxFrameBytes is deprecated'); // development only
  });
});
