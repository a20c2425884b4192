/**
 * The soak's verdict on made-up runs (no processes): a repeated handler run passes only when a node kill explains
 * it, cluster mode allows no resync, and a failing run says where to look.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, formatSummary } from './report';
import type { ClientSnapshot, NodeKill, SoakMode, UpRun } from './types';
import { soakProblems } from './verdict';
import { verify } from './verify';
import { whereToLook } from './where-to-look';

const ms = (n: number): number => n * 1000;
const client = (over: Partial<ClientSnapshot> = {}): ClientSnapshot => ({
  id: 'c0',
  sessionId: 's1',
  state: 'open',
  ticks: { s1: [1, 2, 3] },
  lostSessions: [],
  resyncReasons: [],
  resent: 0,
  accepted: 3,
  pending: 0,
  switches: 0,
  transports: ['websocket'],
  recent: ['10 state {"state":"open"}'],
  ...over,
});
const run = (n: number, node: string, atMs: number, redelivered = false): UpRun => ({ sid: 's1', n, node, at: ms(atMs), redelivered });

function judge(runs: UpRun[], kills: NodeKill[], mode: SoakMode = 'cluster', c = client(), rejected: Record<string, number> = {}) {
  const report = verify({
    seed: 7,
    mode,
    snaps: [{ clients: [c], latencies: [], requests: { made: 1, resolved: 1, rejected } }],
    upByClient: new Map([[c.id, runs]]),
    kills,
    stats: { t: 'stats', sent: mode === 'cluster' ? { everyone: 3 } : { s1: 3 }, sessions: 1, heapUsed: 0, rss: 0, padded: 0, longestPad: 0, warnings: {} },
    msOf: (us) => us / 1000,
  });
  return { report, problems: soakProblems(report, mode) };
}

describe('soak verdict', () => {
  it('passes each number run once, in order', () => {
    const { report, problems } = judge([run(1, 'n0', 100), run(2, 'n1', 150), run(3, 'n2', 200)], []);
    expect(problems).toEqual([]);
    expect(report.wrong).toEqual([]);
    expect(formatReport(report)).not.toContain('first client that went wrong');
  });

  it('excuses a flagged re-run whose earlier run was on the node killed within 250 ms after it', () => {
    const { report, problems } = judge([run(1, 'n0', 100), run(2, 'n1', 150), run(2, 'n0', 900, true), run(3, 'n0', 950)], [{ node: 'n1', at: ms(300) }]);
    expect(problems).toEqual([]);
    expect(report.clientToServer).toMatchObject({ rerunAfterKill: 1, rerunAfterKillMaxGapMs: 150, runTwice: 0, redelivered: 1, redeliveredFirstRuns: 0 });
  });

  it('counts a flagged run with no earlier run, and no problem', () => {
    const { report, problems } = judge([run(1, 'n0', 100), run(2, 'n0', 900, true), run(3, 'n0', 950)], [{ node: 'n1', at: ms(600) }]);
    expect(problems).toEqual([]);
    expect(report.clientToServer).toMatchObject({ redelivered: 1, redeliveredFirstRuns: 1, rerunAfterKill: 0 });
  });

  it.each([
    ['the earlier run was more than 250 ms before the kill', [run(2, 'n1', 150), run(2, 'n0', 900, true)], [{ node: 'n1', at: ms(450) }]],
    ['the kill was of another node', [run(2, 'n1', 150), run(2, 'n0', 900, true)], [{ node: 'n2', at: ms(600) }]],
    ['the re-run is not flagged', [run(2, 'n1', 150), run(2, 'n0', 900)], [{ node: 'n1', at: ms(600) }]],
    ['no node was killed', [run(2, 'n1', 150), run(2, 'n0', 900, true)], []],
    ['the kill came after the re-run', [run(2, 'n1', 150), run(2, 'n0', 400, true)], [{ node: 'n1', at: ms(600) }]],
  ] as const)('calls a repeat a problem when %s', (_, repeats, kills) => {
    const { report, problems } = judge([run(1, 'n0', 100), ...repeats, run(3, 'n0', 2100)], [...kills]);
    expect(report.clientToServer.runTwice).toBe(1);
    expect(problems).toEqual(['1 client→server emits whose handler ran twice (no node kill explains it)']);
  });

  it('in single mode, excuses an emit re-sent to the new session only when the server that first ran it was killed after', () => {
    const resync = client({ sessionId: 's2', ticks: { s1: [1, 2, 3], s2: [1, 2, 3] }, lostSessions: ['s1'], resyncReasons: ['unknown_session'], resent: 1 });
    const inS2 = (n: number, atMs: number): UpRun => ({ ...run(n, 'single', atMs), sid: 's2' });
    const killed = [{ node: 'single', at: ms(211) }];
    const excused = judge([run(1, 'single', 100), run(2, 'single', 200), inS2(2, 900), inS2(3, 950)], killed, 'single', resync);
    expect(excused.problems).toEqual([]);
    expect(excused.report.clientToServer).toMatchObject({ rerunAfterKill: 1, rerunAfterKillMaxGapMs: 11, runTwice: 0 });
    // No kill: the session was not lost with its server, so running it again is a repeat.
    expect(judge([run(1, 'single', 100), run(2, 'single', 200), inS2(2, 900), inS2(3, 950)], [], 'single', resync).problems).toHaveLength(1);
    // Re-sent to the new session but run again before the kill: a repeat.
    expect(judge([run(1, 'single', 100), run(2, 'single', 200), inS2(2, 205), inS2(3, 950)], killed, 'single', resync).problems).toHaveLength(1);
    // Within one session, a re-run is a repeat whatever the timing.
    expect(judge([run(1, 'single', 100), run(2, 'single', 200), run(2, 'single', 900), run(3, 'single', 950)], killed, 'single', resync).problems).toHaveLength(1);
  });

  it('allows no resync in cluster mode, and in single mode only announced ones', () => {
    const resynced = client({ ticks: { s0: [1, 2], s1: [1, 2, 3] }, lostSessions: ['s0'], resyncReasons: ['unknown_session'], resyncTrails: [{ atMs: 500, sid: 's0', recent: ['499 resync {}'] }] });
    const runs = [run(1, 'n0', 100), run(2, 'n0', 200), run(3, 'n0', 300)];
    expect(judge(runs, [], 'cluster', resynced).problems).toEqual(['1 resyncs in cluster mode {"unknown_session":1}']);
    expect(judge(runs, [], 'single', resynced).problems).toEqual([]);
    const unannounced = client({ ticks: { s0: [1, 2], s1: [1, 2, 3] } });
    expect(judge(runs, [], 'single', unannounced).problems).toEqual(['1 sessions lost without a resync']);
  });

  it('fails a run with lost, out-of-order or repeated numbers either way, unsettled requests or unexpected rejections', () => {
    const runs = [run(1, 'n0', 100), run(3, 'n0', 200)];
    const c = client({ ticks: { s1: [1, 3, 3] }, accepted: 3, pending: 1 });
    const { problems } = judge(runs, [], 'cluster', c, { timeout: 2, outbox_full: 1 });
    expect(problems).toEqual([
      '1 server→client messages lost',
      '1 server→client messages duplicated',
      '1 client→server emits lost',
      '1 requests never settled',
      '1 requests rejected with outbox_full',
    ]);
    expect(judge([run(2, 'n0', 100), run(1, 'n0', 200), run(3, 'n0', 300)], []).problems).toEqual(['1 client→server emits out of order']);
  });

  it('shows where to look: the first client that went wrong, the timeline, its sessions, and its emits by node and time', () => {
    const runs = [run(1, 'n0', 100), run(2, 'n1', 150), run(2, 'n0', 3000, true)];
    const kills = [{ node: 'n1', at: ms(2000) }];
    const c = client({ accepted: 4, recent: ['10 state {"state":"open"}', '900 state {"state":"reconnecting"}', '5000 state {"state":"closed"}'] });
    const { report } = judge(runs, kills, 'cluster', c);
    // A second client resynced later: its resync is shown too, with what the servers said of its lost session.
    const other = client({ id: 'c1', ticks: { s9: [1, 2, 3] }, sessionId: 's9', lostSessions: ['s8'], resyncReasons: ['unknown_session'], resyncTrails: [{ atMs: 2500, sid: 's8', recent: ['2490 reconnecting {}'] }] });
    report.wrong.push({ client: 'c1', what: 'resync (unknown_session)', atMs: 2500 });
    report.timeline = ['300 tcp reset (all connections)', '2000 n1 killed'];
    report.firstWrong = whereToLook({ report, clients: [c, other], upByClient: new Map([['c0', runs]]), kills, traces: new Map([['s1', ['2100 n0 resume refused (gone)']], ['s8', ['2400 n2 session ended: grace period over']]]), msOf: (us) => us / 1000 });
    const text = formatReport(report);
    expect(text).toContain('seed 7: FAIL');
    expect(text).toContain('first client that went wrong: c0 at 150 ms');
    expect(text).toContain('2000 n1 killed');
    // The client's events up to a second after it went wrong (at 150 ms), not its last ones.
    expect(text).toContain('900 state {"state":"reconnecting"}');
    expect(text).not.toContain('5000 state');
    expect(text).toContain('2100 n0 resume refused (gone)');
    expect(text).toContain('first client that resynced: c1');
    expect(text).toContain('c1: resync at 2500 ms, session s8 lost');
    expect(text).toContain('2400 n2 session ended: grace period over');
    expect(text).toContain('2 ran 2 times: n1 at 150 ms, n0 at 3000 ms (flagged redelivered)');
    expect(text).toContain('never ran: 3..4; 2 ran on n1 at 150 ms, n0 at 3000 ms (flagged redelivered); 5 ran on (not accepted)');
    expect(formatSummary([report])).toMatch(/^ *7 \| +1 \| +0 \| +1 \| +0 \| .*FAIL: 2 client→server emits lost$/m);
  });
});
