/**
 * The fault-injection soak: real clients ↔ fault proxy ↔ the reference server in its own process. The server streams
 * a counter to every session, every client emits its own counter and makes requests, and a seeded schedule of faults
 * runs meanwhile. At the end every number must have arrived exactly once and in order in both directions (except
 * where a lost session was announced with `resync`), and every request must have settled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../src/client';
import { RealtimeError } from '../../src/errors';
import type { TransportName } from '../../src/protocol/frames';
import { loadEventSourcePolyfill, type WebSocketConstructor } from '../../src/transports/environment';
import { FaultProxy } from './fault-proxy';
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
  log?: (line: string) => void;
}

export interface SoakReport {
  faults: Record<string, number>;
  serverToClient: { sent: number; delivered: number; lost: number; lostWithResync: number; duplicated: number; outOfOrder: number };
  clientToServer: { accepted: number; arrived: number; lost: number; duplicated: number; duplicatesAllowedByResync: number; outOfOrder: number };
  requests: { made: number; resolved: number; rejected: Record<string, number>; unsettled: number };
  resyncs: number;
  resyncReasons: Record<string, number>;
  unexplainedLostSessions: number;
  transportSwitches: number;
  transportsUsed: Record<TransportName, number>;
  latencyMs: { p50: number; p99: number; max: number };
  server: { heapBeforeMB: number; heapAfterMB: number; sessionsAtEnd: number };
  durationMs: number;
}

/** mulberry32: small, seeded, good enough to make fault schedules repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The server process, restartable on the same port. */
class ServerProcess {
  child: ChildProcess | null = null;
  port = 0;
  private readonly waiters = new Map<string, (m: FromChild) => void>();

  constructor(
    private readonly env: Record<string, string>,
    private readonly onUp: (m: Extract<FromChild, { t: 'up' }>) => void,
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
      if (m.t === 'up') this.onUp(m);
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

interface Tracked {
  id: string;
  client: RealtimeClient<{ tick: { n: number; t: number } }, { up: { c: string; n: number } }>;
  /** Ticks received, per session id, in arrival order. */
  ticks: Map<string, number[]>;
  lostSessions: Set<string>;
  resent: number;
  accepted: number;
  pending: Set<Promise<unknown>>;
}

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const random = seeded(options.seed);
  const started = Date.now();
  const upByClient = new Map<string, { sid: string; n: number }[]>();
  const server = new ServerProcess(
    { SOAK_TICK_MS: String(options.tickMs ?? 20), SOAK_HEARTBEAT_MS: '1000', SOAK_GRACE_MS: '20000' },
    (m) => {
      let list = upByClient.get(m.c);
      if (!list) upByClient.set(m.c, (list = []));
      list.push({ sid: m.sid, n: m.n });
    },
  );
  const serverPort = await server.start();
  const heapBefore = (await server.stats()).heapUsed;
  const proxy = new FaultProxy({ host: '127.0.0.1', port: serverPort }, random);
  const proxyPort = await proxy.listen();
  const EventSource = await loadEventSourcePolyfill();
  const url = `http://127.0.0.1:${proxyPort}/realtime`;
  const latencies: number[] = [];
  const transportsUsed: Record<TransportName, number> = { websocket: 0, sse: 0, polling: 0 };
  let transportSwitches = 0;
  let resyncs = 0;
  const resyncReasons: Record<string, number> = {};
  const requests = { made: 0, resolved: 0, rejected: {} as Record<string, number> };
  const mixes: TransportName[][] = [['websocket', 'sse', 'polling'], ['websocket', 'sse', 'polling'], ['sse', 'polling'], ['polling'], ['websocket']];

  const tracked: Tracked[] = [];
  for (let i = 0; i < options.clients; i++) {
    const t: Tracked = {
      id: `c${i}`,
      client: new RealtimeClient(url, {
        transports: mixes[i % mixes.length]!,
        WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
        EventSource,
        storage: null,
        openTimeoutMs: { websocket: 1500, sse: 1500, polling: 3000 },
        backoff: { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.5 },
        retriesPerTransport: 2,
        upgradeProbeMs: 1000,
        requestTimeoutMs: 4000,
        maxQueuedMessages: 100_000,
        maxQueuedBytes: 64 * 1024 * 1024,
      }),
      ticks: new Map(),
      lostSessions: new Set(),
      resent: 0,
      accepted: 0,
      pending: new Set(),
    };
    t.client.on('tick', ({ n, t: sentAt }) => {
      latencies.push(Date.now() - sentAt);
      const sid = t.client.sessionId!;
      let list = t.ticks.get(sid);
      if (!list) t.ticks.set(sid, (list = []));
      list.push(n);
    });
    t.client.lifecycle.on('transport', (e) => {
      transportsUsed[e.transport]++;
      if (e.previous !== null) transportSwitches++;
    });
    t.client.lifecycle.on('resync', (e) => {
      resyncs++;
      resyncReasons[e.reason] = (resyncReasons[e.reason] ?? 0) + 1;
      t.lostSessions.add(e.previousSessionId);
      t.resent += e.resent;
    });
    tracked.push(t);
  }

  // Traffic from the clients: a counter of emits and a stream of requests.
  const traffic = setInterval(() => {
    for (const t of tracked) {
      try {
        t.client.emit('up', { c: t.id, n: t.accepted + 1 });
        t.accepted++;
      } catch (error) {
        // Refused emits were never accepted, so the counter does not advance: nothing accepted is lost.
        if (!(error instanceof RealtimeError)) throw error;
      }
    }
  }, options.emitEveryMs ?? 50);
  const asking = setInterval(() => {
    for (const t of tracked) {
      requests.made++;
      const p = t.client.request('echo', { c: t.id }, { timeout: 4000 }).then(
        () => void requests.resolved++,
        (e: RealtimeError) => void (requests.rejected[e.code] = (requests.rejected[e.code] ?? 0) + 1),
      );
      t.pending.add(p);
      void p.finally(() => t.pending.delete(p));
    }
  }, options.requestEveryMs ?? 400);

  // The fault schedule.
  const faults: Record<string, number> = {};
  const count = (name: string): void => void (faults[name] = (faults[name] ?? 0) + 1);
  let restarts = 0;
  const hold = async (partial: Parameters<FaultProxy['set']>[0], off: Parameters<FaultProxy['set']>[0], ms: number): Promise<void> => {
    proxy.set(partial);
    await sleep(ms);
    proxy.set(off);
  };
  /** Each fault: its name, its weight in the random schedule, and what it does for `span` ms. */
  const kinds: { name: string; weight: number; run(span: number): Promise<void> }[] = [
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
    {
      name: 'server process restarted (sessions lost)',
      weight: 0.8,
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
    const usable = kinds.filter((k) => !k.name.startsWith('server process') || restarts < options.maxRestarts);
    let r = random() * usable.reduce((sum, k) => sum + k.weight, 0);
    for (const k of usable) if ((r -= k.weight) < 0) return k;
    return usable[0]!;
  };
  // Every kind once (in seeded order) so each run covers them all, then a seeded random schedule.
  const firstRound = kinds.filter((k) => !k.name.startsWith('server process') || options.maxRestarts > 0).sort(() => random() - 0.5);
  const end = Date.now() + options.durationMs;
  await sleep(300);
  while (Date.now() < end || firstRound.length > 0) {
    const kind = firstRound.shift() ?? pick();
    count(kind.name);
    await kind.run(300 + Math.floor(random() * 1200));
    await sleep(100 + Math.floor(random() * 400));
  }
  proxy.clear();
  clearInterval(traffic);
  clearInterval(asking);
  log(`faults done after ${Date.now() - started} ms; quiescing`);

  // Quiesce: ticks stop, then everything sent must arrive.
  server.stopTicks();
  const deadline = Date.now() + 30_000;
  let stats = await server.stats();
  for (;;) {
    const behind = tracked.filter((t) => {
      const sid = t.client.sessionId;
      const gotTicks = sid ? (t.ticks.get(sid)?.length ?? 0) : 0;
      const ups = new Set((upByClient.get(t.id) ?? []).map((u) => u.n));
      return t.client.state !== 'open' || gotTicks < (stats.sent[sid ?? ''] ?? 0) || ups.size < t.accepted || t.pending.size > 0;
    });
    if (behind.length === 0 || Date.now() > deadline) break;
    await sleep(200);
    stats = await server.stats();
  }

  // Verify.
  const report: SoakReport = {
    faults,
    serverToClient: { sent: 0, delivered: 0, lost: 0, lostWithResync: 0, duplicated: 0, outOfOrder: 0 },
    clientToServer: { accepted: 0, arrived: 0, lost: 0, duplicated: 0, duplicatesAllowedByResync: 0, outOfOrder: 0 },
    requests: { ...requests, unsettled: tracked.reduce((n, t) => n + t.pending.size, 0) },
    resyncs,
    resyncReasons,
    unexplainedLostSessions: 0,
    transportSwitches,
    transportsUsed,
    latencyMs: { p50: 0, p99: 0, max: 0 },
    server: { heapBeforeMB: heapBefore / 2 ** 20, heapAfterMB: stats.heapUsed / 2 ** 20, sessionsAtEnd: stats.sessions },
    durationMs: 0,
  };
  for (const t of tracked) {
    for (const [sid, got] of t.ticks) {
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
      } else if (t.lostSessions.has(sid)) {
        report.serverToClient.lostWithResync++;
      } else if (sid !== t.client.sessionId) {
        report.unexplainedLostSessions++;
      }
    }
    const ups = upByClient.get(t.id) ?? [];
    report.clientToServer.accepted += t.accepted;
    report.clientToServer.duplicatesAllowedByResync += t.resent;
    const seen = new Set<number>();
    const lastBySession = new Map<string, number>();
    for (const u of ups) {
      if (seen.has(u.n)) report.clientToServer.duplicated++;
      seen.add(u.n);
      if (u.n <= (lastBySession.get(u.sid) ?? 0)) report.clientToServer.outOfOrder++;
      lastBySession.set(u.sid, u.n);
    }
    report.clientToServer.arrived += seen.size;
    for (let n = 1; n <= t.accepted; n++) if (!seen.has(n)) report.clientToServer.lost++;
  }
  latencies.sort((a, b) => a - b);
  report.latencyMs = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 };

  for (const t of tracked) t.client.close();
  await proxy.close();
  await server.kill();
  report.durationMs = Date.now() - started;
  return report;
}

/** The figures as a short text table. */
export function formatReport(r: SoakReport): string {
  const lines = [
    `duration ${(r.durationMs / 1000).toFixed(1)} s`,
    `faults: ${Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join('; ')}`,
    `server→client: sent ${r.serverToClient.sent} (live sessions), delivered ${r.serverToClient.delivered}, lost ${r.serverToClient.lost}, duplicated ${r.serverToClient.duplicated}, out of order ${r.serverToClient.outOfOrder}, sessions lost with resync ${r.serverToClient.lostWithResync}`,
    `client→server: accepted ${r.clientToServer.accepted}, arrived ${r.clientToServer.arrived}, lost ${r.clientToServer.lost}, duplicated ${r.clientToServer.duplicated} (allowed by resync re-sends: ${r.clientToServer.duplicatesAllowedByResync}), out of order ${r.clientToServer.outOfOrder}`,
    `requests: made ${r.requests.made}, resolved ${r.requests.resolved}, rejected ${JSON.stringify(r.requests.rejected)}, unsettled ${r.requests.unsettled}`,
    `resyncs ${r.resyncs} ${JSON.stringify(r.resyncReasons)}, unexplained lost sessions ${r.unexplainedLostSessions}, transport switches ${r.transportSwitches}, transports used ${JSON.stringify(r.transportsUsed)}`,
    `delivery latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    `server heap ${r.server.heapBeforeMB.toFixed(1)} MB before, ${r.server.heapAfterMB.toFixed(1)} MB after; sessions at end ${r.server.sessionsAtEnd}`,
  ];
  return lines.join('\n');
}
