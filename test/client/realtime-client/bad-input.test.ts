/**
 * The real client against a scripted server that misbehaves on purpose (docs/failure-behaviour.md): malformed and
 * unknown frames, binary messages, replies nobody asked for, HTML pages from a proxy, HTTP statuses and WebSocket
 * close codes. A plain node:http server on 127.0.0.1 (port 0) plays the server; `ws` answers upgrades. Each case
 * asserts the documented outcome: retry (reconnect / fall back) or stop with a typed error; never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TransportName, WelcomeFrame } from '../../../src/protocol/frames';
import { cleanup, connectClient, sleep, waitUntil } from '../../scenarios/integration/harness';

interface Script {
  /** Called for every WebSocket connection (n counts from 1). */
  ws?: (socket: WebSocket, q: URLSearchParams, n: number) => void;
  sse?: (req: IncomingMessage, res: ServerResponse, q: URLSearchParams, n: number) => void;
  poll?: (req: IncomingMessage, res: ServerResponse, q: URLSearchParams, n: number) => void;
}

interface Scripted {
  base: string;
  handshakes: { transport: TransportName; q: URLSearchParams }[];
}

const servers: Server[] = [];
afterEach(async () => {
  await cleanup();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

let counter = 0;
const welcome = (extra: Partial<WelcomeFrame> = {}): WelcomeFrame => ({
  t: 'welcome',
  sid: `s${++counter}`,
  secret: 'k',
  cid: `c${counter}`,
  hb: 60_000,
  resumed: false,
  ack: 0,
  maxFrame: 1 << 20,
  ...extra,
});

async function scripted(script: Script): Promise<Scripted> {
  const handshakes: Scripted['handshakes'] = [];
  const counts = { websocket: 0, sse: 0, polling: 0 };
  const wss = new WebSocketServer({ noServer: true });
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    if (url.pathname.endsWith('/sse') && script.sse) {
      handshakes.push({ transport: 'sse', q });
      return script.sse(req, res, q, ++counts.sse);
    }
    if (url.pathname.endsWith('/poll') && script.poll) {
      if (!q.get('cid')) handshakes.push({ transport: 'polling', q });
      return script.poll(req, res, q, ++counts.polling);
    }
    res.writeHead(404).end();
  });
  http.on('upgrade', (req, socket, head) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    if (!script.ws) return socket.destroy();
    handshakes.push({ transport: 'websocket', q });
    const n = ++counts.websocket;
    wss.handleUpgrade(req, socket, head, (ws) => script.ws!(ws, q, n));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  servers.push(http);
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/realtime`;
  return { base, handshakes };
}

const send = (ws: WebSocket, frame: unknown): void => ws.send(JSON.stringify(frame));
const html = (status: number) => (_req: IncomingMessage, res: ServerResponse) =>
  void res.writeHead(status, { 'Content-Type': 'text/html' }).end('<html><body><h1>Bad Gateway</h1></body></html>');
const okPoll = (_req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => {
  if (!q.get('cid')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify([welcome()]));
  setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('[{"t":"ping"}]'), 50);
};

describe('server → client bad frames over WebSocket', () => {
  it.each([
    ['malformed JSON', (ws: WebSocket) => ws.send('{"t":"msg",')],
    ['an unknown frame type', (ws: WebSocket) => send(ws, { t: 'teleport', id: 1 })],
    ['a binary message', (ws: WebSocket) => ws.send(Buffer.from(JSON.stringify({ t: 'msg', id: 1, e: 'n', d: 1 })), { binary: true })],
  ])('%s after the welcome: protocol failure, the connection is dropped and resumed', async (_what, misbehave) => {
    const s = await scripted({
      ws: (ws, _q, n) => {
        send(ws, welcome({ sid: 'S', resumed: n > 1 }));
        if (n === 1) setTimeout(() => misbehave(ws), 20);
      },
    });
    const { client, of } = await connectClient(s.base, { transports: ['websocket'] });
    await waitUntil(() => s.handshakes.length === 2 && client.state === 'open', 5000, 'a resumed second connection');
    expect(of('transportFailed')[0]).toMatchObject({ transport: 'websocket', opened: true, failure: { kind: 'protocol' } });
    expect(s.handshakes[1]!.q.get('sid')).toBe('S');
    expect(of('close')).toEqual([]);
  });

  it('a reply for a request nobody made is ignored (its id still counts); delivery goes on', async () => {
    const got: unknown[] = [];
    const s = await scripted({
      ws: (ws) => {
        send(ws, welcome());
        send(ws, { t: 'reply', id: 1, re: 999, d: 'stray' });
        send(ws, { t: 'reply', id: 2, re: 1, err: { code: 'x', message: 'stray error' } });
        send(ws, { t: 'msg', id: 3, e: 'n', d: 'after' });
      },
    });
    const { client, of } = await connectClient(s.base, { transports: ['websocket'] });
    client.on('n', (d) => void got.push(d));
    await waitUntil(() => got.length === 1, 5000, 'the message after the stray replies');
    expect(got).toEqual(['after']);
    expect(of('transportFailed')).toEqual([]);
    expect(of('error')).toEqual([]);
    expect(s.handshakes).toHaveLength(1);
  });

  it('a 2 MiB server frame is delivered (the client sets no size limit on what it receives)', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const s = await scripted({ ws: (ws) => (send(ws, welcome()), send(ws, { t: 'msg', id: 1, e: 'n', d: big })) });
    const { client } = await connectClient(s.base, { transports: ['websocket'] });
    const got: string[] = [];
    client.on('n', (d) => void got.push(d as string));
    await waitUntil(() => got.length === 1, 5000, 'the big frame');
    expect(got[0]!.length).toBe(big.length);
  });
});

describe('HTML error pages from a proxy', () => {
  it.each(['sse', 'polling'] as const)('on %s: 200 text/html is a content_type failure and the walk moves on at once', async (transport) => {
    const s = await scripted(transport === 'sse' ? { sse: html(200), poll: okPoll } : { poll: html(200), sse: html(200) });
    const { client, of } = await connectClient(s.base, { transports: transport === 'sse' ? ['sse', 'polling'] : ['polling'] });
    if (transport === 'sse') {
      await waitUntil(() => client.state === 'open', 5000, 'open on polling');
      expect(client.transport).toBe('polling');
    } else {
      await waitUntil(() => of('reconnecting').length >= 1, 5000, 'a retry');
    }
    expect(of('transportFailed')[0]).toMatchObject({ transport, failure: { kind: 'content_type', status: 200 } });
    expect(of('close')).toEqual([]);
  });

  it.each(['sse', 'polling'] as const)('on %s: 502 text/html is an http failure (502) and is retried', async (transport) => {
    const s = await scripted(transport === 'sse' ? { sse: html(502) } : { poll: html(502) });
    const { client, of } = await connectClient(s.base, { transports: [transport] });
    await waitUntil(() => s.handshakes.length >= 3, 5000, 'retries');
    expect(of('transportFailed')[0]).toMatchObject({ transport, failure: { kind: 'http', status: 502 } });
    expect(client.state).not.toBe('closed');
  });

  it('a poll answer that claims JSON but is not is a failure, and the client reconnects', async () => {
    const s = await scripted({
      poll: (req, res, q, n) => {
        if (n === 2) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('[{"t":');
        okPoll(req, res, q);
      },
    });
    const { of } = await connectClient(s.base, { transports: ['polling'] });
    await waitUntil(() => s.handshakes.length >= 2, 5000, 'a new handshake');
    expect(of('transportFailed')[0]).toMatchObject({ transport: 'polling', opened: true });
    expect(['protocol', 'content_type']).toContain(of('transportFailed')[0]!.failure.kind);
  });
});

describe('HTTP statuses not covered by status.test.ts', () => {
  it.each([
    [429, undefined, 'retry'],
    [502, undefined, 'retry'],
    [500, undefined, 'retry'],
    [404, undefined, 'stop'],
  ] as const)('poll handshake answered %i (Retry-After %s): %s', async (status, retryAfter, outcome) => {
    const s = await scripted({
      poll: (_req, res) => {
        const h: Record<string, string> = { 'Content-Type': 'application/json' };
        if (retryAfter !== undefined) h['Retry-After'] = String(retryAfter);
        res.writeHead(status, h).end(JSON.stringify([{ t: 'error', code: 'bad_request', message: 'no', status }]));
      },
    });
    const { client, of } = await connectClient(s.base, { transports: ['polling'] });
    if (outcome === 'retry') {
      await waitUntil(() => s.handshakes.length >= 3, 5000, 'retries with backoff');
      expect(client.state).toBe('connecting');
      expect(of('reconnecting')[0]!.delayMs).toBeGreaterThan(0);
    } else {
      await waitUntil(() => client.state === 'closed', 5000, 'stop');
      expect(of('error')[0]).toMatchObject({ code: 'rejected', status });
    }
  });
});

describe('WebSocket close codes seen by the client after it opened', () => {
  /** Opens, then closes the first connection with `code` (1006: the TCP connection is cut without a close frame). */
  const closing = (code: number) =>
    scripted({
      ws: (ws, _q, n) => {
        send(ws, welcome({ sid: 'S', resumed: n > 1 }));
        if (n === 1) setTimeout(() => (code === 1006 ? ws.terminate() : ws.close(code, 'scripted')), 20);
      },
    });

  it.each([1000, 1001, 1006, 1008, 1011, 4000, 4409, 4429, 4503, 4999])('%i: network/retryable, the client reconnects and resumes', async (code) => {
    const s = await closing(code);
    const { client, of } = await connectClient(s.base, { transports: ['websocket'] });
    await waitUntil(() => s.handshakes.length === 2 && client.state === 'open', 5000, 'reconnected');
    expect(of('transportFailed')[0]!.failure).toMatchObject({ closeCode: code });
    expect(s.handshakes[1]!.q.get('sid')).toBe('S');
  });

  it.each([
    [4401, 'unauthorized', 401],
    [4403, 'unauthorized', 403],
    [4400, 'rejected', 400],
    [1009, 'rejected', 413],
  ] as const)('%i: stops with %s (status %i) when there is no auth provider to refresh', async (code, error, status) => {
    const s = await closing(code);
    const { client, of } = await connectClient(s.base, { transports: ['websocket'] });
    await waitUntil(() => client.state === 'closed', 5000, 'stop');
    expect(of('error').at(-1)).toMatchObject({ code: error, status });
    await sleep(100);
    expect(s.handshakes).toHaveLength(1);
    expect(client.pendingTimers).toBe(0);
  });

  it('1008 (policy violation) before the welcome: treated as a network failure, so the client falls back to SSE', async () => {
    const s = await scripted({
      ws: (ws) => ws.close(1008, 'policy'),
      sse: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(welcome())}\n\n`);
      },
    });
    const { client, of } = await connectClient(s.base, { transports: ['websocket', 'sse'] });
    await waitUntil(() => client.state === 'open', 5000, 'open on SSE');
    expect(client.transport).toBe('sse');
    expect(of('transportFailed')[0]).toMatchObject({ transport: 'websocket', opened: false, failure: { kind: 'network', closeCode: 1008 } });
  });
});
