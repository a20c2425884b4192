/**
 * The fault-injection soak: real clients ↔ fault proxy ↔ the reference server in its own process (or, in cluster
 * mode, nodes on a real redis-server behind a round-robin balancer). The server streams a counter to every session,
 * every client emits its own counter and makes requests, and a seeded schedule of faults runs meanwhile. At the end
 * verify.ts checks that every number arrived once and in order in both directions; verdict.ts judges the report.
 */
import { startRoundRobinProxy, type RoundRobinProxy } from '../../../demo/round-robin-proxy.mjs';
import { startRedisServer, type RedisServer } from '../redis/redis-server';
import { seededRandom as seeded } from '../../support/seeded-random';
import { FaultProxy } from './fault-proxy';
import { monotonicUs, runFaults, sleep } from './faults';
import { nodeClients } from './node-clients';
import { padder } from './padding';
import { ServerProcess, type Report } from './server-handle';
import type { ClientGroup, GroupSnapshot, SoakOptions, SoakReport, UpRun } from './types';
import { verify } from './verify';
import { whereToLook } from './where-to-look';

export { formatReport, formatSummary } from './report';
export { soakProblems } from './verdict';
export { nodeClients } from './node-clients';
export type { ClientGroup, ClientSnapshot, GroupSnapshot, SoakMode, SoakOptions, SoakReport } from './types';

/** How long the quiesce waits for everything sent to arrive and every request to settle. */
const QUIESCE_MS = 30_000;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const random = seeded(options.seed);
  const started = Date.now();
  const startedUs = monotonicUs();
  const msOf = (atUs: number): number => Math.round((atUs - startedUs) / 1000);
  const upByClient = new Map<string, UpRun[]>();
  const traces = new Map<string, string[]>();
  const onReport = (m: Report): void => {
    if (m.t === 'trace') {
      const list = traces.get(m.sid) ?? [];
      list.push(`${m.at - started} ${m.node} ${m.message}${m.why ? ` (${m.why})` : ''}`);
      traces.set(m.sid, list);
      return;
    }
    let list = upByClient.get(m.c);
    if (!list) upByClient.set(m.c, (list = []));
    list.push({ sid: m.sid, n: m.n, redelivered: m.redelivered, at: m.at, node: m.node });
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
      const node = new ServerProcess({ ...shared, SOAK_ROLE: 'node', SOAK_NODE: `n${i}` }, onReport);
      await node.start();
      nodes.push(node);
    }
    server = new ServerProcess({ ...shared, SOAK_ROLE: 'publisher' }, onReport);
    await server.start();
    balancer = await startRoundRobinProxy(() => nodes.map((n) => n.port));
    target = balancer.port;
  } else {
    server = new ServerProcess(env, onReport);
    target = await server.start();
  }
  const heapBefore = (await server.stats()).heapUsed;
  const proxy = new FaultProxy({ host: '127.0.0.1', port: target }, random);
  const proxyPort = await proxy.listen();
  const url = `http://127.0.0.1:${proxyPort}/realtime`;
  const groups: ClientGroup[] = [];
  if (options.clients > 0) groups.push(await nodeClients(url, options.clients, options.emitEveryMs, options.requestEveryMs, clientPad, started));
  if (options.browser) groups.push(await options.browser(url));

  const run = await runFaults({ proxy, random, nodes, server, maxRestarts: options.maxRestarts, durationMs: options.durationMs, startedAt: started });
  for (const g of groups) await g.stopTraffic();
  log(`faults done after ${Date.now() - started} ms; quiescing`);

  // Quiesce: ticks stop, then everything sent must arrive and every request settle.
  server.stopTicks();
  const deadline = Date.now() + QUIESCE_MS;
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
  const report = verify({ seed: options.seed, mode: cluster ? 'cluster' : 'single', snaps, upByClient, kills: run.kills, stats, msOf });
  report.faults = run.faults;
  report.timeline = run.timeline;
  const clients = snaps.flatMap((g) => g.clients);
  report.firstWrong = whereToLook({ report, clients, upByClient, kills: run.kills, traces, msOf });
  report.proxy = { ...proxy.counters };
  report.server.heapBeforeMB = heapBefore / 2 ** 20;
  report.large = {
    toServer: clientPad.padded,
    longestToServer: clientPad.longest,
    toClient: stats.padded + run.padBeforeRestarts.padded,
    longestToClient: Math.max(stats.longestPad, run.padBeforeRestarts.longest),
  };
  for (const g of groups) await g.close();
  await proxy.close();
  await balancer?.close();
  await Promise.all(nodes.map((n) => n.kill()));
  await server.kill();
  await redis?.stop();
  report.durationMs = Date.now() - started;
  return report;
}
