/**
 * WebSocketTransport against a real `ws` server on 127.0.0.1, port 0.
 *
 * Why not msw's `ws.link()`: msw's WebSocketInterceptor only applies when `globalThis.WebSocket` exists
 * (`checkEnvironment() { return hasConfigurableGlobal("WebSocket") }` in @mswjs/interceptors'
 * lib/browser/interceptors/WebSocket/index.mjs, and msw/lib/node notes "WebSocketInterceptor is in a browser-only
 * export"). Node 20 has no global WebSocket, so `ws.link()` intercepts nothing unless a test first installs one
 * (e.g. `globalThis.WebSocket = ws.WebSocket` before `server.listen()`, which the client tests do). A real server
 * needs no global patching, exercises real close codes end to end, and is what the RWS lock
 * test needs anyway.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { encodeFrame } from '../../src/protocol/codec';
import { readSubprotocols, WS_SUBPROTOCOL, type PrivateParams } from '../../src/protocol/carriers';
import type { WebSocketConstructor } from '../../src/transports/environment';
import { WebSocketTransport } from '../../src/transports/websocket';
import { params, Recorder, RecordingSchedule, settle, until, welcome } from './helpers';

// Compile-time: both the browser's WebSocket class and `ws`'s fit the injectable constructor type.
const _browserFits: WebSocketConstructor | undefined = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
const _wsFits: WebSocketConstructor = NodeWebSocket;
void _browserFits;
void _wsFits;

let wss: WebSocketServer;
let endpoint: string;
let onConnection: (socket: ServerSocket, req: IncomingMessage) => void;
const received: string[] = [];
const serverSockets: ServerSocket[] = [];

beforeEach(async () => {
  received.length = 0;
  serverSockets.length = 0;
  onConnection = (socket) => socket.send(encodeFrame(welcome()));
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/rt/ws' });
  wss.on('connection', (socket, req) => {
    serverSockets.push(socket);
    socket.on('message', (data) => received.push(String(data)));
    onConnection(socket, req);
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  endpoint = `http://127.0.0.1:${(wss.address() as AddressInfo).port}/rt`;
});

afterEach(async () => {
  for (const s of wss.clients) s.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

function make(recorder: Recorder, schedule: RecordingSchedule, query: Record<string, string> = { v: '1' }, hidden: PrivateParams = {}) {
  return new WebSocketTransport(params(endpoint, recorder, schedule, { query, hidden }), { WebSocket: NodeWebSocket });
}

describe('WebSocketTransport', () => {
  it('opens E/ws with the query, the secret and token in a subprotocol, and passes welcome and frames through in order', async () => {
    let url = '';
    let offered = '';
    onConnection = (socket, req) => {
      url = req.url ?? '';
      offered = req.headers['sec-websocket-protocol'] ?? '';
      socket.send(encodeFrame(welcome()));
      socket.send(encodeFrame({ t: 'msg', id: 1, e: 'a', d: 1 }));
      socket.send(encodeFrame({ t: 'msg', id: 2, e: 'b' }));
      socket.send(encodeFrame({ t: 'ping' }));
    };
    const rec = new Recorder();
    const t = make(rec, new RecordingSchedule(), { v: '1', sid: 'S0', last: '4' }, { secret: 'K0', token: 'tok' });
    expect(t.name).toBe('websocket');
    t.connect();
    await until(() => rec.frames.length === 4, 3000, 'four frames');
    expect(rec.types()).toEqual(['welcome', 'msg', 'msg', 'ping']);
    expect(rec.frames[1]).toEqual({ t: 'msg', id: 1, e: 'a', d: 1 });
    expect(new URL(url, 'http://x').searchParams.toString()).toBe('v=1&sid=S0&last=4');
    const protocols = offered.split(',').map((p) => p.trim());
    expect(protocols[0]).toBe(WS_SUBPROTOCOL);
    expect(readSubprotocols(protocols)).toEqual({ secret: 'K0', token: 'tok' });
    expect(rec.failures).toEqual([]);
    t.close();
  });

  it('offers no subprotocol when it has nothing private to send', async () => {
    let offered: string | undefined = 'not seen';
    onConnection = (socket, req) => {
      offered = req.headers['sec-websocket-protocol'];
      socket.send(encodeFrame(welcome()));
    };
    const rec = new Recorder();
    const t = make(rec, new RecordingSchedule(), { v: '1' }, { token: undefined });
    t.connect();
    await until(() => rec.frames.length === 1, 3000, 'welcome');
    expect(offered).toBeUndefined();
    t.close();
  });

  it('sends each frame as one text message, including frames given before the socket opened', async () => {
    const rec = new Recorder();
    const t = make(rec, new RecordingSchedule());
    t.send([{ t: 'emit', seq: 1, e: 'x' }]);
    t.connect();
    t.send([{ t: 'ack', id: 3 }]);
    await until(() => rec.frames.length === 1, 3000, 'welcome');
    t.send([{ t: 'req', seq: 2, e: 'y', d: { a: 1 } }]);
    await until(() => received.length === 3, 3000, 'three messages');
    expect(received.map((m) => JSON.parse(m))).toEqual([
      { t: 'emit', seq: 1, e: 'x' },
      { t: 'ack', id: 3 },
      { t: 'req', seq: 2, e: 'y', d: { a: 1 } },
    ]);
    t.close();
  });

  it('reports an invalid frame as a protocol failure and closes the socket', async () => {
    let serverClosed = false;
    onConnection = (socket) => {
      socket.on('close', () => (serverClosed = true));
      socket.send(encodeFrame(welcome()));
      socket.send('{"t":"msg","id":"one"}');
      socket.send(encodeFrame({ t: 'ping' }));
    };
    const rec = new Recorder();
    make(rec, new RecordingSchedule()).connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]?.kind).toBe('protocol');
    await until(() => serverClosed, 3000, 'server sees the close');
    expect(rec.types()).toEqual(['welcome']);
    expect(rec.failures).toHaveLength(1);
  });

  it.each([
    [4401, 401],
    [4403, 403],
    [4400, 400],
    [4429, 429],
    [4503, 503],
    [1009, 413],
  ])('maps close code %i to an http failure with status %i, after passing the error frame on', async (code, status) => {
    onConnection = (socket) => {
      socket.send(encodeFrame({ t: 'error', code: 'unauthorized', message: 'no', status }));
      socket.close(code, 'bye');
    };
    const rec = new Recorder();
    make(rec, new RecordingSchedule()).connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.types()).toEqual(['error']);
    expect(rec.failures[0]).toMatchObject({ kind: 'http', status, closeCode: code });
    await settle();
    expect(rec.failures).toHaveLength(1);
  });

  it.each([1000, 1001, 4409])('reports close code %i as a network failure carrying the code', async (code) => {
    onConnection = (socket) => {
      socket.send(encodeFrame(welcome()));
      socket.close(code);
    };
    const rec = new Recorder();
    make(rec, new RecordingSchedule()).connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]).toMatchObject({ kind: 'network', closeCode: code });
    expect(rec.failures[0]?.status).toBeUndefined();
  });

  it('reports a refused connection once, as a network failure, and does not retry', async () => {
    let connections = 0;
    const rec = new Recorder();
    // A port that nothing listens on: take one, then close its server.
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => probe.once('listening', () => r()));
    const port = (probe.address() as AddressInfo).port;
    probe.on('connection', () => connections++);
    await new Promise<void>((r) => probe.close(() => r()));
    const t = new WebSocketTransport(params(`http://127.0.0.1:${port}/rt`, rec, new RecordingSchedule()), {
      WebSocket: NodeWebSocket,
    });
    t.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    // The socket's `error` comes first (then `close` 1006, ignored: one failure per transport); no close code.
    expect(rec.failures[0]).toMatchObject({ kind: 'network' });
    expect(rec.failures[0]?.message).toMatch(/^WebSocket error/);
    expect(rec.failures[0]?.closeCode).toBeUndefined();
    await settle(100);
    expect(rec.failures).toHaveLength(1);
    expect(connections).toBe(0);
  });

  it('close() silences the transport, closes the socket and leaves no scheduled callback', async () => {
    let serverClosed = false;
    let server: ServerSocket | undefined;
    onConnection = (socket) => {
      server = socket;
      socket.on('close', () => (serverClosed = true));
      socket.send(encodeFrame(welcome()));
    };
    const rec = new Recorder();
    const schedule = new RecordingSchedule();
    const t = make(rec, schedule);
    t.connect();
    await until(() => rec.frames.length === 1, 3000, 'welcome');
    t.close();
    server?.send(encodeFrame({ t: 'ping' })); // in flight while the close handshake runs
    t.send([{ t: 'emit', seq: 1, e: 'late' }]);
    await until(() => serverClosed, 3000, 'server sees the close');
    await settle();
    expect(rec.types()).toEqual(['welcome']);
    expect(rec.failures).toEqual([]);
    expect(received).toEqual([]);
    expect(schedule.pending.size).toBe(0);
  });

  it('close() right after connect() opens no connection at all', async () => {
    let connections = 0;
    onConnection = () => connections++;
    const rec = new Recorder();
    const t = make(rec, new RecordingSchedule());
    t.connect();
    t.close();
    await settle(150);
    expect(connections).toBe(0);
    expect(rec.failures).toEqual([]);
  });

  it('without any WebSocket class it fails asynchronously through the schedule, and close() cancels that', () => {
    const rec = new Recorder();
    const schedule = new RecordingSchedule(false);
    const p = params(endpoint, rec, schedule);
    const t = new WebSocketTransport(p, {}); // Node 20: no global WebSocket
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    t.connect();
    expect(rec.failures).toEqual([]); // not inside connect()
    expect(schedule.pending.size).toBe(1);
    schedule.runPending();
    expect(rec.failures[0]?.kind).toBe('network');

    const rec2 = new Recorder();
    const schedule2 = new RecordingSchedule(false);
    const t2 = new WebSocketTransport(params(endpoint, rec2, schedule2), {});
    t2.connect();
    t2.close();
    expect(schedule2.pending.size).toBe(0);
    expect(schedule2.cancelled).toBe(1);
    expect(rec2.failures).toEqual([]);
    t.close();
  });
});
