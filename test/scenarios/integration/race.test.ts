/**
 * The race against the real server (issue 15): a proxy in front of it that holds WebSocket upgrades and buffers SSE
 * streams (the server takes the handshake and writes, nothing reaches the client). The client starts SSE after 1 s,
 * polling 1 s after that, and keeps polling; the server holds one session, not one per racer: the handshakes share
 * the client's join key, so the later ones join the session the first created.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRealtimeServer, type RealtimeServer, type Session } from '../../../src/server';
import { cleanup, connectClient, waitUntil } from './harness';

interface Proxy {
  base: string;
  sessions: Session[];
  /** How many handshakes of each kind reached the server. */
  reached: { websocket: number; sse: number; polling: number };
  close(): Promise<void>;
}

const proxies: Proxy[] = [];
afterEach(async () => {
  await cleanup();
  for (const p of proxies.splice(0)) await p.close();
});

/** The reference server behind a proxy that holds upgrades for `upgradeDelayMs` (Infinity: for ever), and buffers SSE. */
async function startProxy(upgradeDelayMs: number, bufferSse: boolean): Promise<Proxy> {
  const rt: RealtimeServer = createRealtimeServer({ heartbeatMs: 500, logger: { debug() {}, warn() {}, error() {} } });
  const reached = { websocket: 0, sse: 0, polling: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.endsWith('/sse')) reached.sse++;
    if (path.endsWith('/sse') && bufferSse) {
      // A buffering proxy: the server's status line and writes never reach the client.
      res.writeHead = (() => res) as never;
      res.flushHeaders = () => {};
      res.write = (() => true) as never;
    }
    if (path.endsWith('/poll') && !new URL(req.url ?? '/', 'http://x').searchParams.has('cid')) reached.polling++;
    if (!rt.handler(req, res)) res.writeHead(404).end();
  });
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (upgradeDelayMs === Infinity) return; // held for ever: the socket stays open, unanswered
    const t = setTimeout(() => {
      timers.delete(t);
      if (socket.destroyed) return;
      reached.websocket++;
      if (!rt.handleUpgrade(req, socket, head)) socket.destroy();
    }, upgradeDelayMs);
    timers.add(t);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const sessions: Session[] = [];
  rt.on('connection', (s) => void sessions.push(s));
  const proxy: Proxy = {
    base: `http://127.0.0.1:${(http.address() as AddressInfo).port}/realtime`,
    sessions,
    reached,
    async close() {
      for (const t of timers) clearTimeout(t);
      await rt.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  proxies.push(proxy);
  return proxy;
}

describe('racing transports against the reference server', () => {
  it('a hanging upgrade and a buffered SSE stream: open on polling, one session on the server, nothing lost', async () => {
    const p = await startProxy(Infinity, true);
    const { client, of } = await connectClient(p.base);
    const got: unknown[] = [];
    client.on('n', (d) => void got.push(d));
    await waitUntil(() => client.state === 'open', 5000, 'open');
    expect(client.transport).toBe('polling');
    expect(of('fallback').map((e) => `${e.from}→${e.to}`)).toEqual(['websocket→sse', 'sse→polling']);
    // The buffered SSE handshake created the session; polling's handshake joined it.
    expect(p.reached).toEqual({ websocket: 0, sse: 1, polling: 1 });
    expect(p.sessions).toHaveLength(1);
    expect(client.sessionId).toBe(p.sessions[0]!.id);
    for (let n = 1; n <= 5; n++) p.sessions[0]!.emit('n', n);
    await waitUntil(() => got.length === 5, 5000, 'five messages');
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(of('resync')).toEqual([]);
  });

  it('a slow upgrade that completes after SSE won: still one session, and SSE is not disturbed', async () => {
    const p = await startProxy(1500, false);
    const { client, of } = await connectClient(p.base);
    await waitUntil(() => client.state === 'open', 5000, 'open');
    expect(client.transport).toBe('sse');
    await new Promise((r) => setTimeout(r, 1000)); // the held upgrade would have gone through by now
    expect(p.sessions).toHaveLength(1);
    expect(of('transportFailed')).toEqual([]);
    expect(client.transport).toBe('sse');
  });
});
