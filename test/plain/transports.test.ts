/**
 * The plain transports on their own, against small real HTTP/WebSocket servers on 127.0.0.1 (port 0): the synthesized
 * welcome, the failure kinds, the send path, and silence after close().
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as NodeWebSocket } from 'ws';
import { createPlainTransport } from '../../src/plain/create';
import { newPlainState, type PlainEndpoints, type PlainState } from '../../src/plain/plain';
import type { ServerFrame, TransportName } from '../../src/protocol/frames';
import type { WebSocketConstructor } from '../../src/transports/environment';
import type { Transport, TransportFailure } from '../../src/transports/transport';
import { until } from './servers';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function httpServer(handler: Handler): Promise<{ origin: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Rig {
  transport: Transport;
  frames: ServerFrame[];
  failures: TransportFailure[];
  state: PlainState;
  timers: Set<ReturnType<typeof setTimeout>>;
}

function open(name: TransportName, url: string, endpoints: PlainEndpoints = {}, state = newPlainState()): Rig {
  const frames: ServerFrame[] = [];
  const failures: TransportFailure[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const transport = createPlainTransport(
    name,
    {
      url,
      query: {},
      hidden: {},
      headers: { 'X-Test': 'yes' },
      withCredentials: false,
      now: () => Date.now(),
      checkBuffering: true, // plain mode speaks no protocol: no echoes whatever this says
      schedule: (cb, ms) => {
        const t = setTimeout(() => {
          timers.delete(t);
          cb();
        }, ms);
        timers.add(t);
        return () => {
          clearTimeout(t);
          timers.delete(t);
        };
      },
      handlers: { onFrame: (f) => frames.push(f), onFailure: (f) => failures.push(f) },
    },
    { WebSocket: NodeWebSocket as unknown as WebSocketConstructor },
    { [name]: url, ...endpoints },
    state,
  );
  cleanups.push(() => transport.close());
  transport.connect();
  return { transport, frames, failures, state, timers };
}

const welcomeOf = (state: PlainState): ServerFrame => ({ t: 'welcome', sid: 'plain', secret: '', cid: 'plain', hb: 0, resumed: true, ack: state.sentSeq, maxFrame: 2 ** 31 - 1 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('plain SSE transport', () => {
  it('reports an HTTP error with Retry-After before open, and no welcome', async () => {
    const { origin } = await httpServer((_q, res) => res.writeHead(503, { 'Retry-After': '7' }).end('busy'));
    const r = open('sse', origin + '/events');
    await until(() => r.failures.length > 0);
    expect(r.failures).toEqual([{ kind: 'http', status: 503, retryAfter: 7, message: 'event stream answered 503' }]);
    expect(r.frames).toEqual([]);
  });

  it('reports a wrong content type (a proxy page) as content_type', async () => {
    const { origin } = await httpServer((_q, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>login</p>'));
    const r = open('sse', origin + '/events');
    await until(() => r.failures.length > 0);
    expect(r.failures[0]!.kind).toBe('content_type');
    expect(r.frames).toEqual([]);
  });

  it('reports a refused connection as network', async () => {
    const { origin, server } = await httpServer(() => {});
    await new Promise<void>((r) => server.close(() => r()));
    const r = open('sse', origin + '/events');
    await until(() => r.failures.length > 0);
    expect(r.failures[0]!.kind).toBe('network');
  });

  it('welcomes, maps events, comments, id and retry, sends headers, and fails once when the stream ends', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const { origin } = await httpServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
      res.write(': keepalive\n\ndata: {"a":1}\n\nevent: named\nid: 41\nretry: 1234\ndata: not json\n\n');
      setTimeout(() => res.end('data: unfinished'), 50);
    });
    const state = newPlainState();
    state.lastEventId = '40';
    const r = open('sse', origin + '/events', {}, state);
    await until(() => r.failures.length > 0);
    expect(r.frames).toEqual([
      welcomeOf(state),
      { t: 'ping' },
      { t: 'msg', id: 1, e: 'message', d: { a: 1 } },
      { t: 'msg', id: 2, e: 'named', d: 'not json' },
    ]);
    expect(r.failures).toEqual([{ kind: 'network', message: 'event stream ended' }]);
    expect(state).toMatchObject({ lastId: 2, lastEventId: '41', retryMs: 1234 });
    expect(seen[0]).toMatchObject({ 'last-event-id': '40', accept: 'text/event-stream', 'x-test': 'yes' });
  });

  it('is silent after close(): no frame, no failure, and the server sees the stream closed', async () => {
    let closed = false;
    const { origin } = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(': hi\n\n');
      const t = setInterval(() => res.write('data: x\n\n'), 20);
      res.on('close', () => {
        closed = true;
        clearInterval(t);
      });
    });
    const r = open('sse', origin + '/events');
    await until(() => r.frames.some((f) => f.t === 'msg'));
    r.transport.close();
    const count = r.frames.length;
    await until(() => closed, 2000, 'the server to see the close');
    await sleep(60);
    expect(r.frames.length).toBe(count);
    expect(r.failures).toEqual([]);
  });

  it('POSTs one emit at a time to the send endpoint, acknowledges each, ignores acks', async () => {
    const posts: { body: string; type: string | undefined; at: number }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const { origin } = await httpServer((req, res, body) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': hi\n\n');
        return;
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      posts.push({ body, type: req.headers['content-type'], at: Date.now() });
      setTimeout(() => {
        inFlight--;
        res.writeHead(204).end();
      }, 20);
    });
    const r = open('sse', origin + '/events', { send: 'send' });
    await until(() => r.frames[0]?.t === 'welcome');
    r.transport.send([
      { t: 'emit', seq: 1, e: 'a', d: 1 },
      { t: 'ack', id: 3 },
      { t: 'emit', seq: 2, e: 'b' },
    ]);
    r.transport.send([{ t: 'emit', seq: 3, e: 'c', d: [3] }]);
    await until(() => r.frames.filter((f) => f.t === 'ack').length === 3);
    expect(posts.map((p) => JSON.parse(p.body) as unknown)).toEqual([{ event: 'a', data: 1 }, { event: 'b' }, { event: 'c', data: [3] }]);
    expect(posts.every((p) => p.type === 'application/json')).toBe(true);
    expect(maxInFlight).toBe(1);
    expect(r.frames.filter((f) => f.t === 'ack')).toEqual([{ t: 'ack', n: 1 }, { t: 'ack', n: 2 }, { t: 'ack', n: 3 }]);
    expect(r.state.sentSeq).toBe(3);
  });

  it('fails the transport when a POST is refused (the owner re-sends after reconnecting)', async () => {
    const { origin } = await httpServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': hi\n\n');
        return;
      }
      res.writeHead(500).end();
    });
    const r = open('sse', origin + '/events', { send: '/send' });
    await until(() => r.frames[0]?.t === 'welcome');
    r.transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await until(() => r.failures.length > 0);
    expect(r.failures).toEqual([{ kind: 'http', status: 500, message: 'send POST answered 500' }]);
    expect(r.frames.some((f) => f.t === 'ack')).toBe(false);
    expect(r.state.sentSeq).toBe(0);
  });

  it('without a send endpoint, keeps emits unacknowledged (they wait in the owner\'s outbox)', async () => {
    let posts = 0;
    const { origin } = await httpServer((req, res) => {
      if (req.method === 'POST') posts++;
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(': hi\n\n');
    });
    const r = open('sse', origin + '/events');
    await until(() => r.frames[0]?.t === 'welcome');
    r.transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await sleep(50);
    expect(posts).toBe(0);
    expect(r.frames.some((f) => f.t === 'ack')).toBe(false);
    expect(r.failures).toEqual([]);
  });

  it('fails with kind protocol, naming the limit, on a line longer than 1 MiB, and stops reading it', async () => {
    let written = 0;
    let aborted = false;
    const { origin } = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: ');
      const piece = 'x'.repeat(64 * 1024);
      // 4 MB with no line end, written as the client takes it; the client hangs up once the line is too long.
      const more = (): void => {
        while (!aborted && written < 4 * 1024 * 1024) {
          written += piece.length;
          if (!res.write(piece)) return void res.once('drain', more);
        }
      };
      req.socket.on('close', () => (aborted = true));
      more();
    });
    const r = open('sse', origin + '/events');
    await until(() => r.failures.length > 0);
    expect(r.failures).toEqual([{ kind: 'protocol', message: 'event stream line longer than the limit of 1048576 characters' }]);
    expect(r.frames).toEqual([welcomeOf(r.state)]);
  });
});

describe('plain polling transport', () => {
  it('accepts an array, one message, an envelope with cursor, and 204; polls never overlap', async () => {
    const answers: [number, string][] = [
      [200, JSON.stringify([{ event: 'a', data: 1 }, 'bare'])],
      [200, JSON.stringify({ event: 'one', data: { x: 1 } })],
      [204, ''],
      [200, JSON.stringify({ messages: [{ data: 'no event name' }], cursor: 'c1' })],
      [200, JSON.stringify({ messages: [], cursor: 'c2' })],
    ];
    const urls: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const { origin } = await httpServer((req, res) => {
      urls.push(req.url!);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const [status, body] = answers.shift() ?? [200, '[]'];
      setTimeout(() => {
        inFlight--;
        if (status === 204) res.writeHead(204).end();
        else res.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
      }, 10);
    });
    const r = open('polling', origin + '/poll?room=1', { pollIntervalMs: 5 });
    await until(() => urls.length >= 6);
    expect(r.frames).toEqual([
      welcomeOf(r.state),
      { t: 'msg', id: 1, e: 'a', d: 1 },
      { t: 'msg', id: 2, e: 'message', d: 'bare' },
      { t: 'msg', id: 3, e: 'one', d: { x: 1 } },
      { t: 'msg', id: 4, e: 'message', d: { data: 'no event name' } },
    ]);
    expect(urls.slice(0, 6)).toEqual(['/poll?room=1', '/poll?room=1', '/poll?room=1', '/poll?room=1', '/poll?room=1&cursor=c1', '/poll?room=1&cursor=c2']);
    expect(maxInFlight).toBe(1);
    expect(r.failures).toEqual([]);
  });

  it('waits pollIntervalMs between polls', async () => {
    const times: number[] = [];
    const { origin } = await httpServer((_q, res) => {
      times.push(Date.now());
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]');
    });
    open('polling', origin + '/poll', { pollIntervalMs: 150 });
    await until(() => times.length >= 3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(140);
  });

  it.each([
    ['unparseable JSON', 200, 'application/json', '{nope', 'protocol'],
    ['an HTML page', 200, 'text/html', '<html>', 'content_type'],
    ['an HTTP error', 502, 'text/plain', 'bad gateway', 'http'],
  ])('fails before open on %s', async (_what, status, type, body, kind) => {
    const { origin } = await httpServer((_q, res) => res.writeHead(status, { 'Content-Type': type }).end(body));
    const r = open('polling', origin + '/poll');
    await until(() => r.failures.length > 0);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.kind).toBe(kind);
    expect(r.frames).toEqual([]);
  });

  it('holds no timer after close()', async () => {
    let polls = 0;
    const { origin } = await httpServer((_q, res) => {
      polls++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]');
    });
    const r = open('polling', origin + '/poll', { pollIntervalMs: 20 });
    await until(() => polls >= 2);
    r.transport.close();
    expect(r.timers.size).toBe(0);
    const n = polls;
    await sleep(80);
    expect(polls).toBeLessThanOrEqual(n + 1); // at most the one already on the wire
    expect(r.failures).toEqual([]);
  });
});

describe('plain WebSocket transport', () => {
  async function wsServer(onConnection: (ws: NodeWebSocket) => void): Promise<string> {
    const { origin, server } = await httpServer((_q, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ server });
    wss.on('connection', onConnection);
    cleanups.push(() => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    });
    return origin.replace('http:', 'ws:') + '/socket';
  }

  it('accepts an http: endpoint, sends emits queued before open, and acks each once handed over', async () => {
    const got: string[] = [];
    const url = await wsServer((ws) => ws.on('message', (d) => got.push(d.toString())));
    const r = open('websocket', url.replace('ws:', 'http:'));
    r.transport.send([{ t: 'emit', seq: 1, e: 'early', d: 1 }, { t: 'ack', id: 9 }]);
    await until(() => r.frames.length >= 2);
    expect(r.frames).toEqual([welcomeOf({ ...r.state, sentSeq: 0 }), { t: 'ack', n: 1 }]);
    r.transport.send([{ t: 'emit', seq: 2, e: 'later' }]);
    await until(() => got.length >= 2);
    expect(got).toEqual(['{"event":"early","data":1}', '{"event":"later"}']);
    expect(r.state.sentSeq).toBe(2);
  });

  it.each([
    [4401, { kind: 'http', status: 401, closeCode: 4401 }],
    [4403, { kind: 'http', status: 403, closeCode: 4403 }],
    [4000, { kind: 'network', closeCode: 4000 }],
    [1008, { kind: 'network', closeCode: 1008 }],
  ])('reports close code %i', async (code, expected) => {
    const url = await wsServer((ws) => ws.close(code, 'bye'));
    const r = open('websocket', url);
    await until(() => r.failures.length > 0);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject(expected);
  });

  it('reports a refused upgrade as network, before any welcome', async () => {
    const { origin, server } = await httpServer((_q, res) => res.writeHead(404).end());
    server.on('upgrade', (_req, socket: Socket) => socket.destroy());
    const r = open('websocket', origin.replace('http:', 'ws:') + '/');
    await until(() => r.failures.length > 0);
    await sleep(30);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.kind).toBe('network');
    expect(r.frames).toEqual([]);
  });

  it('is silent after close()', async () => {
    const url = await wsServer((ws) => {
      const t = setInterval(() => ws.send('{"event":"x"}'), 10);
      ws.on('close', () => clearInterval(t));
    });
    const r = open('websocket', url);
    await until(() => r.frames.some((f) => f.t === 'msg'));
    r.transport.close();
    const n = r.frames.length;
    await sleep(60);
    expect(r.frames.length).toBe(n);
    expect(r.failures).toEqual([]);
  });
});
