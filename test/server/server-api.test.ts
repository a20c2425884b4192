import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRealtimeServer, DEFAULTS, resolveOptions, type Session } from '../../src/server';
import { closeAll, isType, poll, post, recordingLogger, SseClient, startServer, waitFor, WsClient } from './helpers';

afterEach(closeAll);

describe('fan-out', () => {
  it('broadcasts, emits to rooms and to one session by id', async () => {
    const s = await startServer();
    const sessions: Session[] = [];
    s.rt.on('connection', (session) => {
      sessions.push(session);
      session.on('join', (room) => session.join(String(room)));
      session.on('leave', (room) => session.leave(String(room)));
      session.on('shout', (d) => session.broadcast.emit('shout', d));
    });
    const [a, b, c] = [await WsClient.open(s.base), await WsClient.open(s.base), await WsClient.open(s.base)];
    await Promise.all([a.welcome(), b.welcome(), c.welcome()]);
    a.send({ t: 'emit', seq: 1, e: 'join', d: 'r1' });
    b.send({ t: 'emit', seq: 1, e: 'join', d: 'r1' });
    await Promise.all([a.frames.next(isType('ack')), b.frames.next(isType('ack'))]);

    s.rt.emit('news', 1);
    s.rt.to('r1').emit('room', 2);
    s.rt.toSession(sessions[2]!.id).emit('direct', 3);
    a.send({ t: 'emit', seq: 2, e: 'shout', d: 4 });
    b.send({ t: 'emit', seq: 2, e: 'leave', d: 'r1' });
    await Promise.all([a.frames.next(isType('ack')), b.frames.next(isType('ack'))]);
    s.rt.to('r1').emit('room', 5);
    s.rt.emit('end');
    const events = async (cl: WsClient) => {
      await cl.frames.next((f) => f.t === 'msg' && f.e === 'end');
      return cl.frames.all.flatMap((f) => (f.t === 'msg' && f.e !== 'end' ? [[f.e, f.d]] : []));
    };
    expect(await events(a)).toEqual([['news', 1], ['room', 2], ['room', 5]]);
    expect(await events(b)).toEqual([['news', 1], ['room', 2], ['shout', 4]]);
    expect(await events(c)).toEqual([['news', 1], ['direct', 3], ['shout', 4]]);
  });

  it('buffers fan-out for a session that is between connections', async () => {
    const s = await startServer();
    const a = await WsClient.open(s.base);
    const w = await a.welcome();
    a.close();
    await waitFor(() => s.rt.session(w.sid)?.transport === null);
    s.rt.emit('while-away', 1);
    const b = await WsClient.open(s.base, { sid: w.sid, secret: w.secret, last: 0 });
    expect(await b.frames.next(isType('msg'))).toEqual({ t: 'msg', id: 1, e: 'while-away', d: 1 });
  });
});

describe('lifecycle', () => {
  it('close() tells every connection, fires disconnect, and frees the port', async () => {
    const http = createServer();
    const rt = createRealtimeServer({ server: http, heartbeatMs: 5000, logger: recordingLogger() });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const port = (http.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}/realtime`;
    const reasons: string[] = [];
    rt.on('connection', (session) => session.on('disconnect', (r) => reasons.push(r)));
    const ws = await WsClient.open(base);
    await ws.welcome();
    const sse = SseClient.open(base);
    await sse.welcome();
    const w = (await poll(base, { v: 1 })).frames[0] as { sid: string; secret: string; cid: string };
    const held = poll(base, { sid: w.sid, secret: w.secret, cid: w.cid, last: 0 });
    await new Promise((r) => setTimeout(r, 50));

    await rt.close();
    expect(await ws.frames.next(isType('close'))).toEqual({ t: 'close', code: 'shutdown' });
    expect((await ws.closed).code).toBe(1001);
    expect((await sse.next(isType('close'))).frame).toMatchObject({ code: 'shutdown' });
    await sse.ended;
    expect((await held).frames).toEqual([{ t: 'close', code: 'shutdown' }]);
    expect(reasons.sort()).toEqual(['server_close', 'server_close', 'server_close']);
    expect(rt.sessions).toBe(0);
    expect(http.listening).toBe(true); // not ours to close
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));

    const again: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => again.close(() => r()));
  });

  it('after close(), a shared server answers realtime requests 503 + Retry-After until it closes, never the app 404', async () => {
    const s = await startServer({}, (req, res) => void res.writeHead(404).end('app: not found'));
    await s.rt.close();
    const p = await poll(s.base, { v: 1 });
    expect(p.status).toBe(503);
    expect(p.headers.get('retry-after')).toBe('1');
    expect(p.frames).toEqual([{ t: 'error', code: 'unavailable', message: 'server is shutting down', status: 503, retryAfter: 1 }]);
    const up = await post(s.base, { sid: 'a', secret: 'b', cid: 'c' }, []);
    expect(up.status).toBe(503);
    // SSE in-band (browsers hide an EventSource's status), WebSocket as HTTP 503 before the handshake.
    const sse = SseClient.open(s.base);
    expect((await sse.next()).frame).toMatchObject({ t: 'error', code: 'unavailable', status: 503, retryAfter: 1 });
    await sse.ended;
    await expect(new WsClient(`${s.base.replace('http', 'ws')}/ws?v=1`).opened).rejects.toThrow(/503/);
    // The app keeps its own routes, and nothing of ours is left behind but the listener.
    expect((await fetch(`http://127.0.0.1:${s.port}/page`)).status).toBe(404);
    expect(s.rt.sessions).toBe(0);
  });

  it('creates and closes its own http server when none is given', async () => {
    const rt = createRealtimeServer({ path: '/rt', logger: recordingLogger() });
    const port = await rt.listen(0, '127.0.0.1');
    const r = await poll(`http://127.0.0.1:${port}/rt`, { v: 1 });
    expect(r.frames[0]).toMatchObject({ t: 'welcome' });
    expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    await rt.close();
    expect(rt.httpServer.listening).toBe(false);
  });

  it('shares the port with the app: app routes and upgrades elsewhere are untouched', async () => {
    const s = await startServer({}, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`app:${req.url}`);
    });
    expect(await (await fetch(`http://127.0.0.1:${s.port}/hello`)).text()).toBe('app:/hello');
    expect(await (await fetch(`http://127.0.0.1:${s.port}/realtime/other`)).text()).toBe('app:/realtime/other');
    expect((await poll(s.base, { v: 1 })).frames[0]).toMatchObject({ t: 'welcome' });
    const stray = new WsClient(`ws://127.0.0.1:${s.port}/not-realtime`);
    await expect(stray.opened).rejects.toThrow();
  });

  it('exposes handler() and handleUpgrade() for frameworks that own the server', async () => {
    const rt = createRealtimeServer({ logger: recordingLogger() }); // its own server stays unused
    const http = createServer((req, res) => {
      if (!rt.handler(req, res)) res.writeHead(418).end();
    });
    http.on('upgrade', (req, socket, head) => {
      if (!rt.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/realtime`;
    expect((await fetch(base.replace('/realtime', '/tea'))).status).toBe(418);
    const ws = await WsClient.open(base);
    expect(await ws.welcome()).toMatchObject({ resumed: false });
    await rt.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  });
});

describe('options', () => {
  it('resolves defaults without mutating the caller', () => {
    const given = { heartbeatMs: 10, path: '/x/' };
    const r = resolveOptions(given);
    expect(given).toEqual({ heartbeatMs: 10, path: '/x/' });
    expect(r).toMatchObject({ path: '/x', heartbeatMs: 10, sessionGraceMs: DEFAULTS.sessionGraceMs, ackDelayMs: 20 });
    expect(r.cors).toEqual({ origins: [], credentials: false });
    expect(() => resolveOptions({ heartbeatMs: 0 })).toThrow(RangeError);
  });
});
