/**
 * Checks both directions, client by client, and sums the figures. Every number must arrive once and in order; a
 * handler that ran twice is excused only when a SIGKILL explains it (see `killedMidRun`).
 */
import type { TransportName } from '../../../src/protocol/frames';
import type { FromChild } from './server-process';
import type { ClientSnapshot, GroupSnapshot, NodeKill, SoakMode, SoakReport, UpRun, WrongClient } from './types';

/**
 * How long before its node's kill a handler run may be and still be re-run, flagged, by the next node: the time its
 * done mark takes to reach Redis. Measured here: 10 and 11 ms at most in two one-node runs with 1 and 2 such re-runs; the
 * bound leaves room for a loaded machine.
 */
export const KILL_WINDOW_US = 250_000;

export interface VerifyInput {
  seed: number;
  mode: SoakMode;
  snaps: GroupSnapshot[];
  upByClient: Map<string, UpRun[]>;
  kills: NodeKill[];
  stats: Extract<FromChild, { t: 'stats' }>;
  /** Converts a run's `at` (µs, monotonic) to ms since the start. */
  msOf: (atUs: number) => number;
}

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

/**
 * A repeat `later` of `earlier` is the kill's doing when `earlier` ran on a process killed after it, before the run was
 * recorded, and `later` ran after that kill:
 * - with Redis, the next node re-runs it flagged `redelivered`, and only a run at most KILL_WINDOW_US before the kill
 *   (the time a done mark takes to reach Redis) can be caught so;
 * - without (single mode), the killed process's sessions are gone with what they accepted, and the client re-sends
 *   to its new session whatever it had no `ack` for: acks held up by a slow reader widen that window to seconds.
 */
export function killedMidRun(earlier: UpRun, later: UpRun, kills: NodeKill[]): boolean {
  return killGapUs(earlier, later, kills) !== null;
}

/** How long after `earlier` ran its process was killed, when that kill explains the repeat `later` (µs); else null. */
function killGapUs(earlier: UpRun, later: UpRun, kills: NodeKill[]): number | null {
  const resentToNewSession = earlier.node === 'single' && later.sid !== earlier.sid;
  if (!later.redelivered && !resentToNewSession) return null;
  const window = resentToNewSession ? Infinity : KILL_WINDOW_US;
  const gaps = kills.filter((k) => k.node === earlier.node && k.at >= earlier.at && k.at - earlier.at <= window && later.at >= k.at).map((k) => k.at - earlier.at);
  return gaps.length === 0 ? null : Math.min(...gaps);
}

export function verify(input: VerifyInput): SoakReport {
  const { snaps, stats, mode } = input;
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
    seed: input.seed,
    mode,
    faults: {},
    kills: input.kills.length,
    proxy: null,
    serverToClient: { sent: 0, delivered: 0, lost: 0, lostWithResync: 0, duplicated: 0, outOfOrder: 0 },
    clientToServer: { accepted: 0, arrived: 0, lost: 0, runTwice: 0, rerunAfterKill: 0, rerunAfterKillMaxGapMs: 0, redelivered: 0, redeliveredFirstRuns: 0, resentAfterResync: 0, outOfOrder: 0 },
    requests: { ...requests, unsettled: clients.reduce((n, c) => n + c.pending, 0) },
    resyncs: clients.reduce((n, c) => n + c.lostSessions.length, 0),
    resyncReasons,
    unexplainedLostSessions: 0,
    timeline: [],
    wrong: [],
    firstWrong: [],
    transportSwitches: clients.reduce((n, c) => n + c.switches, 0),
    transportsUsed,
    latencyMs: { p50: 0, p99: 0, max: 0 },
    server: { heapBeforeMB: 0, heapAfterMB: stats.heapUsed / 2 ** 20, sessionsAtEnd: stats.sessions, warnings: stats.warnings },
    large: { toServer: 0, toClient: 0, longestToServer: 0, longestToClient: 0 },
    durationMs: 0,
  };
  for (const c of clients) {
    // The first thing that went wrong for this client, of each kind; the earliest is kept.
    const found: WrongClient[] = [];
    const s = report.serverToClient;
    const before = { lost: s.lost, duplicated: s.duplicated, outOfOrder: s.outOfOrder, unexplained: report.unexplainedLostSessions };
    if (mode === 'cluster') verifyPublished(c, stats.sent.everyone ?? 0, report);
    else verifyPerSession(c, stats.sent, report);
    if (s.lost > before.lost || s.duplicated > before.duplicated || s.outOfOrder > before.outOfOrder) {
      const what = `server→client: ${s.lost - before.lost} lost, ${s.duplicated - before.duplicated} duplicated, ${s.outOfOrder - before.outOfOrder} out of order${c.oddTick ? `; first: ${c.oddTick.what}` : ''}`;
      found.push({ client: c.id, what, atMs: c.oddTick?.atMs ?? null });
    }
    if (report.unexplainedLostSessions > before.unexplained) found.push({ client: c.id, what: 'a session it lost was never announced by resync', atMs: null });
    if (mode === 'cluster' && c.lostSessions.length > 0) {
      const trail = c.resyncTrails?.[0];
      found.push({ client: c.id, what: `resync (${c.resyncReasons.join(', ')}), first lost session ${c.lostSessions[0]}`, atMs: trail?.atMs ?? null });
    }
    report.clientToServer.accepted += c.accepted;
    report.clientToServer.resentAfterResync += c.resent;
    verifyEmits(c, input.upByClient.get(c.id) ?? [], input, report, found);
    found.sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity));
    if (found.length > 0) report.wrong.push({ ...found[0]!, what: found.map((f) => f.what).join('; ') });
  }
  report.wrong.sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity));
  const latencies = snaps.flatMap((g) => g.latencies).sort((a, b) => a - b);
  report.latencyMs = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 };
  return report;
}

/**
 * Client → server, in the order the handlers ran (nodes' reports reach this process in any order): each number once
 * (a repeat is a problem unless a node kill explains it), first runs in order within a session, none missing.
 */
function verifyEmits(c: ClientSnapshot, runs: UpRun[], input: VerifyInput, report: SoakReport, found: WrongClient[]): void {
  const s = report.clientToServer;
  const ups = [...runs].sort((a, b) => a.at - b.at);
  /** Each number's latest run (a repeat is judged against the run before it) and its first run. */
  const byN = new Map<number, UpRun>();
  const firstRuns = new Map<number, UpRun>();
  const lastBySession = new Map<string, number>();
  let firstRepeat: UpRun | undefined;
  let firstOutOfOrder: UpRun | undefined;
  for (const u of ups) {
    if (u.redelivered) s.redelivered++;
    const earlier = byN.get(u.n);
    byN.set(u.n, u);
    if (earlier) {
      const gap = killGapUs(earlier, u, input.kills);
      if (gap !== null) {
        s.rerunAfterKill++;
        s.rerunAfterKillMaxGapMs = Math.max(s.rerunAfterKillMaxGapMs, Math.ceil(gap / 1000));
      } else {
        s.runTwice++;
        firstRepeat ??= u;
      }
      continue;
    }
    firstRuns.set(u.n, u);
    if (u.redelivered) s.redeliveredFirstRuns++;
    if (u.n <= (lastBySession.get(u.sid) ?? 0)) {
      s.outOfOrder++;
      firstOutOfOrder ??= u;
    }
    lastBySession.set(u.sid, u.n);
  }
  s.arrived += byN.size;
  const missing: number[] = [];
  for (let n = 1; n <= c.accepted; n++) if (!byN.has(n)) missing.push(n);
  s.lost += missing.length;
  if (firstRepeat) found.push({ client: c.id, what: `emit ${firstRepeat.n} ran twice`, atMs: input.msOf(firstRepeat.at) });
  if (firstOutOfOrder) found.push({ client: c.id, what: `emit ${firstOutOfOrder.n} ran out of order`, atMs: input.msOf(firstOutOfOrder.at) });
  if (missing.length > 0) {
    // When it went wrong: the run of the number just before the first missing one (none ran: unknown).
    const before = firstRuns.get(missing[0]! - 1);
    found.push({ client: c.id, what: `${missing.length} emits never ran (first ${missing[0]})`, atMs: before ? input.msOf(before.at) : null });
  }
}

/** Single mode: each session's own counter, 1..sent; a session that died must have been announced by `resync`. */
function verifyPerSession(c: ClientSnapshot, sent: Record<string, number>, report: SoakReport): void {
  for (const [sid, got] of Object.entries(c.ticks)) {
    report.serverToClient.delivered += got.length;
    const seen = new Set<number>();
    got.forEach((n, i) => {
      if (seen.has(n)) report.serverToClient.duplicated++;
      else if (n !== i + 1) report.serverToClient.outOfOrder++;
      seen.add(n);
    });
    const count = sent[sid];
    if (count !== undefined) {
      report.serverToClient.sent += count;
      report.serverToClient.lost += Math.max(0, count - seen.size);
    } else if (c.lostSessions.includes(sid)) {
      report.serverToClient.lostWithResync++;
    } else if (sid !== c.sessionId) {
      report.unexplainedLostSessions++;
    }
  }
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
