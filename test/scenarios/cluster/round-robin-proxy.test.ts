/**
 * The cluster tests' round-robin balancer, against small real http/ws servers on free ports: rotation, unbuffered
 * streaming, long responses, WebSocket tunnelling, dead targets, dropped connections, and nothing left after close().
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../../demo/round-robin-proxy.mjs';

/** A target: answers with its own port, so a test sees where each request went. */
interface Target {
  port: number;
  server: http.Server;
  wss: WebSocketServer;
  /** Plain requests as the target received them. */
  seen: IncomingMessage[];
  /** WebSocket handshake requests as the target received them. */
  handshakes: IncomingMessage[];
  /** Server-side WebSockets, to terminate them from the target's side. */
  sockets: Set<WebSocket>;
  /** Every TCP connection the target accepted, to reset them as a crashing peer can. */
  connections: Set<Socket>;
  /** Writes the next chunk of every open /stream response. */
  writeChunk(text: string): void;
  /** Ends every open /stream response. */
  endStreams(): void;
  /** Resolves when a /stream response has started on this target. */
  streamStarted: Promise<void>;
}

const targets: Target[] = [];
const proxies: RoundRobinProxy[] = [];
const holds = new Set<NodeJS.Timeout>();

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  for (const t of holds) clearTimeout(t);
  holds.clear();
  await Promise.all(targets.splice(0).map(stopTarget));
});

async function startTarget(): Promise<Target> {
  const seen: IncomingMessage[] = [];
  const streams = new Set<http.ServerResponse>();
  let started!: () => void;
  const streamStarted = new Promise<void>((resolve) => (started = resolve));
  const server = http.createServer((req, res) => {
    seen.push(req);
    if (req.url === '/stream') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      streams.add(res);
      res.once('close', () => streams.delete(res));
      return started();
    }
    if (req.url === '/hold') {
      // A long-poll: nothing at all for a second, then the answer.
      const timer = setTimeout(() => (holds.delete(timer), res.end(`held by ${port}`)), 1000);
      return void holds.add(timer);
    }
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => res.writeHead(200, { 'X-Target': String(port) }).end(`${port}:${Buffer.concat(body).toString()}`));
  });
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<WebSocket>();
  const handshakes: IncomingMessage[] = [];
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    sockets.add(ws);
    ws.once('close', () => sockets.delete(ws));
    ws.on('message', (data) => ws.send(`${port}:${String(data)}`));
  });
  const port = await listen(server);
  const target: Target = {
    port,
    server,
    wss,
    seen,
    handshakes,
    sockets,
    connections,
    writeChunk: (text) => streams.forEach((res) => res.write(text)),
    endStreams: () => streams.forEach((res) => res.end()),
    streamStarted,
  };
  targets.push(target);
  return target;
}

async function stopTarget(t: Target): Promise<void> {
  if (!t.server.listening) return;
  for (const ws of t.sockets) ws.terminate();
  const closed = new Promise<void>((resolve) => t.server.close(() => resolve()));
  t.server.closeAllConnections();
  await new Promise<void>((resolve) => t.wss.close(() => resolve()));
  await closed;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function proxyTo(list: () => number[]): Promise<RoundRobinProxy> {
  const proxy = await startRoundRobinProxy(list);
  proxies.push(proxy);
  return proxy;
}

/** One request through the proxy, with a fresh connection (no client-side pooling hides where requests go). */
function request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The port a target wrote in front of its answer. */
const portOf = (body: string): number => Number(body.split(':')[0]);

function openWebSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));
}

describe('round-robin proxy', () => {
  it('sends consecutive requests to the targets in turn, with Host kept and X-Forwarded-For added', async () => {
    const [a, b, c] = [await startTarget(), await startTarget(), await startTarget()];
    const proxy = await proxyTo(() => [a!.port, b!.port, c!.port]);

    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(portOf((await request(`${proxy.url}/x`)).body));
    expect(ports).toEqual([a!.port, b!.port, c!.port, a!.port, b!.port, c!.port]);
    expect(proxy.stats().requests).toEqual({ [a!.port]: 2, [b!.port]: 2, [c!.port]: 2 });

    const posted = await request(`${proxy.url}/send`, { method: 'POST', body: 'hello', headers: { 'X-Forwarded-For': '10.0.0.1' } });
    expect(posted.body.split(':')[1]).toBe('hello');
    const received = targets.find((t) => t.port === portOf(posted.body))!.seen.at(-1)!;
    expect(received.headers.host).toBe(`127.0.0.1:${proxy.port}`);
    expect(received.headers['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
    expect(received.method).toBe('POST');
  });

  it('reads the target list for every request', async () => {
    const [a, b] = [await startTarget(), await startTarget()];
    let list = [a!.port];
    const proxy = await proxyTo(() => list);
    expect(portOf((await request(`${proxy.url}/x`)).body)).toBe(a!.port);
    list = [b!.port];
    expect(portOf((await request(`${proxy.url}/x`)).body)).toBe(b!.port);
  });

  it('streams a response chunk by chunk as the target writes it', async () => {
    const t = await startTarget();
    const proxy = await proxyTo(() => [t.port]);

    const res = await new Promise<IncomingMessage>((resolve) => http.get(`${proxy.url}/stream`, { agent: false }, resolve));
    expect(res.headers['content-type']).toBe('text/event-stream');
    await t.streamStarted;
    const arrived: { text: string; at: number }[] = [];
    res.on('data', (c: Buffer) => arrived.push({ text: c.toString(), at: performance.now() }));

    // The target writes each chunk only once the previous one has come out of the proxy: a proxy that buffered
    // anything until the end would never deliver the first, and the test would time out.
    const written: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const before = arrived.length;
      written.push(performance.now());
      t.writeChunk(`data: ${i}\n\n`);
      await expect.poll(() => arrived.length, { timeout: 2000 }).toBeGreaterThan(before);
    }
    const ended = new Promise((resolve) => res.once('end', resolve));
    t.endStreams();
    await ended;
    expect(arrived.map((c) => c.text).join('')).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    // Each chunk arrived after it was written and before the next was.
    for (let i = 0; i < 3; i++) {
      const at = arrived.find((c) => c.text.includes(`data: ${i + 1}`))!.at;
      expect(at).toBeGreaterThanOrEqual(written[i]!);
      if (i < 2) expect(at).toBeLessThan(written[i + 1]!);
    }
  });

  it('carries a response the target holds for a second', async () => {
    const t = await startTarget();
    const proxy = await proxyTo(() => [t.port]);
    const started = performance.now();
    const res = await request(`${proxy.url}/hold`);
    expect(res).toMatchObject({ status: 200, body: `held by ${t.port}` });
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('tunnels WebSockets, each new upgrade to the next target', async () => {
    const [a, b, c] = [await startTarget(), await startTarget(), await startTarget()];
    const proxy = await proxyTo(() => [a!.port, b!.port, c!.port]);

    const ports: number[] = [];
    const clients: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const ws = await openWebSocket(`ws://127.0.0.1:${proxy.port}/realtime/ws?i=${i}`);
      clients.push(ws);
      const echo = nextMessage(ws);
      ws.send(`hi ${i}`);
      const answer = await echo;
      expect(answer.split(':')[1]).toBe(`hi ${i}`);
      ports.push(portOf(answer));
    }
    expect(ports).toEqual([a!.port, b!.port, c!.port]);
    expect(proxy.stats().upgrades).toEqual({ [a!.port]: 1, [b!.port]: 1, [c!.port]: 1 });
    const first = targets.find((t) => t.port === ports[0])!;
    expect(first.seen).toEqual([]); // upgrades never reach the plain request handler
    expect(first.handshakes[0]!.url).toBe('/realtime/ws?i=0');
    expect(first.handshakes[0]!.headers.host).toBe(`127.0.0.1:${proxy.port}`);
    expect(first.handshakes[0]!.headers['x-forwarded-for']).toBe('127.0.0.1');
    for (const ws of clients) ws.close();
  });

  it('skips a dead target, and answers 502 / drops the upgrade when every target is dead', async () => {
    const [a, b] = [await startTarget(), await startTarget()];
    const proxy = await proxyTo(() => [a!.port, b!.port]);
    await stopTarget(b!);

    for (let i = 0; i < 4; i++) expect(portOf((await request(`${proxy.url}/x`)).body)).toBe(a!.port);
    const ws = await openWebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    const echo = nextMessage(ws);
    ws.send('still here');
    expect(await echo).toBe(`${a!.port}:still here`);
    ws.close();
    expect(proxy.stats().refused[b!.port]).toBeGreaterThan(0);
    expect(proxy.stats().requests[b!.port]).toBeUndefined();

    await stopTarget(a!);
    expect((await request(`${proxy.url}/x`)).status).toBe(502);
    const refusedUpgrade = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    const outcome = await new Promise<string>((resolve) => {
      refusedUpgrade.once('open', () => resolve('open'));
      refusedUpgrade.once('error', (err) => resolve(`error: ${err.message}`));
    });
    expect(outcome).toMatch(/^error: socket hang up/);
  });

  // 'close': the target ends its connections (FIN), as a node's process exit does. 'reset': they are reset (RST), which
  // a pipe does not pass on by itself: only the proxy destroying the client's side tells the client.
  it.each(['close', 'reset'] as const)("drops the client's connection the moment the target's side goes (%s)", async (how) => {
    const t = await startTarget();
    const proxy = await proxyTo(() => [t.port]);

    const res = await new Promise<IncomingMessage>((resolve) => http.get(`${proxy.url}/stream`, { agent: false }, resolve));
    await t.streamStarted;
    res.on('error', () => {});
    res.resume();
    const streamClosed = new Promise<boolean>((resolve) => res.once('close', () => resolve(res.complete)));

    const ws = await openWebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    ws.on('error', () => {});
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await expect.poll(() => t.sockets.size).toBe(1);

    if (how === 'close') {
      t.server.closeAllConnections(); // the SSE stream's connection
      for (const s of t.sockets) s.terminate();
    } else {
      for (const s of t.connections) s.resetAndDestroy();
    }
    expect(await within(streamClosed, 'the proxied SSE stream to close')).toBe(false); // cut off, not ended
    expect(await within(wsClosed, 'the proxied WebSocket to close')).toBe(1006); // abnormal closure: no close frame, the connection just went
    await expect.poll(() => proxy.stats().openSockets).toBe(0);
  });

  it("releases the target's side when the client goes away", async () => {
    const t = await startTarget();
    const proxy = await proxyTo(() => [t.port]);
    const req = http.get(`${proxy.url}/stream`, { agent: false });
    req.on('error', () => {});
    await t.streamStarted;
    const ws = await openWebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    await expect.poll(() => t.sockets.size).toBe(1);

    req.destroy();
    ws.terminate();
    await expect.poll(() => t.sockets.size).toBe(0);
    await expect.poll(() => getConnections(t.server)).toBe(0);
    expect(proxy.stats().openSockets).toBe(0);
  });

  it('leaves no socket behind after close()', async () => {
    const t = await startTarget();
    const proxy = await proxyTo(() => [t.port]);
    const req = http.get(`${proxy.url}/stream`, { agent: false });
    const reqClosed = new Promise((resolve) => req.once('close', resolve));
    req.on('error', () => {});
    await t.streamStarted;
    const ws = await openWebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    const wsClosed = new Promise((resolve) => ws.once('close', resolve));
    expect(proxy.stats().openSockets).toBe(4); // two client connections, two to the target

    await proxy.close();
    expect(proxy.server.listening).toBe(false);
    expect(proxy.stats().openSockets).toBe(0);
    await Promise.all([reqClosed, wsClosed]);
    await expect.poll(() => getConnections(t.server)).toBe(0);
  });
});

/** `promise`, or a failure naming what did not happen within 2 s (rather than the test's own 20 s timeout). */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited 2 s for ${what}`)), 2000)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function getConnections(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}
