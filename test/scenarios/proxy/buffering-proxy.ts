/**
 * A buffering proxy on loopback, in process: what some corporate proxies and antivirus gateways do to an event stream.
 * It refuses every WebSocket upgrade, holds every `text/event-stream` response (status line, headers and body) until
 * the upstream response ends, and passes everything else (polls, POSTs) straight through.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface BufferingProxy {
  port: number;
  /** Event streams held so far, and how many of them were let out (their upstream ended). */
  readonly counters: { refusedUpgrades: number; heldStreams: number; releasedStreams: number };
  close(): Promise<void>;
}

const EVENT_STREAM = /^text\/event-stream/i;

export async function startBufferingProxy(target: { host: string; port: number }): Promise<BufferingProxy> {
  const counters = { refusedUpgrades: 0, heldStreams: 0, releasedStreams: 0 };
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const upstream = request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (upRes) => {
        if (res.destroyed) return void upRes.destroy();
        if (!EVENT_STREAM.test(String(upRes.headers['content-type'] ?? ''))) {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.flushHeaders();
          upRes.pipe(res);
          return;
        }
        // Everything waits for the upstream's end: an event stream reaches the client only once it is over.
        counters.heldStreams++;
        const held: Buffer[] = [];
        upRes.on('data', (chunk: Buffer) => held.push(chunk));
        upRes.on('end', () => {
          if (res.destroyed) return;
          counters.releasedStreams++;
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(Buffer.concat(held));
        });
        upRes.on('aborted', () => res.destroy());
      },
    );
    upstream.on('socket', track);
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const server: Server = createServer(forward);
  server.on('connection', (socket: Socket) => track(socket));
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    counters.refusedUpgrades++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    counters,
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
