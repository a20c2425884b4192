/**
 * The soak's one verdict, used by `npm run soak` and the in-suite soaks alike: every problem of a run, in words; none
 * means it passed. No allowances: a repeat is excused only when a node kill explains it (verify.ts `killedMidRun`).
 */
import type { SoakMode, SoakReport } from './types';

/** Why a request may fail under the soak's faults: it timed out, or its session died with its server (single mode). */
const EXPECTED_REJECTIONS = new Set(['timeout', 'server_error']);

export function soakProblems(r: SoakReport, mode: SoakMode): string[] {
  const problems: string[] = [];
  const count = (n: number, what: string): void => void (n > 0 && problems.push(`${n} ${what}`));
  count(r.serverToClient.lost, 'server→client messages lost');
  count(r.serverToClient.duplicated, 'server→client messages duplicated');
  count(r.serverToClient.outOfOrder, 'server→client messages out of order');
  count(r.unexplainedLostSessions, 'sessions lost without a resync');
  count(r.clientToServer.lost, 'client→server emits lost');
  count(r.clientToServer.outOfOrder, 'client→server emits out of order');
  count(r.clientToServer.runTwice, 'client→server emits whose handler ran twice (no node kill explains it)');
  // Redis is never restarted and node kills keep sessions: in cluster mode nothing justifies a resync.
  if (mode === 'cluster') count(r.resyncs, `resyncs in cluster mode ${JSON.stringify(r.resyncReasons)}`);
  count(r.requests.unsettled, 'requests never settled');
  for (const [code, n] of Object.entries(r.requests.rejected)) if (!EXPECTED_REJECTIONS.has(code)) count(n, `requests rejected with ${code}`);
  return problems;
}
