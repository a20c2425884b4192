/**
 * Integration rig: the real reference server on 127.0.0.1 (port 0) behind an http.Server this file owns, and real
 * `RealtimeClient`s driven in Node with `ws` and event-source-polyfill injected.
 *
 * The http server delegates to `rt.handler()` / `rt.handleUpgrade()` (the API for frameworks that own the server), so
 * a test can put gates in front of each transport (refuse the WebSocket upgrade, answer 503 to SSE or polls) and cut
 * every TCP connection at once (`killConnections()`), which drops WebSockets, event streams and held polls alike.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import type { ClientOptions } from '../../../src/client/options';
import type { LifecycleEvents } from '../../../src/client/lifecycle';
import type { TransportName } from '../../../src/protocol/frames';
import { loadEventSourcePolyfill, type EventSourceConstructor, type WebSocketConstructor } from '../../../src/transports/environment';
import { createRealtimeServer, type CreateServerOptions, type Logger, type RealtimeServer, type Session } from '../../../src/server';

export type AnyClient = RealtimeClient<Record<string, unknown>, Record<string, unknown>>;

export const TRANSPORTS: TransportName[] = ['websocket', 'sse', 'polling'];

/** A server logger that records instead of printing. */
export function recordingLogger(): Logger & { errors: unknown[][] } {
  const errors: unknown[][] = [];
  return { errors, debug: () => {}, warn: () => {}, error: (...args: unknown[]) => void errors.push(args) };
}

/** Which transports the http server refuses right now (`true` = refused). */
export interface Gates {
  websocket: boolean;
  sse: boolean;
  polling: boolean;
}

export interface Harness {
  rt: RealtimeServer;
  http: Server;
  port: number;
  /** http://127.0.0.1:port/realtime */
  base: string;
  logger: ReturnType<typeof recordingLogger>;
  gates: Gates;
  /** Every session the server created, in order (`connection` events). */
  sessions: Session[];
  /** TCP connections currently open to the http server. */
  readonly sockets: ReadonlySet<Socket>;
  /** Requests whose response has not closed yet, and upgraded sockets still open: what a client holds open. */
  inFlight(): { requests: number; upgraded: number };
  /** Requests and upgrades received so far (gated ones included). */
  received(): number;
  /** Destroys every open TCP connection; returns how many. */
  killConnections(): number;
  /** Closes the realtime server, then the http server. */
  close(): Promise<void>;
}

const harnesses = new Set<Harness>();
const clients = new Set<AnyClient>();

/**
 * Starts the reference server behind our own http.Server. `port` 0 picks a free one; a given port is reused
 * (a restart "on the same port").
 */
export async function startHarness(options: Omit<CreateServerOptions, 'server'> = {}, port = 0): Promise<Harness> {
  const logger = recordingLogger();
  // Its own http.Server stays unused (never listens): we own the one that listens and delegate to rt.
  const rt = createRealtimeServer({ heartbeatMs: 500, sessionGraceMs: 10_000, logger, ...options });
  const path = options.path ?? '/realtime';
  const gates: Gates = { websocket: false, sse: false, polling: false };
  const sockets = new Set<Socket>();
  const upgraded = new Set<Duplex>();
  let requests = 0;
  let received = 0;

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    received++;
    res.once('close', () => requests--);
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const refused = (gates.sse && pathname === `${path}/sse`) || (gates.polling && pathname === `${path}/poll`);
    if (refused) {
      // No Retry-After: a plain 5xx, which the client treats as "retry, then fall back".
      res.writeHead(503, { 'Content-Type': 'text/plain', Connection: 'close' }).end('gated by the test');
      return;
    }
    if (!rt.handler(req, res)) res.writeHead(404).end();
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    received++;
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (gates.websocket && pathname === `${path}/ws`) {
      socket.destroy();
      return;
    }
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if (!rt.handleUpgrade(req, socket, head)) socket.destroy();
  });
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const actual = (http.address() as AddressInfo).port;
  const sessions: Session[] = [];
  rt.on('connection', (s) => void sessions.push(s));

  const h: Harness = {
    rt,
    http,
    port: actual,
    base: `http://127.0.0.1:${actual}${path}`,
    logger,
    gates,
    sessions,
    sockets,
    inFlight: () => ({ requests, upgraded: upgraded.size }),
    received: () => received,
    killConnections() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    async close() {
      if (!harnesses.delete(h)) return;
      await rt.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  harnesses.add(h);
  return h;
}

let polyfill: EventSourceConstructor | undefined;

/** event-source-polyfill's EventSourcePolyfill (Node 20 has no EventSource), loaded once. */
export async function eventSource(): Promise<EventSourceConstructor> {
  polyfill ??= await loadEventSourcePolyfill();
  return polyfill;
}

export interface ClientRig {
  client: AnyClient;
  /** Every lifecycle event, in order. */
  events: { type: keyof LifecycleEvents; payload: unknown }[];
  of<K extends keyof LifecycleEvents>(type: K): LifecycleEvents[K][];
}

const LIFECYCLE: (keyof LifecycleEvents)[] = ['state', 'open', 'transport', 'transportFailed', 'fallback', 'reconnecting', 'resync', 'error', 'close'];

/** A real client with Node's platform pieces injected, fast retries, no storage; closed by `cleanup()`. */
export async function connectClient(base: string, options: ClientOptions = {}): Promise<ClientRig> {
  const client: AnyClient = new RealtimeClient<Record<string, unknown>, Record<string, unknown>>(base, {
    WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
    EventSource: await eventSource(),
    storage: null,
    backoff: { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.5 },
    upgradeProbeMs: 0,
    ...options,
  });
  clients.add(client);
  const events: ClientRig['events'] = [];
  for (const type of LIFECYCLE) client.lifecycle.on(type, (payload) => events.push({ type, payload }));
  return {
    client,
    events,
    of: <K extends keyof LifecycleEvents>(type: K) => events.filter((e) => e.type === type).map((e) => e.payload as LifecycleEvents[K]),
  };
}

/** Closes every client and server the test left open (afterEach). */
export async function cleanup(): Promise<void> {
  for (const c of [...clients]) c.close();
  clients.clear();
  await Promise.all([...harnesses].map((h) => h.close()));
}

/** Resolves once the client is open (on `transport`, when given). */
export function whenOpen(client: AnyClient, transport?: TransportName, timeoutMs = 5000): Promise<void> {
  return waitUntil(() => client.state === 'open' && (transport === undefined || client.transport === transport), timeoutMs, `client open${transport ? ` on ${transport}` : ''} (state ${client.state}, transport ${client.transport})`);
}

/** Polls `cond` every 5 ms for at most `timeoutMs`; the error names what was awaited. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 1..n */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
