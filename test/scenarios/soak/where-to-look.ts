/**
 * For a failing run: what the first client that went wrong went through, next to the fault timeline: its lifecycle
 * events, its resyncs, what the servers logged about its sessions, and for the first client whose emits were lost or
 * ran twice, those numbers' runs (which node, when).
 */
import type { ClientSnapshot, NodeKill, SoakReport, UpRun } from './types';

export interface WhereToLookInput {
  report: SoakReport;
  clients: ClientSnapshot[];
  upByClient: Map<string, UpRun[]>;
  kills: NodeKill[];
  /** Server debug lines per session id, already as `ms node message`. */
  traces: Map<string, string[]>;
  msOf: (atUs: number) => number;
}

/** Numbers shown per list: enough to see a pattern, short enough to read. */
const SHOWN = 8;
/** Server lines shown per session: the last ones, nearest to what went wrong. */
const TRACE_LINES = 12;
/** Lifecycle events shown: those up to a second after the client went wrong (the last ones when that time is unknown). */
const EVENTS = 16;
const EVENTS_AFTER_MS = 1000;

/** The client's events around `atMs`: its recent list holds `ms event detail` lines. */
function eventsAround(recent: string[], atMs: number | null): string[] {
  const upTo = atMs === null ? recent : recent.filter((line) => Number(line.slice(0, line.indexOf(' '))) <= atMs + EVENTS_AFTER_MS);
  return upTo.slice(-EVENTS);
}

const indent = (lines: string[], by = '    '): string[] => lines.map((l) => by + l);

export function whereToLook(input: WhereToLookInput): string[] {
  const { report } = input;
  const first = report.wrong[0];
  if (!first) return [];
  const byId = new Map(input.clients.map((c) => [c.id, c]));
  const c = byId.get(first.client)!;
  const lines = [
    `first client that went wrong: ${c.id}${first.atMs === null ? '' : ` at ${first.atMs} ms`}: ${first.what}`,
    `  other clients that went wrong: ${report.wrong.length - 1}`,
    ...report.wrong.slice(1, 1 + SHOWN).map((w) => `    ${w.client}${w.atMs === null ? '' : ` at ${w.atMs} ms`}: ${w.what}`),
    '  fault timeline (ms since the start):',
    ...indent(report.timeline),
    `  ${c.id} at the end: ${c.state} on ${c.transports.at(-1) ?? 'nothing'}, session ${c.sessionId}; its lifecycle events up to ${first.atMs === null ? 'the end' : `${EVENTS_AFTER_MS} ms after it went wrong`} (ms since the start):`,
    ...indent(c.recent ? eventsAround(c.recent, first.atMs) : ['(not recorded for browser clients)']),
  ];
  lines.push(...resyncsAndServers(c, input));
  // Cluster resyncs are what the servers must explain: the first resynced client too, if the first wrong one was not.
  const resynced = report.wrong.map((w) => byId.get(w.client)!).find((w) => w.lostSessions.length > 0);
  if (report.mode === 'cluster' && resynced && resynced !== c) lines.push(`  first client that resynced: ${resynced.id}`, ...resyncsAndServers(resynced, input));
  const emitsWrong = report.wrong.find((w) => /never ran|ran twice/.test(w.what));
  if (emitsWrong) lines.push(...emitRuns(byId.get(emitsWrong.client)!, input));
  return lines;
}

/** A client's resyncs with the events that led to each, and what the servers logged about each of its sessions. */
function resyncsAndServers(c: ClientSnapshot, input: WhereToLookInput): string[] {
  const lines: string[] = [];
  for (const t of c.resyncTrails ?? []) lines.push(`  ${c.id}: resync at ${t.atMs} ms, session ${t.sid} lost; events up to it:`, ...indent(t.recent));
  const sids = new Set([...c.lostSessions, ...Object.keys(c.ticks), ...(input.upByClient.get(c.id) ?? []).map((u) => u.sid)]);
  if (c.sessionId) sids.add(c.sessionId);
  for (const sid of sids) {
    const said = input.traces.get(sid) ?? [];
    lines.push(`  servers on session ${sid} (${c.id}): ${said.length === 0 ? 'nothing logged' : ''}`, ...indent(said.slice(-TRACE_LINES)));
  }
  return lines;
}

/** The lost and repeated numbers of one client, with every run of each: node, ms since the start, flag. */
function emitRuns(c: ClientSnapshot, input: WhereToLookInput): string[] {
  const runs = [...(input.upByClient.get(c.id) ?? [])].sort((a, b) => a.at - b.at);
  const byN = new Map<number, UpRun[]>();
  for (const u of runs) byN.set(u.n, [...(byN.get(u.n) ?? []), u]);
  // Sessions are named only when the client's emits ran in more than one (after a resync).
  const sessions = new Set(runs.map((u) => u.sid)).size;
  const show = (u: UpRun): string => `${u.node} at ${Math.round(input.msOf(u.at))} ms${sessions > 1 ? ` in ${u.sid}` : ''}${u.redelivered ? ' (flagged redelivered)' : ''}`;
  const runsOf = (n: number): string => (byN.get(n) ?? []).map(show).join(', ') || 'never ran';
  const kills = input.kills.map((k) => `${k.node} at ${Math.round(input.msOf(k.at))} ms`).join(', ') || 'none';
  const lines = [`  emits of ${c.id} (accepted 1..${c.accepted}); node kills: ${kills}`];
  const repeated = [...byN].filter(([, r]) => r.length > 1);
  for (const [n, r] of repeated.slice(0, SHOWN)) lines.push(`    ${n} ran ${r.length} times: ${r.map(show).join(', ')}`);
  if (repeated.length > SHOWN) lines.push(`    … ${repeated.length - SHOWN} more numbers ran more than once`);
  const missing: number[] = [];
  for (let n = 1; n <= c.accepted; n++) if (!byN.has(n)) missing.push(n);
  // Missing numbers as ranges, each with the runs of its neighbours: where the gap sits among the nodes and kills.
  const ranges: [number, number][] = [];
  for (const n of missing) {
    const last = ranges.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else ranges.push([n, n]);
  }
  for (const [from, to] of ranges.slice(0, SHOWN)) {
    lines.push(`    never ran: ${from === to ? from : `${from}..${to}`}; ${from - 1} ran on ${runsOf(from - 1)}; ${to + 1} ran on ${to + 1 > c.accepted ? '(not accepted)' : runsOf(to + 1)}`);
  }
  if (ranges.length > SHOWN) lines.push(`    … ${ranges.length - SHOWN} more gaps`);
  return lines;
}
