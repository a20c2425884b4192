/**
 * The reference server under bad input and misbehaving clients (docs/failure-behaviour.md): every case gets a typed
 * answer or a documented disconnect, the process keeps running, other clients are unaffected, and nothing the
 * server already accepted or sent is lost (the session stays resumable).
 */
import { connect, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/server';
import type { WelcomeFrame } from '../../src/protocol/frames';
import { closeAll, isType, poll, SseClient, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

/** A logger that keeps every call at every level. */
function fullLogger(): Logger & { lines: unknown[][] } {
  const lines: unknown[][] = [];
  return {
    lines,
    debug: (...a: unknown[]) => void lines.push(['debug', ...a]),
    warn: (...a: unknown[]) => void lines.push(['warn', ...a]),
    error: (...a: unknown[]) => void lines.push(['error', ...a]),
  };
}

/** Opens a raw TCP connection, sends `request` and never reads a byte (the socket is paused at once). */
function neverReading(port: number, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.pause();
      socket.write(request);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const upgradeRequest = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** Emits until the server cut the connection (`cut()`); yields to the event loop between bursts. Returns the count. */
async function flood(emit: (i: number) => void, cut: () => boolean, max = 4000): Promise<number> {
  let i = 0;
  while (!cut() && i < max) {
    emit(++i);
    if (i % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  await waitFor(cut, 3000, 'the server to cut the connection');
  return i;
}

const CHUNK = 'x'.repeat(32 * 1024);

describe('back-pressure: a client that never reads', () => {
  it.each(['ws', 'sse'] as const)('over %s: memory stays bounded, the connection is cut with a warning, the session resumes losing nothing', async (kind) => {
    const logger = fullLogger();
    const s = await startServer({
      logger,
      maxBufferedBytes: 256 * 1024,
      replayBufferMaxBytes: 512 * 1024 * 1024,
      replayBufferMaxMessages: 100_000,
      heartbeatMs: 60_000,
    });
    const sessions: import('../../src/server').Session[] = [];
    const transports: (string | null)[] = [];
    s.rt.on('connection', (x) => void sessions.push(x));
    s.rt.on('transport', (_x, t) => void transports.push(t));
    const bystander = await WsClient.open(s.base);
    await bystander.welcome();
    const path = `/realtime/${kind}?v=1`;
    const raw = await neverReading(s.port, kind === 'ws' ? upgradeRequest(path) : `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    await waitFor(() => sessions.length === 2, 3000, 'the stuck session');
    const stuck = sessions[1]!;
    const heapBefore = process.memoryUsage().heapUsed;
    const sent = await flood((i) => stuck.emit('big', { i, pad: CHUNK }), () => stuck.transport === null);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    // Cut after far less than was emitted: only kernel socket buffers plus maxBufferedBytes were ever queued.
    expect(sent * CHUNK.length).toBeGreaterThanOrEqual(256 * 1024);
    expect(sent).toBeLessThan(4000);
    expect(logger.lines.some(([level, msg]) => level === 'warn' && /not reading/.test(String(msg)))).toBe(true);
    expect(transports.slice(-1)).toEqual([null]);
    expect(s.rt.sessions).toBe(2); // waits for a resume
    // The replay buffer holds what was sent (by design: it is bounded by replayBufferMax*, generous here).
    expect(heapGrowth).toBeLessThan(sent * CHUNK.length * 3 + 64 * 1024 * 1024);
    raw.destroy();

    // The other client never noticed.
    bystander.send({ t: 'ack', id: 0 });
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);

    // Everything sent is replayed, in order, on a resume.
    const again = await WsClient.open(s.base, { sid: stuck.id, secret: stuck.secret, last: 0 });
    expect(await again.welcome()).toMatchObject({ resumed: true, sid: stuck.id });
    await waitFor(() => again.frames.all.some((f) => f.t === 'msg' && f.id === sent), 10_000, `replay up to ${sent}`);
    const ids = again.frames.all.filter(isType('msg')).map((f) => f.id);
    expect(ids).toEqual(Array.from({ length: sent }, (_, k) => k + 1));
  });
});

describe('a stolen session id without its secret', () => {
  it.each(['ws', 'sse', 'poll'] as const)('over %s: starts a new session with resumeFailed bad_secret; the victim keeps its session', async (kind) => {
    const s = await startServer();
    const victim = await WsClient.open(s.base);
    const vw = await victim.welcome();
    const stolen = { v: 1, sid: vw.sid, secret: 'guessed-secret-of-the-right-length-maybe', last: 0 };
    let welcome: WelcomeFrame;
    if (kind === 'ws') welcome = await (await WsClient.open(s.base, stolen)).welcome();
    else if (kind === 'sse') welcome = await SseClient.open(s.base, stolen).welcome();
    else welcome = (await poll(s.base, stolen)).frames[0] as WelcomeFrame;
    expect(welcome).toMatchObject({ t: 'welcome', resumed: false, resumeFailed: 'bad_secret' });
    expect(welcome.sid).not.toBe(vw.sid);
    expect(welcome.secret).not.toBe(vw.secret);
    // The victim is still the session's connection and still gets its frames.
    expect(s.rt.session(vw.sid)!.transport).toBe('websocket');
    s.rt.toSession(vw.sid).emit('private', 'for the victim');
    expect(await victim.frames.next(isType('msg'))).toMatchObject({ id: 1, e: 'private', d: 'for the victim' });
    expect(victim.ws.readyState).toBe(victim.ws.OPEN);
  });

  it('a probe with a wrong secret is refused without creating a session or touching the victim', async () => {
    const s = await startServer();
    const victim = await WsClient.open(s.base);
    const vw = await victim.welcome();
    const probe = await WsClient.open(s.base, { sid: vw.sid, secret: 'x', last: 0, probe: 1 });
    expect(await probe.frames.next()).toMatchObject({ t: 'close', code: 'session_ended', reason: 'bad_secret' });
    expect((await probe.closed).code).toBe(1000);
    expect(s.rt.sessions).toBe(1);
    expect(victim.ws.readyState).toBe(victim.ws.OPEN);
  });
});

describe('binary where text is expected (client → server)', () => {
  it('answers a binary WebSocket message with malformed_frame and keeps the connection', async () => {
    const s = await startServer();
    s.rt.on('connection', (session) => session.on('echo', (d, reply) => reply(d)));
    const c = await WsClient.open(s.base);
    await c.welcome();
    c.ws.send(Buffer.from('{"t":"req","seq":1,"e":"echo","d":1}'), { binary: true });
    expect(await c.frames.next(isType('error'))).toMatchObject({ code: 'malformed_frame' });
    c.send({ t: 'req', seq: 1, e: 'echo', d: 'text works' });
    expect(await c.frames.next(isType('reply'))).toMatchObject({ re: 1, d: 'text works' });
  });
});

describe('maxSessionsPerClient', () => {
  it('refuses new sessions over the limit on every transport (429 / rate_limited / 4429) but never a resume', async () => {
    const s = await startServer({ maxSessionsPerClient: 2, sessionGraceMs: 1500 });
    const a = await WsClient.open(s.base);
    const aw = await a.welcome();
    expect((await poll(s.base, { v: 1 })).status).toBe(200);
    expect(s.rt.sessions).toBe(2);

    const p = await poll(s.base, { v: 1 });
    expect(p.status).toBe(429);
    expect(p.headers.get('retry-after')).toBe('2');
    expect(p.frames).toEqual([{ t: 'error', code: 'rate_limited', message: expect.stringContaining('limit 2'), status: 429, retryAfter: 2 }]);

    const sse = SseClient.open(s.base);
    expect((await sse.next()).frame).toMatchObject({ t: 'error', code: 'rate_limited', status: 429, retryAfter: 2 });
    await sse.ended;

    const ws = await WsClient.open(s.base);
    expect(await ws.frames.next()).toMatchObject({ t: 'error', code: 'rate_limited', status: 429, retryAfter: 2 });
    expect((await ws.closed).code).toBe(4429);

    // A resume is never counted against the limit.
    a.close();
    await waitFor(() => s.rt.session(aw.sid)?.transport === null, 3000, 'a detached');
    const back = await WsClient.open(s.base, { sid: aw.sid, secret: aw.secret, last: 0 });
    expect(await back.welcome()).toMatchObject({ resumed: true, sid: aw.sid });
    expect(s.rt.sessions).toBe(2);
    // An unknown resume would create a session: refused too.
    const unknown = await WsClient.open(s.base, { sid: 'nope', secret: 'nope', last: 0 });
    expect(await unknown.frames.next()).toMatchObject({ t: 'error', code: 'rate_limited' });
  });

  it('frees a slot when a session ends (grace period over)', async () => {
    const s = await startServer({ maxSessionsPerClient: 1, sessionGraceMs: 100 });
    const a = await WsClient.open(s.base);
    await a.welcome();
    expect((await poll(s.base, { v: 1 })).status).toBe(429);
    a.close();
    await waitFor(() => s.rt.sessions === 0, 3000, 'the session to expire');
    expect((await poll(s.base, { v: 1 })).status).toBe(200);
  });

  it('rejects a non-positive limit and accepts Infinity', async () => {
    await expect(startServer({ maxSessionsPerClient: 0 })).rejects.toThrow(/maxSessionsPerClient/);
    const s = await startServer({ maxSessionsPerClient: Infinity });
    expect((await poll(s.base, { v: 1 })).status).toBe(200);
  });
});

describe('secrets stay out of the logs', () => {
  it('logs nothing that contains a session secret or an access_token, at any level, through failures', async () => {
    const logger = fullLogger();
    const s = await startServer({
      logger,
      maxFrameBytes: 100,
      authenticate: (req) => {
        if (new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') === 'boom') throw new Error('auth backend down');
        return true;
      },
    });
    s.rt.on('connection', (session) => session.on('boom', () => {
      throw new Error('handler failed');
    }));
    const c = await WsClient.open(s.base, { access_token: 'tok-SECRET-1' });
    const w = await c.welcome();
    c.send({ t: 'emit', seq: 1, e: 'boom' });
    c.ws.send('{bad');
    await c.frames.next(isType('error'));
    c.close();
    await waitFor(() => s.rt.session(w.sid)?.transport === null, 3000, 'detach');
    const r = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0, access_token: 'tok-SECRET-2' });
    await r.welcome();
    await poll(s.base, { v: 1, sid: w.sid, secret: 'wrong-SECRET', access_token: 'boom' });
    const big = await WsClient.open(s.base, { access_token: 'tok-SECRET-3' });
    await big.welcome();
    big.send({ t: 'emit', seq: 1, e: 'x', d: 'y'.repeat(150) });
    await big.closed;
    expect(logger.lines.length).toBeGreaterThan(0);
    const text = inspect(logger.lines, { depth: 8 });
    for (const secret of [w.secret, 'tok-SECRET', 'wrong-SECRET', 'access_token', 'secret=']) expect(text).not.toContain(secret);
  });
});
