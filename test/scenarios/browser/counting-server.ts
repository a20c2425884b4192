/**
 * The reference server for the page-lifecycle and connection-budget tests, in-process on a free loopback port, with
 * what those tests need to see and steer: every connection the page holds to it right now (held requests and
 * WebSocket sockets, counted as they open and close), the most it ever held at once, and WebSocket upgrades that
 * are answered, refused or left hanging on demand. It serves the UMD bundle and a page whose script is given.
 */
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Page } from 'playwright-core';
import { createRealtimeServer, type RealtimeServer, type Session } from '../../../src/server';

const bundle = readFileSync(new URL('../../../dist/realtime-fallback.umd.min.js', import.meta.url), 'utf8');

/** `hold`: kept unanswered until `releaseHeld()`; `hang`: never answered. */
export type UpgradeMode = 'ok' | 'refuse' | 'hang' | 'hold';

export interface CountingServer {
  origin: string;
  rt: RealtimeServer;
  sessions: Session[];
  /** WebSocket upgrades from now on. */
  upgrades: UpgradeMode;
  /** When set, every realtime request and upgrade is answered at once with this status (and `Retry-After`). */
  refuseAll: { status: number; retryAfter?: number } | null;
  /** When each handshake (a WebSocket upgrade, an SSE stream, a first poll) reached the server, `Date.now()`. */
  readonly handshakes: number[];
  /** Connections held to the realtime endpoint right now: requests not yet answered or aborted, open WebSockets. */
  readonly open: number;
  /** The most `open` has been since `resetPeak()`, and what was open then. */
  readonly peak: { count: number; what: string[] };
  resetPeak(): void;
  /** Answers the upgrades held so far (mode `hold`). */
  releaseHeld(): void;
  /** Cuts every connection the page holds, as a network that goes away does (no close frame, no response). */
  dropAll(): void;
  close(): Promise<void>;
}

/**
 * `pages`: path → HTML. Every page can load `/rf.js` (the UMD bundle). The realtime endpoint is `/realtime`; a session
 * that opens gets `onSession` (e.g. a message stream).
 */
export async function startCountingServer(options: {
  pages: Record<string, string>;
  heartbeatMs?: number;
  onSession?: (session: Session) => void;
}): Promise<CountingServer> {
  const rt = createRealtimeServer({ heartbeatMs: options.heartbeatMs ?? 20_000, logger: { debug() {}, warn() {}, error() {} } });
  const sessions: Session[] = [];
  rt.on('connection', (session) => {
    sessions.push(session);
    options.onSession?.(session);
  });
  /** What is held: a response (its socket is cut on dropAll) or a WebSocket's socket. */
  const held = new Map<ServerResponse | Duplex, string>();
  let peak = { count: 0, what: [] as string[] };
  const hold = (key: ServerResponse | Duplex, what: string): void => {
    held.set(key, what);
    if (held.size > peak.count) peak = { count: held.size, what: [...held.values()] };
  };
  const handshakes: number[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<Duplex>();
  let holding: (() => void)[] = [];

  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith('/realtime')) {
      const what = `${req.method} ${path.slice('/realtime'.length)}`;
      const handshake = req.method === 'GET' && (path.endsWith('/sse') || (path.endsWith('/poll') && !new URL(req.url ?? '/', 'http://x').searchParams.has('cid')));
      if (handshake) handshakes.push(Date.now());
      hold(res, what);
      res.once('close', () => held.delete(res));
      const refuse = server.refuseAll;
      if (refuse && req.method !== 'OPTIONS') {
        const headers = refuse.retryAfter === undefined ? {} : { 'Retry-After': String(refuse.retryAfter) };
        return void res.writeHead(refuse.status, headers).end(`refused with ${refuse.status}`);
      }
      if (!rt.handler(req, res)) res.writeHead(404).end();
      return;
    }
    if (path === '/rf.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    const page = options.pages[path];
    if (page === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  });
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    hold(socket, 'websocket');
    handshakes.push(Date.now());
    socket.once('close', () => held.delete(socket));
    // A client that gives up on an unanswered upgrade half-closes (FIN): it let go, and so does the server.
    socket.once('end', () => {
      held.delete(socket);
      socket.destroy();
    });
    if (server.refuseAll) return void socket.end(`HTTP/1.1 ${server.refuseAll.status} Refused\r\nConnection: close\r\n\r\n`);
    if (server.upgrades === 'refuse') return void socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    if (server.upgrades === 'hang') return void hanging.add(socket); // never answered; the client gives up on it
    const answer = (): void => {
      if (!socket.destroyed && !rt.handleUpgrade(req, socket, head)) socket.destroy();
    };
    if (server.upgrades === 'hold') holding.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

  const server: CountingServer = {
    origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    rt,
    sessions,
    upgrades: 'ok',
    refuseAll: null,
    handshakes,
    get open() {
      return held.size;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = { count: held.size, what: [...held.values()] };
    },
    releaseHeld() {
      for (const answer of holding.splice(0)) answer();
    },
    dropAll() {
      for (const h of held.keys()) (h instanceof ServerResponse ? h.socket : h)?.destroy();
    },
    async close() {
      await rt.close();
      for (const s of [...hanging, ...sockets]) s.destroy();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  return server;
}

/**
 * A page that runs a client of the UMD bundle on the transports in its query (`?t=sse,polling`) and records, in
 * `window.log`, the `n` messages it got, its lifecycle events and its `pageshow`s (times from `performance.now()`).
 * Client options can be added as JSON in `?o=`.
 */
export const CLIENT_PAGE = `<!doctype html><meta charset="utf-8"><title>client</title><link rel="icon" href="data:,">
<script src="/rf.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  window.log = { got: [], events: [], shows: [] };
  addEventListener('pageshow', (e) => log.shows.push({ persisted: e.persisted, at: performance.now() }));
  const client = new RealtimeFallback.RealtimeClient(location.origin + '/realtime', {
    transports: (q.get('t') || 'websocket,sse,polling').split(','),
    ...JSON.parse(q.get('o') || '{}'),
  });
  client.on('n', (n) => log.got.push(n));
  for (const type of ['open', 'reconnecting', 'transportFailed', 'fallback', 'resync', 'transport', 'close']) {
    client.lifecycle.on(type, (e) => log.events.push({ type, at: performance.now(), transport: e.transport ?? null, reason: e.reason ?? e.failure?.message ?? null, resumed: e.resumed ?? null }));
  }
  window.client = client;
</script>
<a id="away" href="/away">away</a>`;

/** What `CLIENT_PAGE` recorded. */
export interface ClientLog {
  got: number[];
  /** `reason`: a lifecycle event's reason, or a failed transport's message. */
  events: { type: string; at: number; transport: string | null; reason: string | null; resumed: boolean | null }[];
  shows: { persisted: boolean; at: number }[];
}

/** A session that emits `n` = 1, 2, 3 … every `everyMs` until it ends (its own timer, cleared on `disconnect`). */
export function streamNumbers(everyMs: number): (session: Session) => void {
  return (session) => {
    let n = 0;
    const timer = setInterval(() => session.emit('n', ++n), everyMs);
    session.on('disconnect', () => clearInterval(timer));
  };
}

/** Whether `got` is exactly 1..got.length: nothing lost, repeated or reordered. */
export function inOrder(got: number[]): boolean {
  return got.every((n, i) => n === i + 1);
}

/** What `CLIENT_PAGE` has recorded so far. */
export const readLog = (page: Page): Promise<ClientLog> => page.evaluate(() => (window as unknown as { log: ClientLog }).log);

/** Waits, inside the page, until `fn` (an expression over its globals) is true. */
export const waitIn = (page: Page, fn: string, timeout = 10_000) => page.waitForFunction(fn, undefined, { timeout, polling: 20 });

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a condition in the test process (the server's side, or a page read through DevTools); a throw counts as false. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}
