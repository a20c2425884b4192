/**
 * A TCP proxy on 127.0.0.1 (port 0) that passes what the client sends at once and what the server sends at no more
 * than `bytesPerSecond` while `throttled` is true: it reads from the server that slowly, so the server's own buffer for
 * the connection really fills (a slow reader, not a stalled one). Closed with every socket it made by `close()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Ticks per second of the throttle: small slices keep the rate even. */
const TICKS_PER_SECOND = 20;

export interface ThrottleProxy {
  port: number;
  /** Whether server → client bytes are held to the rate (new and open connections alike). */
  throttled: boolean;
  /** Server → client bytes passed on so far. */
  readonly passed: number;
  close(): Promise<void>;
}

export async function startThrottleProxy(target: number, bytesPerSecond: number): Promise<ThrottleProxy> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let passed = 0;
  const proxy = { port: 0, throttled: true, passed: 0 } as ThrottleProxy;
  Object.defineProperty(proxy, 'passed', { get: () => passed });
  const perTick = Math.max(1, Math.floor(bytesPerSecond / TICKS_PER_SECOND));

  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    // Server → client: read on a timer from a paused socket, so TCP back-pressure reaches the server.
    upstream.pause();
    const pump = (): void => {
      if (client.destroyed) return;
      const want = proxy.throttled ? perTick : 1 << 20;
      let left = want;
      while (left > 0 && upstream.readableLength > 0) {
        const chunk = upstream.read(Math.min(left, upstream.readableLength)) as Buffer | null;
        if (!chunk) break;
        left -= chunk.length;
        passed += chunk.length;
        client.write(chunk);
      }
      // A paused socket only reads from the kernel again once its buffer is below the high-water mark.
      if (upstream.readableLength === 0) upstream.read(0);
    };
    const timer = setInterval(pump, 1000 / TICKS_PER_SECOND);
    timers.add(timer);
    upstream.once('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.close = async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
