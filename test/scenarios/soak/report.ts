/** The soak's report as text: the figures, the verdict, and for a failing run where to look; and a table of runs. */
import type { SoakReport } from './types';
import { soakProblems } from './verdict';

export type { SoakReport } from './types';

/** The figures as a short text table; a failing run adds its problems and the first client that went wrong. */
export function formatReport(r: SoakReport): string {
  const problems = soakProblems(r, r.mode);
  const c2s = r.clientToServer;
  const lines = [
    `seed ${r.seed} (${r.mode}), duration ${(r.durationMs / 1000).toFixed(1)} s, server processes killed ${r.kills}`,
    `faults: ${Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join('; ')}`,
    `proxy: ${JSON.stringify(r.proxy)}`,
    `server→client: sent ${r.serverToClient.sent} (live sessions), delivered ${r.serverToClient.delivered}, lost ${r.serverToClient.lost}, duplicated ${r.serverToClient.duplicated}, out of order ${r.serverToClient.outOfOrder}, sessions lost with resync ${r.serverToClient.lostWithResync}`,
    `client→server: accepted ${c2s.accepted}, arrived ${c2s.arrived}, lost ${c2s.lost}, out of order ${c2s.outOfOrder}, ran twice ${c2s.runTwice}; ` +
      `re-run after its node was killed mid-run (flagged, earlier run ≤ 250 ms before the kill; without Redis, re-sent after the resync) ${c2s.rerunAfterKill}${c2s.rerunAfterKill > 0 ? ` (the earliest ${c2s.rerunAfterKillMaxGapMs} ms before it)` : ''}; ` +
      `flagged redelivered ${c2s.redelivered} (${c2s.redeliveredFirstRuns} of them first runs); re-sent after resyncs ${c2s.resentAfterResync}`,
    `requests: made ${r.requests.made}, resolved ${r.requests.resolved}, rejected ${JSON.stringify(r.requests.rejected)}, unsettled ${r.requests.unsettled}`,
    `resyncs ${r.resyncs} ${JSON.stringify(r.resyncReasons)}, unexplained lost sessions ${r.unexplainedLostSessions}, transport switches ${r.transportSwitches}, transports used ${JSON.stringify(r.transportsUsed)}`,
    `large messages: ${r.large.toServer} to the server (longest padding ${r.large.longestToServer} B), ${r.large.toClient} from the server (longest ${r.large.longestToClient} B)`,
    `server warnings: ${JSON.stringify(r.server.warnings)}`,
    `delivery latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    `server heap ${r.server.heapBeforeMB.toFixed(1)} MB before, ${r.server.heapAfterMB.toFixed(1)} MB after; sessions at end ${r.server.sessionsAtEnd}`,
  ];
  if (problems.length === 0) return [...lines, `seed ${r.seed}: PASS`].join('\n');
  return [...lines, `seed ${r.seed}: FAIL`, ...problems.map((p) => `  problem: ${p}`), ...r.firstWrong].join('\n');
}

/** One line per run: what the verdict looks at, and PASS or FAIL with the first problem. */
export function formatSummary(runs: SoakReport[]): string {
  const head = ['seed', 'kills', 'resyncs', 'ran twice', 're-run after kill', 'lost s→c', 'lost c→s', 'out of order s→c', 'out of order c→s', 'duplicated s→c', 'verdict'];
  const rows = runs.map((r) => {
    const problems = soakProblems(r, r.mode);
    return [
      String(r.seed),
      String(r.kills),
      String(r.resyncs),
      String(r.clientToServer.runTwice),
      String(r.clientToServer.rerunAfterKill),
      String(r.serverToClient.lost),
      String(r.clientToServer.lost),
      String(r.serverToClient.outOfOrder),
      String(r.clientToServer.outOfOrder),
      String(r.serverToClient.duplicated),
      problems.length === 0 ? 'PASS' : `FAIL: ${problems[0]}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (i === head.length - 1 ? 0 : row[i]!.length))));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padStart(widths[i]!))).join(' | ');
  return [line(head), ...rows.map(line)].join('\n');
}
