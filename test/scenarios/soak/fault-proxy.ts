/**
 * A fault-injecting HTTP proxy on loopback, between real clients and the reference server. It forwards every request
 * and WebSocket upgrade, and on command misbehaves the way networks and middleboxes do: resets every TCP connection,
 * refuses or hangs WebSocket upgrades, buffers SSE bodies (like a proxy with response buffering on), delays or drops
 * poll responses, throttles what reaches the clients (a slow reader), or refuses all connections for a while (an
 * outage).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';

export interface FaultState {
  refuseUpgrades: boolean;
  hangUpgrades: boolean;
  bufferSse: boolean;
  /** Extra delay before a poll response is forwarded. */
  pollDelayMs: number;
  /** Share of poll responses dropped (the connection is destroyed instead). */
  pollDropRate: number;
  /** Every new connection is destroyed at once. */
  down: boolean;
  /**
   * Bytes per second each connection may carry towards its client (0: unlimited). The proxy stops reading from the
   * server while over it, so the server's own buffers fill, as they do for a client on a slow link.
   */
  throttleBytesPerSec: number;
}

export const NO_FAULTS: FaultState = { refuseUpgrades: false, hangUpgrades: false, bufferSse: false, pollDelayMs: 0, pollDropRate: 0, down: false, throttleBytesPerSec: 0 };

export interface FaultCounters {
  resets: number;
  socketsReset: number;
  refusedUpgrades: number;
  hungUpgrades: number;
  bufferedSse: number;
  delayedPolls: number;
  droppedPolls: number;
  refusedWhileDown: number;
  /** Times a connection's reading from the server was paused by the throttle. */
  throttlePauses: number;
}

export class FaultProxy {
  readonly state: FaultState = { ...NO_FAULTS };
  readonly counters: FaultCounters = { resets: 0, socketsReset: 0, refusedUpgrades: 0, hungUpgrades: 0, bufferedSse: 0, delayedPolls: 0, droppedPolls: 0, refusedWhileDown: 0, throttlePauses: 0 };
  private readonly server: Server;
  /** Client-side and upstream sockets, so a reset can cut both ends. */
  private readonly sockets = new Set<Duplex>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly target: { host: string; port: number },
    private readonly random: () => number = Math.random,
  ) {
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', (socket: Socket) => {
      if (this.state.down) {
        this.counters.refusedWhileDown++;
        socket.destroy();
        return;
      }
      this.track(socket);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Points the proxy at another upstream port (a restarted server). */
  retarget(port: number): void {
    this.target.port = port;
  }

  /** Destroys every open connection, client side and upstream. */
  resetAll(): number {
    const n = this.sockets.size;
    for (const s of [...this.sockets]) s.destroy();
    this.sockets.clear();
    this.counters.resets++;
    this.counters.socketsReset += n;
    return n;
  }

  set(partial: Partial<FaultState>): void {
    Object.assign(this.state, partial);
  }

  clear(): void {
    Object.assign(this.state, NO_FAULTS);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    const isSse = path.includes('/sse');
    const isPoll = path.includes('/poll');
    const upstream = request(
      { host: this.target.host, port: this.target.port, method: req.method, path, headers: req.headers, agent: false },
      (upRes) => {
        const send = (): void => {
          if (res.destroyed) {
            upRes.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          if (isSse && this.state.bufferSse) {
            // A buffering proxy: headers pass, the body waits for the upstream to finish (an event stream never does).
            this.counters.bufferedSse++;
            const held: Buffer[] = [];
            upRes.on('data', (chunk: Buffer) => held.push(chunk));
            upRes.on('end', () => res.end(Buffer.concat(held)));
            return;
          }
          res.flushHeaders();
          this.pump(upRes, res);
        };
        if (isPoll && this.state.pollDropRate > 0 && this.random() < this.state.pollDropRate) {
          this.counters.droppedPolls++;
          upRes.destroy();
          req.socket.destroy();
          return;
        }
        if (isPoll && this.state.pollDelayMs > 0) {
          this.counters.delayedPolls++;
          this.later(send, this.state.pollDelayMs);
          return;
        }
        send();
      },
    );
    upstream.on('socket', (s) => this.track(s));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.track(socket);
    if (this.state.refuseUpgrades) {
      this.counters.refusedUpgrades++;
      socket.destroy();
      return;
    }
    if (this.state.hangUpgrades) {
      this.counters.hungUpgrades++;
      return; // accepted at TCP level, never answered; a reset or the client's own timeout ends it
    }
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    upstream.on('connect', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      this.pump(upstream, socket);
      socket.pipe(upstream);
    });
    const end = (): void => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('close', end);
    socket.on('close', end);
  }

  /**
   * `from.pipe(to)`, but holding `from` while the throttle's budget is spent (checked per chunk, so a burst goes
   * through and the pause after it is as long as the burst takes at the rate).
   */
  private pump(from: Readable, to: Writable): void {
    let holds = 0;
    const hold = (): void => {
      if (holds++ === 0) from.pause();
    };
    const release = (): void => {
      if (--holds === 0) from.resume();
    };
    let budget = 0;
    let refilledAt = Date.now();
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        hold();
        to.once('drain', release);
      }
      const rate = this.state.throttleBytesPerSec;
      if (rate <= 0) return;
      const now = Date.now();
      budget = Math.min(rate, budget + ((now - refilledAt) / 1000) * rate) - chunk.length;
      refilledAt = now;
      if (budget >= 0) return;
      this.counters.throttlePauses++;
      hold();
      this.later(release, Math.ceil((-budget / rate) * 1000));
    });
    from.on('end', () => to.end());
  }
}
