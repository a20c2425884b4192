/**
 * The fault-injection soak: real clients ↔ fault proxy ↔ the reference server in its own process. The server streams
 * a counter to every session, every client emits its own counter and makes requests, and a seeded schedule of faults
 * runs meanwhile. At the end every number must have arrived exactly once and in order in both directions (except
 * where a lost session was announced with `resync`), and every request must have settled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import { RealtimeError } from '../../../src/client/errors';
import type { TransportName } from '../../../src/protocol/frames';
import { loadEventSourcePolyfill, type WebSocketConstructor } from '../../../src/transports/environment';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../../demo/round-robin-proxy.mjs';
import { startRedisServer, type RedisServer } from '../../server/redis/redis-server';
import { FaultProxy, type FaultCounters } from './fault-proxy';
import { padder, type Padder } from './padding';
import { seededRandom as seeded } from '../../support/seeded-random';
import type { FromChild } from './server-process';

export interface SoakOptions {
  clients: number;
  /** How long faults are injected. */
  durationMs: number;
  seed: number;
  /** Most server restarts (sessions lost) during the run. */
  maxRestarts: number;
  tickMs?: number;
  emitEveryMs?: number;
  requestEveryMs?: number;
  /** Adds clients in a browser page at the given endpoint URL. */
  browser?: (url: string) => Promise<ClientGroup>;
  /**
   * Cluster mode: this many nodes on a real redis-server behind a round-robin balancer, and a publisher process
   * streaming one counter to every session; restarts become SIGKILLs of one node (sessions kept).
   */
  nodes?: number;
  /** The server's message size limit; padded messages reach up to it. Default 256 KiB. */
  maxMessageBytes?: number;
  /** Share of messages, each direction, padded to a random size up to the limit. Default 0.01. */
  largeShare?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  faults: Record<string, number>;
  /** What the proxy did: sockets reset, upgrades refused, polls dropped, reads paused by the throttle, ... */
  proxy: FaultCounters | null;
  serverToClient: { sent: number; delivered: number; lost: number; lostWithResync: number; duplicated: number; outOfOrder: number };
  clientToServer: {
    accepted: number;
    arrived: number;
    lost: number;
    duplicated: number;
    duplicatesAllowedByResync: number;
    /**
     * Cluster mode: handler runs flagged `redelivered` (a node died or let go before their handler was done), and the
     * repeated runs of emits that have a flagged run (not counted in `duplicated`).
     */
    redelivered: number;
    redeliveredRepeats: number;
    outOfOrder: number;
    /** Per client that lost emits: its state, transport and session at the end, and which numbers are missing. */
    lostBy: { client: string; state: string; transport: string | undefined; sessionId: string | null; missing: string; recent: string[] }[];
  };
  requests: { made: number; resolved: number; rejected: Record<string, number>; unsettled: number };
  resyncs: number;
  resyncReasons: Record<string, number>;
  /** Per resync: the client, its lifecycle events up to it, and what the servers logged about the session it lost. */
  resyncTrails: { client: string; sid: string; recent: string[]; server: string[] }[];
  /** The faults as they ran: ms since the start, what, and which node. */
  timeline: string[];
  unexplainedLostSessions: number;
  transportSwitches: number;
  transportsUsed: Record<TransportName, number>;
  latencyMs: { p50: number; p99: number; max: number };
  server: { heapBeforeMB: number; heapAfterMB: number; sessionsAtEnd: number; warnings: Record<string, number> };
  /** Padded messages sent each way, and the longest padding (bytes). */
  large: { toServer: number; toClient: number; longestToServer: number; longestToClient: number };
  durationMs: number;
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The server process, restartable on the same port. */
class ServerProcess {
  child: ChildProcess | null = null;
  port = 0;
  private readonly waiters = new Map<string, (m: FromChild) => void>();

  constructor(
    private readonly env: Record<string, string>,
    private readonly onUp: (m: Extract<FromChild, { t: 'up' | 'trace' }>) => void,
  ) {}

  async start(): Promise<number> {
    const script = fileURLToPath(new URL('./server-process.ts', import.meta.url));
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (m: FromChild) => {
      if (m.t === 'up' || m.t === 'trace') this.onUp(m);
      else this.waiters.get(m.t)?.(m);
    });
    const ready = (await this.next('ready', 20_000)) as Extract<FromChild, { t: 'ready' }>;
    this.port = ready.port;
    return ready.port;
  }

  next(type: FromChild['t'], timeoutMs = 5000): Promise<FromChild> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server process: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(type, (m) => {
        clearTimeout(timer);
        this.waiters.delete(type);
        resolve(m);
      });
    });
  }

  async stats(): Promise<Extract<FromChild, { t: 'stats' }>> {
    const reply = this.next('stats');
    this.child?.send({ t: 'stats' });
    return (await reply) as Extract<FromChild, { t: 'stats' }>;
  }

  stopTicks(): void {
    this.child?.send({ t: 'stop-ticks' });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** What the verification needs to know of one client at the end of the run. */
export interface ClientSnapshot {
  id: string;
  sessionId: string | null;
  state: string;
  /** Ticks received, per session id, in arrival order. */
  ticks: Record<string, number[]>;
  /** Sessions announced lost by `resync`. */
  lostSessions: string[];
  resyncReasons: string[];
  /** Emits re-sent to a new session after a resync (the old one may have seen them). */
  resent: number;
  /** Emits accepted (numbered 1..accepted). */
  accepted: number;
  /** Requests not settled yet. */
  pending: number;
  switches: number;
  transports: TransportName[];
  /** The client's last lifecycle events (time since start, event, detail), for a client that ends the run short. */
  recent: string[];
  /** Per resync: the session lost and the client's lifecycle events up to it (browser clients do not record them). */
  resyncTrails?: { sid: string; recent: string[] }[];
}

export interface GroupSnapshot {
  clients: ClientSnapshot[];
  latencies: number[];
  requests: { made: number; resolved: number; rejected: Record<string, number> };
}

/** A set of clients (in this process, or in a browser page) that the soak drives and inspects. */
export interface ClientGroup {
  snapshot(): Promise<GroupSnapshot>;
  stopTraffic(): Promise<void>;
  close(): Promise<void>;
}

const MIXES: TransportName[][] = [['websocket', 'sse', 'polling'], ['websocket', 'sse', 'polling'], ['sse', 'polling'], ['polling'], ['websocket']];

/** Node clients (`ws` injected), each emitting a counter every `emitEveryMs` and a request every `requestEveryMs`. */
export async function nodeClients(url: string, count: number, emitEveryMs = 50, requestEveryMs = 400, pad?: Padder): Promise<ClientGroup> {
  const EventSource = await loadEventSourcePolyfill();
  const latencies: number[] = [];
  const requests = { made: 0, resolved: 0, rejected: {} as Record<string, number> };
  const all = Array.from({ length: count }, (_, i) => {
    const snap: ClientSnapshot = { id: `c${i}`, sessionId: null, state: 'idle', ticks: {}, lostSessions: [], resyncReasons: [], resent: 0, accepted: 0, pending: 0, switches: 0, transports: [], recent: [], resyncTrails: [] };
    const client = new RealtimeClient<{ tick: { n: number; t: number; pad?: string } }, { up: { c: string; n: number; pad?: string | undefined } }>(url, {
      transports: MIXES[i % MIXES.length]!,
      WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
      EventSource,
      storage: null,
      openTimeoutMs: { websocket: 1500, sse: 1500, polling: 3000 },
      backoff: { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.5 },
      retriesPerTransport: 2,
      upgradeProbeMs: 1000,
      maxQueuedMessages: 100_000,
      maxQueuedBytes: 64 * 1024 * 1024,
    });
    client.on('tick', ({ n, t }) => {
      latencies.push(Date.now() - t);
      (snap.ticks[client.sessionId!] ??= []).push(n);
    });
    const started = Date.now();
    const note = (what: string, detail: unknown): void => {
      snap.recent.push(`${Date.now() - started} ${what} ${JSON.stringify(detail)}`);
      if (snap.recent.length > 12) snap.recent.shift();
    };
    for (const what of ['state', 'transportFailed', 'reconnecting', 'fallback', 'resync', 'close'] as const) client.lifecycle.on(what, (e: unknown) => note(what, e));
    client.lifecycle.on('error', (e) => note('error', { code: e.code, message: e.message }));
    client.lifecycle.on('transport', (e) => {
      snap.transports.push(e.transport);
      if (e.previous !== null) snap.switches++;
    });
    // The soak's faults make whole walks fail (transport_failed): expected, and heard here, not printed.
    client.lifecycle.on('error', () => {});
    client.lifecycle.on('resync', (e) => {
      snap.lostSessions.push(e.previousSessionId);
      snap.resyncReasons.push(e.reason);
      snap.resent += e.resent;
      snap.resyncTrails!.push({ sid: e.previousSessionId, recent: [...snap.recent] });
    });
    return { snap, client };
  });
  const traffic = setInterval(() => {
    for (const { snap, client } of all) {
      try {
        client.emit('up', { c: snap.id, n: snap.accepted + 1, pad: pad?.next() });
        snap.accepted++;
      } catch (error) {
        // A refused emit was never accepted, so the counter does not advance: nothing accepted is lost.
        if (!(error instanceof RealtimeError)) throw error;
      }
    }
  }, emitEveryMs);
  const asking = setInterval(() => {
    for (const { snap, client } of all) {
      requests.made++;
      snap.pending++;
      client
        .request('echo', { c: snap.id }, { timeout: 4000 })
        .then(
          () => void requests.resolved++,
          (e: RealtimeError) => void (requests.rejected[e.code] = (requests.rejected[e.code] ?? 0) + 1),
        )
        .finally(() => snap.pending--);
    }
  }, requestEveryMs);
  return {
    async snapshot() {
      for (const { snap, client } of all) {
        snap.sessionId = client.sessionId;
        snap.state = client.state;
      }
      return { clients: all.map((c) => c.snap), latencies, requests };
    },
    async stopTraffic() {
      clearInterval(traffic);
      clearInterval(asking);
    },
    async close() {
      clearInterval(traffic);
      clearInterval(asking);
      for (const { client } of all) client.close();
    },
  };
}

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const random = seeded(options.seed);
  const started = Date.now();
  const upByClient = new Map<string, { sid: string; n: number; redelivered: boolean; at: number }[]>();
  const traces = new Map<string, string[]>();
  const onUp = (m: Extract<FromChild, { t: 'up' | 'trace' }>): void => {
    if (m.t === 'trace') {
      const list = traces.get(m.sid) ?? [];
      list.push(`${m.at - started} ${m.node} ${m.message}${m.why ? ` (${m.why})` : ''}`);
      traces.set(m.sid, list);
      return;
    }
    let list = upByClient.get(m.c);
    if (!list) upByClient.set(m.c, (list = []));
    list.push({ sid: m.sid, n: m.n, redelivered: m.redelivered, at: m.at });
  };
  const maxMessageBytes = options.maxMessageBytes ?? 256 * 1024;
  const largeShare = options.largeShare ?? 0.01;
  const env = {
    SOAK_TICK_MS: String(options.tickMs ?? 20),
    SOAK_HEARTBEAT_MS: '1000',
    SOAK_GRACE_MS: '20000',
    SOAK_MAX_MESSAGE_BYTES: String(maxMessageBytes),
    SOAK_BIG_SHARE: String(largeShare),
    SOAK_SEED: String(options.seed),
  };
  const clientPad = padder(seeded(options.seed ^ 0x5eed), maxMessageBytes, largeShare);
  const cluster = (options.nodes ?? 0) > 0;
  // Single: `server` is the server. Cluster: the nodes sit behind `balancer`, and `server` is the publisher (ticks,
  // stats), which no fault touches.
  let redis: RedisServer | undefined;
  let balancer: RoundRobinProxy | undefined;
  const nodes: ServerProcess[] = [];
  let server: ServerProcess;
  let target: number;
  if (cluster) {
    redis = await startRedisServer();
    const shared = { ...env, REDIS_URL: redis.url };
    for (let i = 0; i < options.nodes!; i++) {
      const node = new ServerProcess({ ...shared, SOAK_ROLE: 'node', SOAK_NODE: `n${i}` }, onUp);
      await node.start();
      nodes.push(node);
    }
    server = new ServerProcess({ ...shared, SOAK_ROLE: 'publisher' }, onUp);
    await server.start();
    balancer = await startRoundRobinProxy(() => nodes.map((n) => n.port));
    target = balancer.port;
  } else {
    server = new ServerProcess(env, onUp);
    target = await server.start();
  }
  const heapBefore = (await server.stats()).heapUsed;
  const proxy = new FaultProxy({ host: '127.0.0.1', port: target }, random);
  const proxyPort = await proxy.listen();
  const url = `http://127.0.0.1:${proxyPort}/realtime`;
  const groups: ClientGroup[] = [];
  if (options.clients > 0) groups.push(await nodeClients(url, options.clients, options.emitEveryMs, options.requestEveryMs, clientPad));
  if (options.browser) groups.push(await options.browser(url));

  // The fault schedule.
  const faults: Record<string, number> = {};
  const timeline: string[] = [];
  const count = (name: string): void => void (faults[name] = (faults[name] ?? 0) + 1);
  let restarts = 0;
  const hold = async (partial: Parameters<FaultProxy['set']>[0], off: Parameters<FaultProxy['set']>[0], ms: number): Promise<void> => {
    proxy.set(partial);
    await sleep(ms);
    proxy.set(off);
  };
  /** Each fault: its name, its weight in the random schedule, and what it does for `span` ms. */
  const kinds: { name: string; weight: number; restart?: boolean; run(span: number): Promise<void> }[] = [
    { name: 'tcp reset (all connections)', weight: 3, run: async () => void proxy.resetAll() },
    { name: 'WebSocket upgrades refused', weight: 1, run: (span) => hold({ refuseUpgrades: true }, { refuseUpgrades: false }, span) },
    { name: 'WebSocket upgrades hung', weight: 1, run: (span) => hold({ hangUpgrades: true }, { hangUpgrades: false }, span) },
    {
      name: 'SSE buffered (after a reset)',
      weight: 1,
      run: async (span) => {
        proxy.set({ bufferSse: true });
        proxy.resetAll();
        await sleep(span);
        proxy.set({ bufferSse: false });
      },
    },
    { name: 'poll responses delayed', weight: 1, run: (span) => hold({ pollDelayMs: 200 + Math.floor(random() * 800) }, { pollDelayMs: 0 }, span) },
    { name: 'poll responses dropped (50%)', weight: 1, run: (span) => hold({ pollDropRate: 0.5 }, { pollDropRate: 0 }, span) },
    // Longer than other faults: what the server buffers for a slow reader must have time to pile up.
    { name: 'slow readers (32 KB/s each)', weight: 1, run: (span) => hold({ throttleBytesPerSec: 32 * 1024 }, { throttleBytesPerSec: 0 }, 3 * span) },
    {
      name: 'outage (server up, unreachable; sessions kept)',
      weight: 1.2,
      run: async (span) => {
        proxy.set({ down: true });
        proxy.resetAll();
        await sleep(span);
        proxy.set({ down: false });
      },
    },
    cluster
      ? {
          name: 'node killed (SIGKILL) and restarted (sessions kept)',
          weight: 0.8,
          restart: true,
          run: async () => {
            restarts++;
            const index = Math.floor(random() * nodes.length);
            const node = nodes[index]!;
            await node.kill();
            timeline.push(`${Date.now() - started} n${index} killed`);
            await sleep(200);
            await node.start();
            timeline.push(`${Date.now() - started} n${index} up again`);
          },
        }
      : {
          name: 'server process restarted (sessions lost)',
          weight: 0.8,
          restart: true,
          run: async () => {
            restarts++;
            proxy.set({ down: true });
            await server.kill();
            proxy.resetAll();
            await server.start();
            proxy.set({ down: false });
          },
        },
  ];
  const pick = (): (typeof kinds)[number] => {
    const usable = kinds.filter((k) => !k.restart || restarts < options.maxRestarts);
    let r = random() * usable.reduce((sum, k) => sum + k.weight, 0);
    for (const k of usable) if ((r -= k.weight) < 0) return k;
    return usable[0]!;
  };
  // Every kind once (in seeded order) so each run covers them all, then a seeded random schedule.
  const firstRound = kinds.filter((k) => !k.restart || options.maxRestarts > 0).sort(() => random() - 0.5);
  const end = Date.now() + options.durationMs;
  await sleep(300);
  while (Date.now() < end || firstRound.length > 0) {
    const kind = firstRound.shift() ?? pick();
    count(kind.name);
    timeline.push(`${Date.now() - started} ${kind.name}`);
    await kind.run(300 + Math.floor(random() * 1200));
    await sleep(100 + Math.floor(random() * 400));
  }
  proxy.clear();
  for (const g of groups) await g.stopTraffic();
  log(`faults done after ${Date.now() - started} ms; quiescing`);

  // Quiesce: ticks stop, then everything sent must arrive and every request settle.
  server.stopTicks();
  const deadline = Date.now() + 30_000;
  let stats = await server.stats();
  let snaps: GroupSnapshot[] = [];
  // Emits still on their way are waited for: a frame a killed node left unfinished runs once its session is restored.
  for (;;) {
    snaps = await Promise.all(groups.map((g) => g.snapshot()));
    const clients = snaps.flatMap((g) => g.clients);
    const missing = (c: (typeof clients)[number]): number => c.accepted - new Set((upByClient.get(c.id) ?? []).map((u) => u.n)).size;
    const settledElse = clients.every((c) => {
      const ticks = c.sessionId ? (c.ticks[c.sessionId] ?? []) : [];
      // Single: ticks 1..sent of this session. Cluster: the publisher's counter, up to its last value.
      const caughtUp = cluster ? (ticks.at(-1) ?? 0) >= (stats.sent.everyone ?? 0) : ticks.length >= (stats.sent[c.sessionId ?? ''] ?? 0);
      return c.state === 'open' && caughtUp && c.pending === 0;
    });
    const allArrived = clients.every((c) => missing(c) <= 0);
    if ((settledElse && allArrived) || Date.now() > deadline) break;
    await sleep(200);
    stats = await server.stats();
  }
  const report = verify(snaps, upByClient, stats, cluster);
  report.faults = faults;
  report.timeline = timeline;
  for (const c of snaps.flatMap((g) => g.clients)) {
    for (const t of c.resyncTrails ?? []) report.resyncTrails.push({ client: c.id, sid: t.sid, recent: t.recent, server: traces.get(t.sid) ?? [] });
  }
  report.proxy = { ...proxy.counters };
  report.server.heapBeforeMB = heapBefore / 2 ** 20;
  report.large = { toServer: clientPad.padded, longestToServer: clientPad.longest, toClient: stats.padded, longestToClient: stats.longestPad };
  for (const g of groups) await g.close();
  await proxy.close();
  await balancer?.close();
  await Promise.all(nodes.map((n) => n.kill()));
  await server.kill();
  await redis?.stop();
  report.durationMs = Date.now() - started;
  return report;
}

/** Checks both directions, client by client, and sums the figures. */
function verify(snaps: GroupSnapshot[], upByClient: Map<string, { sid: string; n: number; redelivered: boolean; at: number }[]>, stats: Extract<FromChild, { t: 'stats' }>, cluster: boolean): SoakReport {
  const clients = snaps.flatMap((g) => g.clients);
  const requests = { made: 0, resolved: 0, rejected: {} as Record<string, number> };
  for (const g of snaps) {
    requests.made += g.requests.made;
    requests.resolved += g.requests.resolved;
    for (const [code, n] of Object.entries(g.requests.rejected)) requests.rejected[code] = (requests.rejected[code] ?? 0) + n;
  }
  const transportsUsed: Record<TransportName, number> = { websocket: 0, sse: 0, polling: 0 };
  const resyncReasons: Record<string, number> = {};
  for (const c of clients) {
    for (const t of c.transports) transportsUsed[t]++;
    for (const r of c.resyncReasons) resyncReasons[r] = (resyncReasons[r] ?? 0) + 1;
  }
  const report: SoakReport = {
    faults: {},
    proxy: null,
    serverToClient: { sent: 0, delivered: 0, lost: 0, lostWithResync: 0, duplicated: 0, outOfOrder: 0 },
    clientToServer: { accepted: 0, arrived: 0, lost: 0, duplicated: 0, duplicatesAllowedByResync: 0, redelivered: 0, redeliveredRepeats: 0, outOfOrder: 0, lostBy: [] },
    requests: { ...requests, unsettled: clients.reduce((n, c) => n + c.pending, 0) },
    resyncs: clients.reduce((n, c) => n + c.lostSessions.length, 0),
    resyncReasons,
    resyncTrails: [],
    timeline: [],
    unexplainedLostSessions: 0,
    transportSwitches: clients.reduce((n, c) => n + c.switches, 0),
    transportsUsed,
    latencyMs: { p50: 0, p99: 0, max: 0 },
    server: { heapBeforeMB: 0, heapAfterMB: stats.heapUsed / 2 ** 20, sessionsAtEnd: stats.sessions, warnings: stats.warnings },
    large: { toServer: 0, toClient: 0, longestToServer: 0, longestToClient: 0 },
    durationMs: 0,
  };
  for (const c of clients) {
    if (cluster) verifyPublished(c, stats.sent.everyone ?? 0, report);
    for (const [sid, got] of Object.entries(cluster ? {} : c.ticks)) {
      report.serverToClient.delivered += got.length;
      const seen = new Set<number>();
      got.forEach((n, i) => {
        if (seen.has(n)) report.serverToClient.duplicated++;
        else if (n !== i + 1) report.serverToClient.outOfOrder++;
        seen.add(n);
      });
      const sent = stats.sent[sid];
      if (sent !== undefined) {
        report.serverToClient.sent += sent;
        report.serverToClient.lost += Math.max(0, sent - seen.size);
      } else if (c.lostSessions.includes(sid)) {
        report.serverToClient.lostWithResync++;
      } else if (sid !== c.sessionId) {
        report.unexplainedLostSessions++;
      }
    }
    // In the order the handlers ran (stable for ties): nodes' reports reach this process in any order.
    const ups = (upByClient.get(c.id) ?? []).sort((a, b) => a.at - b.at);
    report.clientToServer.accepted += c.accepted;
    report.clientToServer.duplicatesAllowedByResync += c.resent;
    const seen = new Set<number>();
    const lastBySession = new Map<string, number>();
    // A run flagged `redelivered` may repeat one on a node that died or let the session go (the app can tell): an emit
    // with a flagged run counts its other runs as redelivered repeats, never as duplicates. Order is that of each
    // emit's first run: an old holder's late run of a frame its successor already ran, flagged, in order, is a repeat.
    const flaggedN = new Set(ups.filter((u) => u.redelivered).map((u) => u.n));
    for (const u of ups) {
      if (u.redelivered) report.clientToServer.redelivered++;
      if (seen.has(u.n) && flaggedN.has(u.n)) {
        report.clientToServer.redeliveredRepeats++;
        continue;
      }
      if (seen.has(u.n)) report.clientToServer.duplicated++;
      seen.add(u.n);
      if (u.n <= (lastBySession.get(u.sid) ?? 0)) report.clientToServer.outOfOrder++;
      lastBySession.set(u.sid, u.n);
    }
    report.clientToServer.arrived += seen.size;
    const missing: number[] = [];
    for (let n = 1; n <= c.accepted; n++) if (!seen.has(n)) missing.push(n);
    report.clientToServer.lost += missing.length;
    if (missing.length > 0) {
      const shown = missing.length > 6 ? `${missing.slice(0, 3).join(', ')} … ${missing.slice(-3).join(', ')}` : missing.join(', ');
      report.clientToServer.lostBy.push({ client: c.id, state: c.state, transport: c.transports.at(-1), sessionId: c.sessionId, missing: `${missing.length}: ${shown}`, recent: c.recent ?? [] });
    }
  }
  const latencies = snaps.flatMap((g) => g.latencies).sort((a, b) => a - b);
  report.latencyMs = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 };
  return report;
}

/**
 * Cluster mode: the publisher's counter, heard by every session from its first value on: consecutive, once each, up
 * to the last one published (the quiesce waited for it). A session that was replaced must have been announced.
 */
function verifyPublished(c: ClientSnapshot, published: number, report: SoakReport): void {
  for (const [sid, got] of Object.entries(c.ticks)) {
    const s = report.serverToClient;
    s.delivered += got.length;
    got.forEach((n, i) => {
      const before = got[i - 1];
      if (before === undefined || n === before + 1) return;
      if (n === before) s.duplicated++;
      else if (n < before) s.outOfOrder++;
      else s.lost += n - before - 1;
    });
    if (sid === c.sessionId) {
      s.sent += published - (got[0] ?? published + 1) + 1;
      s.lost += Math.max(0, published - (got.at(-1) ?? 0));
    } else if (c.lostSessions.includes(sid)) s.lostWithResync++;
    else report.unexplainedLostSessions++;
  }
}

/** The figures as a short text table. */
export function formatReport(r: SoakReport): string {
  const lines = [
    `duration ${(r.durationMs / 1000).toFixed(1)} s`,
    `faults: ${Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join('; ')}`,
    `proxy: ${JSON.stringify(r.proxy)}`,
    `server→client: sent ${r.serverToClient.sent} (live sessions), delivered ${r.serverToClient.delivered}, lost ${r.serverToClient.lost}, duplicated ${r.serverToClient.duplicated}, out of order ${r.serverToClient.outOfOrder}, sessions lost with resync ${r.serverToClient.lostWithResync}`,
    `client→server: accepted ${r.clientToServer.accepted}, arrived ${r.clientToServer.arrived}, lost ${r.clientToServer.lost}, redelivered ${r.clientToServer.redelivered} (repeating a run: ${r.clientToServer.redeliveredRepeats}), duplicated ${r.clientToServer.duplicated} (allowed by resync re-sends: ${r.clientToServer.duplicatesAllowedByResync}), out of order ${r.clientToServer.outOfOrder}`,
    ...r.clientToServer.lostBy.map((l) => `  lost by ${l.client} (${l.state} on ${l.transport ?? 'nothing'}, session ${l.sessionId}): ${l.missing}\n    ${l.recent.join('\n    ')}`),
    `requests: made ${r.requests.made}, resolved ${r.requests.resolved}, rejected ${JSON.stringify(r.requests.rejected)}, unsettled ${r.requests.unsettled}`,
    ...r.resyncTrails.map((t) => `  resync of ${t.client} (lost ${t.sid})\n    client: ${t.recent.join('\n            ')}\n    servers: ${t.server.join('\n             ')}`),
    ...(r.resyncTrails.length > 0 || r.clientToServer.lostBy.length > 0 ? [`fault timeline: ${r.timeline.join('; ')}`] : []),
    `resyncs ${r.resyncs} ${JSON.stringify(r.resyncReasons)}, unexplained lost sessions ${r.unexplainedLostSessions}, transport switches ${r.transportSwitches}, transports used ${JSON.stringify(r.transportsUsed)}`,
    `large messages: ${r.large.toServer} to the server (longest padding ${r.large.longestToServer} B), ${r.large.toClient} from the server (longest ${r.large.longestToClient} B)`,
    `server warnings: ${JSON.stringify(r.server.warnings)}`,
    `delivery latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    `server heap ${r.server.heapBeforeMB.toFixed(1)} MB before, ${r.server.heapAfterMB.toFixed(1)} MB after; sessions at end ${r.server.sessionsAtEnd}`,
  ];
  return lines.join('\n');
}
